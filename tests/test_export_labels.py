"""Exports and searches carry what LEARN computed: the labels in each format equal what the
query language selects (``sentiment:negative`` ...), the sentiment toward each brand is there
for brand posts, ``--no-labels`` gives the old columns, ``--out -`` writes to standard output.

A real workspace (tmp_path), posts imported through the CLI and enriched by the default
pipeline (the import runs it), one more post imported with ``--no-enrich``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from socialloop.store import labels as labels_module
from socialloop.store.labels import NO_LABELS, Labels, labels_for
from socialloop.workspace import Workspace
from tests import _postgres
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)

# The columns every CSV export had before labels (their order is part of the contract).
OLD_CSV = [
    "id",
    "network",
    "created_at",
    "author",
    "lang",
    "text",
    "url",
    "parent_id",
    "root_id",
    "likes",
    "reshares",
    "replies",
    "views",
    "hashtags",
    "mentions",
    "links",
]
LABEL_CSV = [
    "detected_lang",
    "sentiment",
    "emotion",
    "emotions",
    "intent",
    "moment",
    "stage",
    "topic",
    "brand_sentiment",
]
OLD_PARQUET = [
    "id",
    "network",
    "native_id",
    "created_at",
    "author",
    "author_name",
    "followers",
    "lang",
    "text",
    "url",
    "parent_id",
    "root_id",
    "reshare_of",
    "quote_of",
    "likes",
    "reshares",
    "replies",
    "views",
    "hashtags",
    "mentions",
    "links",
]

TEXTS = [
    "Acme latte was cold again #fail, the worst service ever",
    "Loving the new Acme espresso! Best coffee in town, thank you",
    "Rival coffee is so much better than acme",
    "Where can I buy the Acme grinder? Is it worth the price?",
    "My Acme order never arrived and support ignores me. I want a refund now!",
    "nothing to see here",
    "Le café Acme est vraiment délicieux, merci",
    "Rival beans are awful and overpriced, never again",
    "I'm thinking about switching to Rival, any recommendations?",
    "Acme and Rival both opened a shop on my street today",
    "so angry at @acme right now, third broken machine this year",
    "Happy Monday everyone, sunshine and good coffee",
]
LATE = "twitter:late"  # imported with --no-enrich: never enriched


def run(runner: CliRunner, root: Path, *args: str, code: int = 0) -> str:
    res = runner.invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == code, res.output
    return res.output


def stdout_of(root: Path, *args: str) -> bytes:
    """Standard output alone (click's runner keeps stderr apart)."""
    res = CliRunner().invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == 0, res.output
    return res.stdout_bytes


def _write_jsonl(path: Path, posts: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(p.to_dict()) + b"\n" for p in posts))
    return path


def build(root: Path, *init: str) -> Path:
    """A workspace with two brands, twelve enriched posts and one never enriched."""
    runner = CliRunner()
    res = runner.invoke(cli, ["init", str(root), *init])
    assert res.exit_code == 0, res.output
    run(runner, root, "brand", "add", "Acme", "--query", "acme")
    run(runner, root, "brand", "add", "Rival", "--query", "rival", "--competitor")
    posts = [
        make_post(str(i), text, handle=f"user{i}", when=T0 + timedelta(hours=i))
        for i, text in enumerate(TEXTS)
    ]
    out = run(runner, root, "import", str(_write_jsonl(root.parent / "a.jsonl", posts)))
    assert "Enriched" in out
    late = make_post("late", "Acme opened late today", when=T0 + timedelta(days=2))
    run(runner, root, "import", str(_write_jsonl(root.parent / "b.jsonl", [late])), "--no-enrich")
    return root


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("labels") / "ws")


@pytest.fixture(scope="module")
def workspace(root: Path) -> Iterator[Workspace]:
    ws = Workspace.open(root)
    try:
        yield ws
    finally:
        ws.close()


def ids_of(ws: Workspace, query: str) -> set[str]:
    return {p.id for p in ws.search(query, limit=None)}


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    rows = list(reader)
    return list(reader.fieldnames or []), rows


def export(root: Path, tmp_path: Path, fmt: str, *args: str) -> Path:
    out = tmp_path / f"out.{fmt}"
    msg = run(CliRunner(), root, "export", "--format", fmt, "--out", str(out), *args)
    assert f"Exported 13 posts to {out}" in msg
    return out


def test_csv_label_columns_select_what_the_query_language_selects(
    root: Path, workspace: Workspace, tmp_path: Path
) -> None:
    header, rows = read_csv(export(root, tmp_path, "csv").read_bytes())
    assert header == OLD_CSV + LABEL_CSV  # old columns first, unchanged
    by_id = {r["id"]: r for r in rows}
    assert len(by_id) == 13
    enriched = [r for r in rows if r["id"] != LATE]
    for field in ("sentiment", "moment", "stage", "topic"):
        values = {r[field] for r in enriched}
        assert "" not in values  # every enriched post has one
        for value in values:
            exported = {r["id"] for r in rows if r[field] == value}
            assert exported == ids_of(workspace, f"{field}:{value}"), (field, value)
    for value in {r["detected_lang"] for r in enriched}:
        exported = {r["id"] for r in rows if r["detected_lang"] == value}
        assert exported == ids_of(workspace, f"lang:{value}"), value
    intents = {x for r in rows for x in r["intent"].split()}
    assert intents  # the texts ask, complain and praise
    for value in intents:
        exported = {r["id"] for r in rows if value in r["intent"].split()}
        assert exported == ids_of(workspace, f"intent:{value}"), value
    emotions = {x for r in rows for x in r["emotions"].split()}
    for value in emotions:
        exported = {r["id"] for r in rows if value in r["emotions"].split()}
        assert exported == ids_of(workspace, f"emotion:{value}"), value
    assert {r["id"] for r in rows if r["emotion"] == "none"} == ids_of(workspace, "emotion:none")
    for r in enriched:  # the top emotion is one of those over threshold, or none
        assert r["emotion"] == "none" or r["emotion"] in r["emotions"].split()
    # the post never enriched has empty label columns, its post columns as always
    late = by_id[LATE]
    assert all(late[c] == "" for c in LABEL_CSV)
    assert late["text"] == "Acme opened late today"


def test_brand_sentiment_is_there_for_every_scored_brand_post(
    root: Path, workspace: Workspace, tmp_path: Path
) -> None:
    _, rows = read_csv(export(root, tmp_path, "csv").read_bytes())
    toward: dict[str, dict[str, str]] = {}
    for r in rows:
        pairs = (
            [p.split("=") for p in r["brand_sentiment"].split("; ")] if r["brand_sentiment"] else []
        )
        brands = [b for b, _ in pairs]
        assert brands == sorted(brands)  # brands in name order
        toward[r["id"]] = dict(pairs)
    status = orjson.loads(run(CliRunner(), root, "status", "--json"))
    for brand in ("Acme", "Rival"):
        scored = {i for i, t in toward.items() if brand in t}
        assert scored == ids_of(workspace, f'"{brand}"') - {LATE}, brand
        counts: dict[str, int] = {}
        for t in toward.values():
            if brand in t:
                counts[t[brand]] = counts.get(t[brand], 0) + 1
        shown = next(b for b in status["brands"] if b["name"] == brand)["sentiment"]
        assert counts == {k: v for k, v in shown.items() if v}, brand
    both = toward["twitter:9"]  # "Acme and Rival both opened a shop ..."
    assert set(both) == {"Acme", "Rival"}
    assert toward[LATE] == {} and toward["twitter:5"] == {}  # never scored / no brand


def test_jsonl_labels_object_equals_the_csv_columns(root: Path, tmp_path: Path) -> None:
    _, rows = read_csv(export(root, tmp_path, "csv").read_bytes())
    by_id = {r["id"]: r for r in rows}
    lines = export(root, tmp_path, "jsonl").read_bytes().splitlines()
    assert len(lines) == 13
    for line in lines:
        doc = orjson.loads(line)
        labels = doc["labels"]
        row = by_id[doc["id"]]
        if doc["id"] == LATE:
            assert labels == {}  # nothing computed: no keys
            continue
        assert set(labels) - {"brand_sentiment"} == {
            "lang",
            "sentiment",
            "emotion",
            "emotions",
            "intent",
            "moment",
            "stage",
            "topic",
        }
        assert labels["lang"] == row["detected_lang"]
        for field in ("sentiment", "emotion", "moment", "stage", "topic"):
            assert labels[field] == row[field]
        for field in ("emotions", "intent"):
            assert isinstance(labels[field], list)
            assert " ".join(labels[field]) == row[field]
        expected = "; ".join(f"{b}={s}" for b, s in labels.get("brand_sentiment", {}).items())
        assert expected == row["brand_sentiment"]
        assert ("brand_sentiment" in labels) == bool(row["brand_sentiment"])


def test_labelled_jsonl_still_imports(root: Path, tmp_path: Path) -> None:
    """The JSONL export stays the native import format (the labels object is ignored)."""
    src = export(root, tmp_path, "jsonl")
    other = tmp_path / "other"
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(other)]).exit_code == 0
    out = run(runner, other, "import", str(src), "--no-enrich")
    assert "new 13" in out and "rejected 0" in out


def test_parquet_has_typed_label_columns(root: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet export needs pyarrow")
    import pyarrow as pa

    table = pq.read_table(export(root, tmp_path, "parquet"))
    assert table.column_names == [*OLD_PARQUET, *LABEL_CSV]
    schema = table.schema
    assert schema.field("sentiment").type == pa.string()
    assert schema.field("intent").type == pa.list_(pa.string())
    assert schema.field("emotions").type == pa.list_(pa.string())
    assert pa.types.is_map(schema.field("brand_sentiment").type)
    lines = export(root, tmp_path, "jsonl").read_bytes().splitlines()
    want = {orjson.loads(x)["id"]: orjson.loads(x)["labels"] for x in lines}
    for row in table.to_pylist():
        labels = want[row["id"]]
        if row["id"] == LATE:  # null: not computed
            assert all(row[c] is None for c in LABEL_CSV[:-1])
            assert row["brand_sentiment"] == []
            continue
        assert row["detected_lang"] == labels["lang"]
        for field in ("sentiment", "emotion", "emotions", "intent", "moment", "stage", "topic"):
            assert row[field] == labels[field], field
        assert dict(row["brand_sentiment"]) == labels.get("brand_sentiment", {})


def test_no_labels_gives_the_old_columns(root: Path, tmp_path: Path) -> None:
    header, rows = read_csv(export(root, tmp_path, "csv", "--no-labels").read_bytes())
    assert header == OLD_CSV and len(rows) == 13
    for line in export(root, tmp_path, "jsonl", "--no-labels").read_bytes().splitlines():
        assert "labels" not in orjson.loads(line)
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet export needs pyarrow")
    assert pq.read_table(export(root, tmp_path, "parquet", "--no-labels")).column_names == (
        OLD_PARQUET
    )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_out_dash_writes_to_standard_output(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        cli,
        ["export", "sentiment:negative", "--format", fmt, "--out", "-", "--workspace", str(root)],
    )
    assert res.exit_code == 0, res.output
    assert not (tmp_path / "-").exists()
    file = tmp_path / f"neg.{fmt}"
    run(CliRunner(), root, "export", "sentiment:negative", "--format", fmt, "--out", str(file))
    assert res.stdout_bytes == file.read_bytes()  # the same bytes, nothing else on stdout
    assert b"sentiment" in res.stdout_bytes
    assert "to standard output" in res.stderr


def test_parquet_to_standard_output_asks_for_a_file(root: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli, ["export", "--format", "parquet", "--out", "-", "--workspace", str(root)]
    )
    assert res.exit_code == 2
    assert "give a file path" in res.output


def test_search_jsonl_and_csv_carry_labels(root: Path, workspace: Workspace) -> None:
    negative = ids_of(workspace, "sentiment:negative")
    assert negative
    lines = stdout_of(root, "search", "sentiment:negative", "--format", "jsonl", "-n", "100")
    docs = [orjson.loads(x) for x in lines.splitlines()]
    assert {d["id"] for d in docs} == negative
    assert all(d["labels"]["sentiment"] == "negative" for d in docs)
    header, rows = read_csv(stdout_of(root, "search", "intent:question", "--format", "csv"))
    assert header == OLD_CSV + LABEL_CSV
    assert rows and all("question" in r["intent"].split() for r in rows)
    assert {r["id"] for r in rows} == ids_of(workspace, "intent:question")
    header, _ = read_csv(stdout_of(root, "search", "acme", "--format", "csv", "--no-labels"))
    assert header == OLD_CSV
    plain = stdout_of(root, "search", "acme", "--format", "jsonl", "--no-labels").splitlines()
    assert plain and all("labels" not in orjson.loads(x) for x in plain)


def test_unenriched_workspace_exports_empty_label_values(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "plain"
    assert runner.invoke(cli, ["init", str(root)]).exit_code == 0
    posts = [make_post(str(i), t) for i, t in enumerate(TEXTS[:3])]
    run(runner, root, "import", str(_write_jsonl(tmp_path / "p.jsonl", posts)), "--no-enrich")
    header, rows = read_csv(stdout_of(root, "export", "--format", "csv", "--out", "-"))
    assert header == OLD_CSV + LABEL_CSV and len(rows) == 3
    assert all(r[c] == "" for r in rows for c in LABEL_CSV)
    lines = stdout_of(root, "export", "--format", "jsonl", "--out", "-").splitlines()
    assert [orjson.loads(x)["labels"] for x in lines] == [{}, {}, {}]


def test_empty_export_has_the_label_header(root: Path, tmp_path: Path) -> None:
    out = tmp_path / "none.csv"
    msg = run(CliRunner(), root, "export", "zzzunmatched", "--format", "csv", "--out", str(out))
    assert "Exported 0 posts" in msg
    assert out.read_text(encoding="utf-8").strip() == ",".join(OLD_CSV + LABEL_CSV)


def test_labels_for_reads_in_chunks_and_ignores_unknown_ids(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [p.id for p in workspace.iter_posts(None)]
    whole = labels_for(workspace.store, [*ids, "twitter:nope", ids[0]])
    assert set(whole) == set(ids) - {LATE}  # the never-enriched post has no labels
    assert all(isinstance(v, Labels) and v != NO_LABELS for v in whole.values())
    monkeypatch.setattr(labels_module, "CHUNK", 2)
    assert labels_for(workspace.store, ids) == whole
    assert labels_for(workspace.store, []) == {}


pg_cluster = _postgres.pg_cluster


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_postgres_exports_the_same_labels(
    pg_cluster: _postgres.PgCluster, root: Path, tmp_path: Path, fmt: str
) -> None:
    """The labels are packed per post with ``string_agg`` on PostgreSQL (``group_concat`` on
    SQLite): the same posts, enriched in a PostgreSQL workspace, export the same bytes."""
    url = _postgres.create_database(pg_cluster, "lab_")
    pg = build(tmp_path / "pg", "--database-url", url)
    got = stdout_of(pg, "export", "--format", fmt, "--out", "-")
    assert got == stdout_of(root, "export", "--format", fmt, "--out", "-")
    if fmt == "csv":
        both = {r["id"]: r for r in read_csv(got)[1]}["twitter:9"]["brand_sentiment"]
        assert both.startswith("Acme=") and "; Rival=" in both  # "Acme and Rival both ..."
    else:
        docs = {d["id"]: d for d in map(orjson.loads, got.splitlines())}
        assert set(docs["twitter:9"]["labels"]["brand_sentiment"]) == {"Acme", "Rival"}
