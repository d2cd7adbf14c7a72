"""``socialloop thread | responsetimes | advocates`` end to end (click's runner, real
workspace): output, JSON shapes, hostile text printed literally, errors with remedies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from socialloop.cli.conversation_cmds import duration
from socialloop.cli.main import cli
from socialloop.learn.pipeline import Pipeline
from socialloop.listen.importer import import_posts
from socialloop.workspace import Workspace
from tests.conftest import make_post, shared_file
from tests.test_conversations_advocates import Verdict

T0 = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
HOSTILE = "[bold red]pwned[/bold red] \x1b[31m @acmehelp"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    with Workspace.init(path) as ws:
        ws.add_brand("Acme", "acme", accounts=["acmehelp"])
        ws.add_brand("Rival", "rival", competitor=True, accounts=["rivalcare"])
        posts = [
            make_post("1", HOSTILE, handle="[i]ann[/i]", when=T0),
            make_post(
                "2",
                "@ann sorry! acme will fix it",
                handle="acmehelp",
                when=T0 + timedelta(minutes=10),
                parent_id="twitter:1",
            ),
            make_post(
                "3",
                "@ann love acme",
                handle="bob",
                when=T0 + timedelta(minutes=20),
                parent_id="twitter:2",
            ),
            make_post("4", "love acme latte", handle="bob", when=T0 + timedelta(days=1)),
            make_post("5", "@rivalcare hello?", handle="cy", when=T0 + timedelta(days=1)),
        ]
        import_posts(ws, posts)
        Pipeline([Verdict()]).run(ws.store)
    return path


def run(runner: CliRunner, root: Path, *args: str, code: int = 0) -> str:
    res = runner.invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == code, res.output
    return res.output


def test_thread_tree_marks_brand_replies_and_prints_text_literally(
    runner: CliRunner, root: Path
) -> None:
    out = run(runner, root, "thread", "twitter:3")
    assert "Thread twitter:1" in out and "3 stored posts, depth 2" in out
    assert "[bold red]pwned[/bold red]" in out  # markup in the text is not interpreted
    assert "twitter:[i]ann[/i]" in out
    assert "\x1b" not in out  # control characters replaced
    assert "[Acme] replied after 10m 00s" in out
    assert "answered by Acme after 10m 00s" in out
    assert "Acme: 1 of 1 conversations answered; first response after 10m 00s" in out


def test_thread_json_and_unknown_post(runner: CliRunner, root: Path) -> None:
    doc = orjson.loads(run(runner, root, "thread", "twitter:2", "--json"))
    assert doc["root_id"] == "twitter:1" and doc["focus"] == "twitter:2"
    assert doc["tree"]["text"] == HOSTILE
    assert doc["tree"]["children"][0]["reply_delay_s"] == 600
    assert doc["responses"][0]["group"] == "Acme"
    out = run(runner, root, "thread", "twitter:404", code=1)
    assert "no stored post with id 'twitter:404'" in out


def test_responsetimes_json_and_table(runner: CliRunner, root: Path) -> None:
    rows = orjson.loads(run(runner, root, "responsetimes", "--json"))
    by = {r["account"]: r for r in rows}
    assert set(by) == {"Acme", "Rival"}
    acme = by["Acme"]
    for key in ("account", "threads", "responded", "response_rate", "median_first_response_s"):
        assert key in acme
    assert (acme["threads"], acme["responded"], acme["median_first_response_s"]) == (1, 1, 600)
    assert (by["Rival"]["threads"], by["Rival"]["response_rate"]) == (1, 0.0)
    table = run(runner, root, "responsetimes", "--brand", "Rival")
    assert "Rival" in table and "0%" in table
    one = orjson.loads(run(runner, root, "responsetimes", "--account", "acmehelp", "--json"))
    assert [(r["account"], r["threads"]) for r in one] == [("acmehelp", 1)]
    late = orjson.loads(
        run(runner, root, "responsetimes", "--since", "2026-05-02", "--json", "--brand", "Acme")
    )
    assert late[0]["threads"] == 0 and late[0]["response_rate"] is None
    out = run(runner, root, "responsetimes", "--account", "x", "--brand", "Acme", code=2)
    assert "not both" in out


def test_advocates_text_and_json(runner: CliRunner, root: Path) -> None:
    doc = orjson.loads(run(runner, root, "advocates", "--brand", "Acme", "--json"))
    assert [(a["author_id"], a["polar_posts"]) for a in doc] == [("twitter:bob", 2)]
    assert [e["post_id"] for e in doc[0]["evidence"]] == ["twitter:4", "twitter:3"]
    out = run(runner, root, "advocates", "--brand", "Acme")
    assert "1. twitter:bob" in out and "2 positive of 2 posts" in out
    assert "love acme latte" in out
    none = run(runner, root, "advocates", "--brand", "Acme", "--detractors")
    assert "No detractors of Acme" in none
    run(runner, root, "advocates", "--brand", "Nobody", code=1)


def test_responsetimes_on_real_twcs(runner: CliRunner, tmp_path: Path) -> None:
    path = shared_file("twcs_customer_support", "twcs_head5000.csv")
    ws_dir = tmp_path / "twcs"
    assert runner.invoke(cli, ["init", str(ws_dir)]).exit_code == 0
    run(runner, ws_dir, "import", str(path), "--no-enrich")
    rows = orjson.loads(run(runner, ws_dir, "responsetimes", "--json", "--limit", "3"))
    assert [(r["account"], r["kind"], r["threads"], r["responded"]) for r in rows] == [
        ("twitter:chipotletweets", "company", 172, 172),
        ("twitter:amazonhelp", "company", 74, 64),
        ("twitter:applesupport", "company", 73, 71),
    ]
    apple = orjson.loads(
        run(runner, ws_dir, "responsetimes", "--account", "AppleSupport", "--json")
    )
    assert apple[0]["threads"] == 73 and apple[0]["median_first_response_s"] == 525.0


def test_duration() -> None:
    assert [duration(s) for s in (None, 42, 600, 7260, 2 * 86400 + 3 * 3600)] == [
        "-",
        "42s",
        "10m 00s",
        "2h 01m",
        "2d 03h",
    ]
