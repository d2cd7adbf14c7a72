"""Run every benchmark in this folder; each prints one JSON object per line on stdout.

Usage: python benchmarks/run.py [--posts N]
Without --posts each benchmark runs at its own scale (1,000,000 posts for import, search,
the simulator, the graph and response times; 100,000 for enrichment).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=None)
    args = parser.parse_args()
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        extra = ["--posts", str(args.posts)] if args.posts is not None else []
        proc = subprocess.run([sys.executable, str(script), *extra], text=True, check=False)
        status = status or proc.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
