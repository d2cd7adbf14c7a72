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


def _sections(cmd: click.Command, name: str, parent: click.Context | None) -> list[str]:
    # real contexts (make_context), so settings such as help_option_names are inherited
    # exactly as when a user runs `--help`
    ctx = cmd.make_context(
        name, [], parent=parent, resilient_parsing=True, terminal_width=100, max_content_width=100
    )
    path = ctx.command_path
    level = "#" * min(path.count(" ") + 2, 4)
    out = [f"\n{level} `{path}`\n\n```text\n{cmd.get_help(ctx)}\n```\n"]
    if isinstance(cmd, click.Group):
        for sub in sorted(cmd.commands):
            out.extend(_sections(cmd.commands[sub], sub, ctx))
    return out


def render() -> str:
    return "".join([HEADER, *_sections(cli, "socialloop", None)])


if __name__ == "__main__":
    print(render(), end="")
