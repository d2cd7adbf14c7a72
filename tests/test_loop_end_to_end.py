"""The whole loop through the CLI: LISTEN (a local Mastodon server) -> LEARN (enrichment)
-> ENGAGE (the inbox) -> ADAPT (the report), with the brand's own account answering."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner

from socialloop.cli.main import cli
from tests._listen_fakes import FakeMastodon, serve, status


def run(runner: CliRunner, root: Path, *args: str) -> str:
    res = runner.invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == 0, res.output
    return res.output


def test_a_complaint_heard_live_reaches_the_inbox_within_one_poll(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "acme"
    assert runner.invoke(cli, ["init", str(root)]).exit_code == 0
    run(runner, root, "brand", "add", "Acme", "--query", "acme", "--account", "acmehelp")
    fake = FakeMastodon(
        statuses=[
            status(1, "<p>Lovely sunny morning with friends</p>", user="bob"),
            status(2, "<p>My Acme order never arrived, I want a refund now. Terrible!</p>"),
            status(3, "<p>Does Acme deliver to Tampere? How long?</p>", user="cat"),
            status(4, "<p>Acme here: we are on it, sorry!</p>", user="acmehelp"),
        ]
    )
    with serve(fake) as base:
        run(runner, root, "source", "add", "tag", "--connector", "mastodon", "--instance", base,
            "--hashtag", "coffee", "--per-minute", "6000")  # fmt: skip
        out = run(runner, root, "listen", "--once")
    assert "new 4" in out
    items = orjson.loads(run(runner, root, "inbox", "list", "--json"))
    texts = {item["post_id"]: item for item in items}
    assert len(items) == 2, items  # the complaint and the question; not chit-chat, not our own
    reasons = {r for item in items for r in item["reasons"]}
    assert any("complaint" in r for r in reasons) and any("question" in r for r in reasons)
    assert all(item["brand"] == "Acme" and item["status"] == "new" for item in items)
    assert not any("acmehelp" in pid for pid in texts)
    doc = orjson.loads(run(runner, root, "report", "--brand", "Acme", "--json"))
    assert doc["share_of_voice"]["brands"][0]["mentions"] == 3  # incl. the brand's own reply
    assert doc["roadmap"]["needs"] == 2 and doc["roadmap"]["unanswered"] == 2
