"""Generate docs/cli.md from the commands' own ``--help`` (a test fails when it is stale).

Run ``python -m socialloop.cli.docs > docs/cli.md`` after changing a command.
"""

from __future__ import annotations

import click

from socialloop.cli.main import cli

HEADER = """\
# CLI reference

Generated from `socialloop --help` by `python -m socialloop.cli.docs > docs/cli.md`;
`tests/test_cli_docs.py` fails when this file is stale. Do not edit by hand.
"""


def _walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    out = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            out.extend(_walk(cmd.commands[name], [*path, name]))
    return out


def render() -> str:
    parts = [HEADER]
    for path, cmd in _walk(cli, ["socialloop"]):
        with click.Context(cmd, info_name=" ".join(path), terminal_width=100) as ctx:
            help_text = cmd.get_help(ctx)
        level = "#" * min(len(path) + 1, 4)
        parts.append(f"\n{level} `{' '.join(path)}`\n\n```text\n{help_text}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
