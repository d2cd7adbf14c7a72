"""The CLI end to end (in-process with click's runner, real workspace and store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def run(runner: CliRunner, root: Path, *args: str, code: int = 0) -> str:
    res = runner.invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == code, res.output
    return res.output


def sample_file(tmp_path: Path) -> Path:
    lines = [
        make_post("1", "Acme latte was cold again #fail", handle="ann", when=T0),
        make_post("2", "Loving the new Acmé espresso!", handle="bob", when=T0 + timedelta(days=1)),
        make_post(
            "3", "Rival coffee is better than acme", handle="cy", when=T0 + timedelta(days=2)
        ),
        make_post("4", "nothing to see here", handle="dee", when=T0 + timedelta(days=3)),
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(orjson.dumps(p.to_dict()) + b"\n" for p in lines))
    return path


def test_init_creates_settings_and_store(root: Path) -> None:
    assert (root / "socialloop.toml").is_file()
    assert (root / "socialloop.db").is_file()


def test_init_twice_is_refused_with_advice(root: Path, runner: CliRunner) -> None:
    res = runner.invoke(cli, ["init", str(root)])
    assert res.exit_code == 1
    assert "already exists" in res.output


def test_outside_a_workspace_says_how_to_create_one(tmp_path: Path, runner: CliRunner) -> None:
    res = runner.invoke(cli, ["search", "x", "--workspace", str(tmp_path / "nowhere")])
    assert res.exit_code == 1
    assert "socialloop init" in res.output


def test_workspace_from_environment(root: Path, runner: CliRunner) -> None:
    res = runner.invoke(cli, ["brand", "list"], env={"SOCIALLOOP_WORKSPACE": str(root)})
    assert res.exit_code == 0
    assert "No brands yet" in res.output


def test_brand_lifecycle_and_rematch(root: Path, runner: CliRunner, tmp_path: Path) -> None:
    run(runner, root, "import", str(sample_file(tmp_path)))
    out = run(runner, root, "brand", "add", "Acme", "--query", "acme", "--values", "warm")
    assert "3 stored posts match" in out
    run(runner, root, "brand", "add", "Rival", "--query", "rival", "--competitor")
    listed = orjson.loads(run(runner, root, "brand", "list", "--json"))
    assert [(b["name"], b["competitor"], b["posts"]) for b in listed] == [
        ("Acme", False, 3),
        ("Rival", True, 1),
    ]
    out = run(runner, root, "brand", "edit", "Acme", "--query", "acme AND NOT rival")
    assert "2 stored posts match" in out
    shown = orjson.loads(run(runner, root, "brand", "show", "acme", "--json"))
    assert shown["query"] == "acme AND NOT rival" and shown["posts"] == 2
    assert shown["values"] == "warm"
    run(runner, root, "brand", "remove", "Rival", "--yes")
    assert "Rival" not in run(runner, root, "brand", "list")
    res = runner.invoke(cli, ["brand", "show", "Nope", "--workspace", str(root)])
    assert res.exit_code == 1 and "brand list" in res.output


def test_bad_brand_query_is_rejected_with_its_column(root: Path, runner: CliRunner) -> None:
    res = runner.invoke(cli, ["brand", "add", "X", "--query", "(acme OR", "--workspace", str(root)])
    assert res.exit_code == 1
    assert "col " in res.output
    assert "^" in res.output


def test_search_formats_and_count(root: Path, runner: CliRunner, tmp_path: Path) -> None:
    run(runner, root, "import", str(sample_file(tmp_path)))
    assert run(runner, root, "search", "acme", "--count").strip() == "3"
    assert run(runner, root, "search", "acme", "--count", "--since", "2026-05-02").strip() == "2"
    assert run(runner, root, "search", "acme", "--count", "--until", "2026-05-02").strip() == "2"
    lines = run(runner, root, "search", "acme", "--format", "jsonl").splitlines()
    ids = [orjson.loads(line)["id"] for line in lines]
    assert ids == ["twitter:3", "twitter:2", "twitter:1"]  # newest first
    csv_out = run(runner, root, "search", "#fail", "--format", "csv")
    assert csv_out.splitlines()[0].startswith("id,network,created_at")
    assert "twitter:1" in csv_out and "twitter:2" not in csv_out
    table = run(runner, root, "search", "espresso")
    assert "bob" in table


def test_search_with_a_bad_date_explains(root: Path, runner: CliRunner) -> None:
    res = runner.invoke(cli, ["search", "x", "--since", "yesterday", "--workspace", str(root)])
    assert res.exit_code == 2
    assert "ISO date" in res.output


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_export_round_trip(root: Path, runner: CliRunner, tmp_path: Path, fmt: str) -> None:
    run(runner, root, "import", str(sample_file(tmp_path)))
    out = tmp_path / f"out.{fmt}"
    msg = run(runner, root, "export", "--format", fmt, "--out", str(out), "acme")
    assert "Exported 3 posts" in msg
    if fmt == "jsonl":
        ids = {orjson.loads(line)["id"] for line in out.read_bytes().splitlines()}
    elif fmt == "csv":
        import csv

        with out.open(newline="", encoding="utf-8") as fh:
            ids = {row["id"] for row in csv.DictReader(fh)}
    else:
        import pyarrow.parquet as pq

        ids = set(pq.read_table(out).column("id").to_pylist())
    assert ids == {"twitter:1", "twitter:2", "twitter:3"}


def test_import_of_nothing_readable_exits_non_zero(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("garbage\n")
    res = runner.invoke(cli, ["import", str(bad), "--workspace", str(root)])
    assert res.exit_code == 1


def test_import_enriches_and_status_shows_sentiment_toward_brands(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    run(runner, root, "brand", "add", "Acme", "--query", "acme")
    out = run(runner, root, "import", str(sample_file(tmp_path)))
    assert "sentiment v6: 4 posts" in out
    doc = orjson.loads(run(runner, root, "status", "--json"))
    toward = doc["brands"][0]["sentiment"]
    assert sum(toward.values()) == 3  # the three posts that mention Acme
    assert run(runner, root, "search", "--count", "lang:en").strip() == "4"
    assert int(run(runner, root, "search", "--count", "sentiment:negative")) >= 1
    out = run(runner, root, "import", str(sample_file(tmp_path)), "--no-enrich")
    assert "Enriched" not in out


def test_status_reports_counts(root: Path, runner: CliRunner, tmp_path: Path) -> None:
    run(runner, root, "import", str(sample_file(tmp_path)))
    doc = orjson.loads(run(runner, root, "status", "--json"))
    assert doc["posts"] == 4 and doc["authors"] == 4
    assert doc["brands"] == []
    assert doc["runs"][0]["status"] == "completed"


def test_topics_build_list_and_filter(root: Path, runner: CliRunner) -> None:
    out = run(runner, root, "topics")
    assert "No topics yet" in out
    run(runner, root, "simulate", "--posts", "600", "--seed", "3")
    doc = orjson.loads(run(runner, root, "topics", "--build", "--k", "5", "--json"))
    assert len(doc) == 5
    assert sum(t["size"] for t in doc) == 600
    assert all(" / " in t["label"] for t in doc)
    first = doc[0]
    assert int(run(runner, root, "search", "--count", f"topic:{first['id']}")) == first["size"]


def test_remedies_name_the_listing_of_what_was_not_found(tmp_path: Path) -> None:
    from socialloop.cli.app import remedy
    from socialloop.errors import AlreadyExists, NotFound

    assert "socialloop brand list" in remedy(NotFound("no brand named 'x'"))
    assert "socialloop search" in remedy(NotFound("no post 'twitter:1' in the store"))
    assert "socialloop source list" in remedy(NotFound("no source named 'feed'"))
    assert "brand" not in remedy(NotFound("no source named 'feed'"))
    assert "socialloop brand list" in remedy(AlreadyExists("a brand named 'Acme' already exists"))


def test_error_messages_quoting_user_input_are_not_read_as_markup(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(cli, ["init", str(ws)]).exit_code == 0
    res = runner.invoke(cli, ["brand", "show", "[bold]x[/bold]", "--workspace", str(ws)])
    assert res.exit_code == 1
    assert "[bold]x[/bold]" in res.output


def test_enrich_dry_run_counts_new_and_outdated_posts_without_running(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:

    from socialloop.store.enrich_rows import mark_stale
    from socialloop.workspace import Workspace

    run(runner, root, "import", str(sample_file(tmp_path)), "--no-enrich")
    out = run(runner, root, "enrich", "--dry-run")
    assert "4 posts stored" in out
    assert "language v" in out and "intent v" in out and ": 4 posts" in out
    out = run(runner, root, "search", "--count", "sentiment:negative")
    assert out.strip() == "0"  # nothing was enriched by the dry run
    run(runner, root, "enrich")
    assert int(run(runner, root, "search", "--count", "sentiment:negative")) >= 1
    out = run(runner, root, "enrich", "--dry-run")
    assert "Every step is up to date." in out and ": 4 posts" not in out
    # an upgrade that changes the intent step's version: its stored results are outdated
    with Workspace.open(root) as ws, ws.store.begin() as conn:
        mark_stale(conn, ["intent"])
    out = run(runner, root, "enrich", "--dry-run", "--steps", "language,sentiment,intent")
    assert "intent v8: 4 posts" in out
    assert "sentiment v6: 0 posts (up to date)" in out
    assert "Run `socialloop enrich` without --dry-run" in out
