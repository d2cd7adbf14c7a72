"""Graph export: GEXF and GraphML parse back (networkx) with the same nodes, edges and
attributes; CSV writes an edges file and a nodes file; nothing to export before a build."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from socialloop.errors import ExportError, GraphNotBuilt
from socialloop.graph.build import interaction_graph, load_snapshot
from socialloop.graph.export import export_graph, nodes_path
from socialloop.graph.influence import load_scores
from socialloop.graph.pipeline import build
from socialloop.workspace import Workspace
from tests.conftest import make_post


def sample(ws: Workspace) -> set[tuple[str, str]]:
    ws.store.upsert_posts(
        [
            make_post("1", "@bob @cy hi", handle="ann", followers=120),
            make_post("2", "@ann yes", handle="bob", followers=40),
            make_post("3", "RT hi", handle="cy", reshare_of="twitter:1"),
            make_post("4", "@ann @bob <b>&amp;</b>", handle="dee"),
            make_post("5", "alone, no interaction", handle="eve"),
        ]
    )
    build(ws)
    snap = load_snapshot(ws)
    g = interaction_graph(snap)
    return {(snap.authors[s], snap.authors[t]) for s, t in g.get_edgelist()}


@pytest.mark.parametrize(("fmt", "reader"), [("gexf", nx.read_gexf), ("graphml", nx.read_graphml)])
def test_export_parses_back_with_the_same_nodes_and_edges(
    ws: Workspace, tmp_path: Path, fmt: str, reader: object
) -> None:
    expected = sample(ws)
    out = tmp_path / f"g.{fmt}"
    report = export_graph(ws, out, fmt)
    g = reader(out)  # type: ignore[operator]
    assert g.is_directed()
    assert set(g.edges()) == expected
    assert set(g.nodes()) == {a for e in expected for a in e}
    assert "twitter:eve" not in g  # no interaction: not a node
    assert (report.nodes, report.edges) == (g.number_of_nodes(), g.number_of_edges())
    ann = g.nodes["twitter:ann"]
    assert ann["handle"] == "ann"
    assert int(ann["followers"]) == 120
    assert float(ann["influence"]) == pytest.approx(
        load_scores(ws.store, ["twitter:ann"])["twitter:ann"]
    )
    assert int(ann["community"]) >= -1
    assert float(g.edges["twitter:cy", "twitter:ann"]["weight"]) == 2.0


def test_csv_export_writes_edges_and_nodes(ws: Workspace, tmp_path: Path) -> None:
    expected = sample(ws)
    out = tmp_path / "g.csv"
    report = export_graph(ws, out, "csv")
    assert report.files == [out, nodes_path(out)]
    lines = out.read_text().splitlines()
    assert lines[0] == "source,target,weight,count"
    assert {tuple(line.split(",")[:2]) for line in lines[1:]} == expected
    nodes = nodes_path(out).read_text().splitlines()
    assert nodes[0] == "id,handle,network,followers,influence,community"
    assert len(nodes) - 1 == report.nodes


def test_export_before_any_build_and_unknown_format(ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(GraphNotBuilt):
        export_graph(ws, tmp_path / "g.gexf", "gexf")
    with pytest.raises(ExportError, match="gexf, graphml, csv"):
        export_graph(ws, tmp_path / "g.x", "dot")


def test_export_follows_the_restriction_of_the_last_build(ws: Workspace, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from socialloop.graph.build import Restriction

    ws.store.upsert_posts(
        [
            make_post("1", "@bob acme", handle="ann", when=datetime(2026, 5, 1, tzinfo=UTC)),
            make_post("2", "@dee other", handle="cy", when=datetime(2026, 5, 2, tzinfo=UTC)),
            make_post("3", "@cy acme", handle="eve", when=datetime(2026, 6, 1, tzinfo=UTC)),
        ]
    )
    ws.add_brand("Acme", "acme")
    build(ws, Restriction(brand="Acme", until=datetime(2026, 5, 15, tzinfo=UTC)))
    out = tmp_path / "g.graphml"
    export_graph(ws, out, "graphml")
    assert set(nx.read_graphml(out).edges()) == {("twitter:ann", "twitter:bob")}
