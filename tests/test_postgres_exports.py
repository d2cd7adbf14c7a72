"""Exports from a PostgreSQL workspace equal those from SQLite: stored posts as CSV, JSONL and
Parquet (all, and a query's), and the interaction graph as GEXF, GraphML and CSV (edges and
nodes with influence and community). The same simulated market goes into both stores; the
database's time zone is not UTC, so a timestamp shifted on the way would show.

Skipped, saying why, without the server binaries or psycopg (tests/_postgres.py).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from tests import _postgres

pg_cluster = _postgres.pg_cluster


def _run(root: Path, *args: str) -> str:
    res = CliRunner().invoke(cli, [*args, "--workspace", str(root)], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    return res.output


@pytest.fixture(scope="module")
def stores(
    pg_cluster: _postgres.PgCluster, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    url = _postgres.create_database(pg_cluster, "x_", "timezone = 'Asia/Kathmandu'")
    base = tmp_path_factory.mktemp("exports")
    lite, pg = base / "lite", base / "pg"
    assert CliRunner().invoke(cli, ["init", str(lite)]).exit_code == 0
    res = CliRunner().invoke(cli, ["init", str(pg), "--database-url", url])
    assert res.exit_code == 0, res.output
    for root in (lite, pg):
        _run(root, "simulate", "--posts", "600", "--days", "5", "--seed", "3", "--no-enrich")
        _run(root, "graph", "build")
    return lite, pg


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("query", [None, "NOT lang:en"])
def test_post_exports_are_the_same(
    stores: tuple[Path, Path], tmp_path: Path, fmt: str, query: str | None
) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow", reason="Parquet export needs pyarrow (extra `parquet`)")
    files = []
    for root in stores:
        out = tmp_path / f"{root.name}.{fmt}"
        _run(root, "export", *([query] if query else []), "--format", fmt, "--out", str(out))
        files.append(out)
    lite, pg = files
    if fmt == "parquet":
        import pyarrow.parquet as pq

        lite_table, pg_table = pq.read_table(lite), pq.read_table(pg)
        assert pg_table.schema == lite_table.schema
        assert pg_table.to_pylist() == lite_table.to_pylist()
        rows = pg_table.num_rows
    else:
        assert pg.read_bytes() == lite.read_bytes()
        rows = len(pg.read_text(encoding="utf-8").splitlines()) - (fmt == "csv")
    assert rows > (50 if query else 500)
    if fmt == "jsonl":  # timestamps stay UTC
        first = json.loads(pg.read_text(encoding="utf-8").splitlines()[0])
        assert first["created_at"].endswith(("+00:00", "Z"))


@pytest.mark.parametrize("fmt", ["gexf", "graphml", "csv"])
def test_graph_exports_are_the_same(stores: tuple[Path, Path], tmp_path: Path, fmt: str) -> None:
    outs = []
    for root in stores:
        out = tmp_path / root.name / f"graph.{fmt}"
        out.parent.mkdir()
        _run(root, "graph", "export", "--format", fmt, "--out", str(out))
        outs.append(out)
    lite, pg = outs
    if fmt == "gexf":  # the header names the day it was written; the graph follows
        strip = lambda p: p.read_text(encoding="utf-8").split("</meta>")[-1]  # noqa: E731
        assert strip(pg) == strip(lite)
    else:
        assert pg.read_bytes() == lite.read_bytes()
    if fmt == "csv":
        nodes = [p.with_name("graph.nodes.csv") for p in outs]
        assert nodes[1].read_bytes() == nodes[0].read_bytes()
        with nodes[1].open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) > 20 and any(float(r["influence"]) > 0 for r in rows)
