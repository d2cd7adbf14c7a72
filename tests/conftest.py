"""Shared fixtures: a temporary workspace on the real SQLite store, post factories, and the
location of ../shared (tests that need it skip with a clear reason when it is absent)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from socialloop.models import Author, Post

if TYPE_CHECKING:
    from socialloop.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


def shared_file(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test saying why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared/data is not beside the repository)")
    return path


@pytest.fixture
def runner() -> CliRunner:
    """The CLI, invoked in process."""
    return CliRunner()


@pytest.fixture
def root(tmp_path: Path, runner: CliRunner) -> Path:
    """A fresh workspace made by ``socialloop init`` (its directory)."""
    from socialloop.cli.main import cli

    ws = tmp_path / "acme"
    res = runner.invoke(cli, ["init", str(ws)])
    assert res.exit_code == 0, res.output
    return ws


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    from socialloop.workspace import Workspace

    workspace = Workspace.init(tmp_path / "ws")
    try:
        yield workspace
    finally:
        workspace.close()


def make_post(
    native_id: str,
    text: str,
    *,
    network: str = "twitter",
    handle: str = "alice",
    when: datetime | None = None,
    **kw: Any,
) -> Post:
    """A post for tests; hashtags/mentions/links default to what the text contains."""
    from socialloop.textutil import extract_hashtags, extract_links, extract_mentions

    kw.setdefault("hashtags", extract_hashtags(text))
    kw.setdefault("mentions", extract_mentions(text))
    kw.setdefault("links", extract_links(text))
    followers = kw.pop("followers", None)
    return Post(
        network=network,
        native_id=native_id,
        text=text,
        created_at=when or datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        author=Author(network=network, handle=handle, followers=followers),
        **kw,
    )
