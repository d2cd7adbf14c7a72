"""Regressions from a QA pass over the command line (the user's view): bad input gets a clear
error with a remedy and no traceback, an empty answer is never a silent wrong answer, and what
the help says is what the command does. Real workspaces in tmp_path, in-process runner."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from socialloop.adapt.export import export_posts
from socialloop.cli.main import cli
from socialloop.errors import ExportError
from socialloop.workspace import Workspace
from tests._engage import T0, store_posts
from tests.conftest import make_post
from tests.test_adapt_alerts import _spiky
from tests.test_cli import run, sample_file


def fail(runner: CliRunner, root: Path, *args: str, code: int) -> Result:
    """Run a command that must fail with ``code`` and print no Python traceback."""
    res = runner.invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res


def _blocked(tmp_path: Path) -> Path:
    """A regular file: nothing can be written below it."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    return blocker


# -- writing files ------------------------------------------------------------------------------


def test_report_html_to_an_unwritable_path_is_an_error(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    res = fail(runner, root, "report", "--html", str(_blocked(tmp_path) / "r.html"), code=1)
    assert "cannot write" in res.output and "r.html" in res.output
    # a missing folder is created, as export and graph export do
    out = tmp_path / "new" / "dir" / "r.html"
    assert "Wrote the report" in run(runner, root, "report", "--html", str(out))
    assert out.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


def test_export_to_an_unwritable_path_is_an_error(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    run(runner, root, "import", str(sample_file(tmp_path)), "--no-progress", "--no-enrich")
    for fmt in ("csv", "jsonl"):
        res = fail(
            runner,
            root,
            "export",
            "--format",
            fmt,
            "--out",
            str(_blocked(tmp_path) / f"x.{fmt}"),
            code=1,
        )
        assert "cannot write" in res.output


def test_export_failing_at_the_rename_leaves_no_part_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    (target / "inside").mkdir(parents=True)  # a non-empty folder where the file should go
    posts = [make_post("1", "acme latte")]
    with pytest.raises(ExportError, match="cannot write"):
        export_posts(posts, target, "csv")
    assert not (tmp_path / "taken.part").exists()
    assert (target / "inside").is_dir()


def test_simulate_out_to_an_unwritable_path_is_an_error(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    out = _blocked(tmp_path) / "s.jsonl"
    res = fail(runner, root, "simulate", "--posts", "5", "--out", str(out), code=1)
    assert "cannot write" in res.output


# -- names and values ---------------------------------------------------------------------------


def test_a_brand_needs_a_name(root: Path, runner: CliRunner) -> None:
    for name in ("", "   "):
        res = fail(runner, root, "brand", "add", name, "--query", "acme", code=2)
        assert "a brand needs a name" in res.output
    assert orjson.loads(run(runner, root, "brand", "list", "--json")) == []
    assert "Added brand 'Acme'" in run(runner, root, "brand", "add", " Acme ", "-q", "acme")
    res = fail(runner, root, "brand", "edit", "Acme", "--name", " ", code=2)
    assert "'--name'" in res.output
    assert [b["name"] for b in orjson.loads(run(runner, root, "brand", "list", "--json"))] == [
        "Acme"
    ]


def test_agent_languages_are_language_codes(root: Path, runner: CliRunner) -> None:
    res = fail(runner, root, "agent", "add", "bob", "--languages", "english", code=1)
    assert "'english' is not a language code" in res.output
    run(runner, root, "agent", "add", "maria", "--languages", "ES, en")
    agents = orjson.loads(run(runner, root, "agent", "list", "--json"))
    assert [(a["name"], a["languages"]) for a in agents] == [("maria", ["es", "en"])]


def test_inbox_rules_set_blames_the_value_not_the_settings_file(
    root: Path, runner: CliRunner
) -> None:
    before = (root / "socialloop.toml").read_text()
    for key, value in (("spike_k", "abc"), ("nope", "1"), ("intents", "question,bogus")):
        res = fail(runner, root, "inbox", "rules", "set", key, value, code=2)
        assert "Fix socialloop.toml" not in res.output
        assert "socialloop inbox rules" in res.output
    assert (root / "socialloop.toml").read_text() == before
    assert run(runner, root, "inbox", "rules", "set", "spike_k", "2.5").strip() == "spike_k = 2.5"


def test_lang_filter_needs_a_language_code(root: Path, runner: CliRunner) -> None:
    res = fail(runner, root, "search", "lang:english", code=1)
    assert "language code" in res.output and "^" in res.output
    assert run(runner, root, "search", "--count", "lang:en").strip() == "0"


def test_out_of_range_numbers_are_refused(root: Path, runner: CliRunner) -> None:
    run(runner, root, "brand", "add", "Acme", "-q", "acme")
    fail(runner, root, "advocates", "--brand", "Acme", "--limit", "0", code=2)
    fail(runner, root, "advocates", "--brand", "Acme", "--evidence", "-1", code=2)
    fail(runner, root, "responsetimes", "--limit", "0", code=2)
    fail(runner, root, "inbox", "list", "--limit", "-1", code=2)
    fail(runner, root, "inbox", "log", "--limit", "0", code=2)
    fail(runner, root, "serve", "--port", "99999", code=2)
    res = fail(runner, root, "influencers", "--topic", "abc", code=2)
    assert "'--topic'" in res.output


# -- dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("search",),
        ("export", "--format", "csv", "--out", "{tmp}/x.csv"),
        ("sov",),
        ("report", "--json"),
        ("inbox", "stats"),
        ("graph", "build"),
    ],
)
def test_an_empty_date_span_is_a_usage_error(
    root: Path, runner: CliRunner, tmp_path: Path, command: tuple[str, ...]
) -> None:
    args = [a.format(tmp=tmp_path) for a in command]
    res = fail(runner, root, *args, "--since", "2026-05-10", "--until", "2026-05-01", code=2)
    assert "is not after --since" in res.output
    assert not (tmp_path / "x.csv").exists()


def test_a_bad_date_names_its_option(root: Path, runner: CliRunner) -> None:
    res = fail(runner, root, "search", "--since", "yesterday", code=2)
    assert "--since" in res.output and "'yesterday' is not an ISO date" in res.output
    res = fail(runner, root, "spikes", "--at", "noon", code=2)
    assert "--at" in res.output
    # one day is a valid span: --until is inclusive
    run(runner, root, "search", "--since", "2026-05-01", "--until", "2026-05-01")


# -- the inbox ------------------------------------------------------------------------------------


def _inbox(ws: Workspace) -> Path:
    ws.add_brand("Acme", "acme")
    store_posts(
        ws,
        [
            (make_post("1", "acme where is my order?", when=T0), {"intent": ["question"]}),
            (
                make_post("2", "acme you ruined my weekend", when=T0, handle="bob"),
                {"intent": ["complaint"], "sentiment": "negative"},
            ),
        ],
    )
    root = ws.settings.root
    assert orjson.loads(run(CliRunner(), root, "inbox", "triage", "--json"))["added"] == 2
    return root


def test_inbox_list_names_are_checked(ws: Workspace, runner: CliRunner) -> None:
    root = _inbox(ws)
    res = fail(runner, root, "inbox", "list", "--brand", "Nope", code=1)
    assert "no brand named 'Nope'" in res.output and "socialloop brand list" in res.output
    res = fail(runner, root, "inbox", "list", "--assignee", "nobody", code=1)
    assert "no agent named 'nobody'" in res.output
    res = fail(runner, root, "inbox", "stats", "--brand", "Nope", code=1)
    assert "no brand named 'Nope'" in res.output
    # brand names match as everywhere else (case-insensitively)
    listed = orjson.loads(run(runner, root, "inbox", "list", "--brand", "acme", "--json"))
    assert len(listed) == 2
    stats = orjson.loads(run(runner, root, "inbox", "stats", "--brand", "acme", "--json"))
    assert stats["overall"]["items"] == 2


def test_inbox_list_with_no_match_does_not_call_the_inbox_empty(
    ws: Workspace, runner: CliRunner
) -> None:
    root = _inbox(ws)
    out = run(runner, root, "inbox", "list", "--status", "resolved")
    assert "No inbox items match." in out and "inbox is empty" not in out
    run(runner, root, "agent", "add", "maria")
    out = run(runner, root, "inbox", "list", "--assignee", "maria")
    assert "No inbox items match" in out and "--status all" in out


def test_inbox_log_limit_keeps_the_newest_entries(root: Path, runner: CliRunner) -> None:
    for name in ("ann", "ben", "cid"):
        run(runner, root, "agent", "add", name)
    log = orjson.loads(run(runner, root, "inbox", "log", "--limit", "2", "--json"))
    assert [e["details"]["name"] for e in log] == ["ben", "cid"]  # newest two, oldest first
    out = run(runner, root, "inbox", "log", "--limit", "1")
    assert "agent.add" in out and "item=None" not in out


# -- LEARN / ADAPT messages -----------------------------------------------------------------------


def test_topics_build_on_too_few_posts_does_not_contradict_itself(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    run(runner, root, "import", str(sample_file(tmp_path)), "--no-progress")
    out = run(runner, root, "topics", "--build")
    assert "Not enough embedded posts" in out and "at least 200 are needed" in out
    assert "Build them with `socialloop topics --build`" not in out
    res = runner.invoke(cli, ["topics", "--build", "--json", "--workspace", str(root)])
    assert res.exit_code == 0 and orjson.loads(res.stdout) == []  # the reason is on stderr


def test_help_says_what_the_commands_need(runner: CliRunner) -> None:
    res = runner.invoke(cli, ["eval", "--help"])
    assert "eval [OPTIONS] TASK\n" in res.output
    assert "purchase-intent" in res.output
    res = runner.invoke(cli, ["eval", "sarcasm", "--data", "."])
    assert res.exit_code == 2 and "Invalid value for 'TASK'" in res.output
    res = runner.invoke(cli, ["report", "--help"])
    assert "--html FILE or print it with --json" in " ".join(res.output.split())


def test_sov_without_brands_says_how_to_add_one(root: Path, runner: CliRunner) -> None:
    assert "socialloop brand add" in run(runner, root, "sov")


def test_alerts_dry_run_says_where_alerts_would_go(ws: Workspace, runner: CliRunner) -> None:
    _spiky(ws)
    root = ws.settings.root
    args = ("alerts", "check", "--dry-run", "--at", "2026-05-09T00:00")
    out = run(runner, root, *args)
    assert "Acme|volume" in out and "no channel in [alerts]" in out
    with (root / "socialloop.toml").open("a", encoding="utf-8") as fh:
        fh.write('\n[alerts]\nwebhooks = ["https://hooks.example.com/services/T0/B0/x"]\n')
    out = run(runner, root, *args)
    assert "(webhook:hooks.example.com)" in out and "no channel" not in out
    assert "No alerts yet" in run(runner, root, "alerts", "list")  # a dry run stores nothing


# -- init -----------------------------------------------------------------------------------------


def test_init_whose_store_fails_leaves_no_half_workspace(tmp_path: Path, runner: CliRunner) -> None:
    target = tmp_path / "team"
    res = runner.invoke(cli, ["init", str(target), "--database-url", "nosuchdb://x"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "No workspace was created" in res.output and "--database-url" in res.output
    assert not (target / "socialloop.toml").exists()
    res = runner.invoke(cli, ["init", str(target)])
    assert res.exit_code == 0, res.output
    assert (target / "socialloop.db").is_file()


def test_an_unknown_reply_says_where_reply_ids_are(root: Path, runner: CliRunner) -> None:
    res = fail(runner, root, "inbox", "send", "99", code=1)
    assert "no reply 99" in res.output and "inbox show ITEM" in res.output


def test_an_empty_file_is_called_empty(root: Path, runner: CliRunner, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    out = runner.invoke(cli, ["import", str(empty), "--no-enrich", "--workspace", str(root)])
    assert "empty.csv: 0 posts read, 0 rejected (the file is empty)" in out.output
