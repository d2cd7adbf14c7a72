"""Run every benchmark in this folder; each prints one JSON object per line on stdout.

Usage: python benchmarks/run.py [--posts N]   (default 1,000,000 posts)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=1_000_000)
    args = parser.parse_args()
    status = 0
    for script in sorted(HERE.glob("bench_*.py")):
        proc = subprocess.run(
            [sys.executable, str(script), "--posts", str(args.posts)], text=True, check=False
        )
        status = status or proc.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
