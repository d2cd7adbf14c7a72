"""docs/cli.md is generated from --help; this fails when it is stale."""

from __future__ import annotations

from socialloop.cli.docs import render
from tests.conftest import REPO


def test_cli_reference_is_current() -> None:
    current = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == render(), "docs/cli.md is stale: run `make docs`"


def test_every_command_is_documented() -> None:
    text = render()
    for cmd in (
        "init",
        "status",
        "brand add",
        "brand edit",
        "import",
        "search",
        "export",
        "simulate",
    ):
        assert f"`socialloop {cmd}`" in text
