"""Export the interaction graph of the last build for Gephi and notebooks.

Formats: ``gexf`` and ``graphml`` (networkx writers; open in Gephi, Cytoscape, yEd) and
``csv``: the edges in the named file (``source,target,weight,count``) and the nodes beside it
in ``<stem>.nodes.csv`` (``id,handle,network,followers,influence,community``).

Nodes are the authors with at least one interaction; node attributes: ``label`` (the handle),
``handle``, ``network``, ``followers``, ``influence`` (score in scope ``all``, 0 when
unscored) and ``community`` (-1 when in none). Edges are directed, author -> author, with
``weight`` (see ``graph.build.EDGE_WEIGHTS``) and ``count`` (interactions). The graph is made
again from the store with the last build's restriction, so it matches the stored scores.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import networkx as nx  # type: ignore[import-untyped]

from socialloop.errors import ExportError
from socialloop.graph.build import Restriction, active_vertices, interaction_graph, load_snapshot
from socialloop.graph.communities import load_membership
from socialloop.graph.influence import load_scores
from socialloop.graph.pipeline import last_run

if TYPE_CHECKING:
    from socialloop.workspace import Workspace

Format = Literal["gexf", "graphml", "csv"]
FORMATS: tuple[str, ...] = ("gexf", "graphml", "csv")


@dataclass(slots=True)
class ExportReport:
    nodes: int
    edges: int
    files: list[Path]


def nodes_path(out: Path) -> Path:
    """Where the CSV export writes its nodes: ``<stem>.nodes.csv`` beside the edges file."""
    return out.with_name(f"{out.stem}.nodes.csv")


def export_graph(ws: Workspace, out: Path, fmt: str) -> ExportReport:
    """Write the last build's interaction graph to ``out`` in ``fmt``."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown graph format {fmt!r}; choose one of {', '.join(FORMATS)}")
    run = last_run(ws.store)
    snap = load_snapshot(ws, Restriction.from_dict(dict(run["params"])))
    g = interaction_graph(snap)
    active = active_vertices(g)
    ids = [snap.authors[i] for i in active.tolist()]
    scores = load_scores(ws.store, ids)
    membership = load_membership(ws.store)
    nodes: list[dict[str, Any]] = []
    for i in active.tolist():
        aid = snap.authors[i]
        network, _, handle = aid.partition(":")
        nodes.append(
            {
                "id": aid,
                "handle": handle,
                "network": network,
                "followers": int(snap.followers[i]),
                "influence": float(scores.get(aid, 0.0)),
                "community": int(membership.get(aid, -1)),
            }
        )
    edges = [
        (snap.authors[s], snap.authors[t], float(w), int(c))
        for (s, t), w, c in zip(g.get_edgelist(), g.es["weight"], g.es["count"], strict=True)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        if fmt == "csv":
            files = _write_csv(out, nodes, edges)
        else:
            dg = nx.DiGraph()
            for n in nodes:
                attrs = {k: v for k, v in n.items() if k != "id"}
                dg.add_node(n["id"], label=n["handle"], **attrs)
            for s, t, w, c in edges:
                dg.add_edge(s, t, weight=w, count=c)
            if fmt == "gexf":
                nx.write_gexf(dg, out)
            else:
                nx.write_graphml(dg, out)
            files = [out]
    except OSError as exc:
        raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return ExportReport(nodes=len(nodes), edges=len(edges), files=files)


def _write_csv(
    out: Path, nodes: list[dict[str, Any]], edges: list[tuple[str, str, float, int]]
) -> list[Path]:
    npath = nodes_path(out)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["source", "target", "weight", "count"])
        w.writerows(edges)
    with npath.open("w", newline="", encoding="utf-8") as f:
        dw = csv.DictWriter(
            f, fieldnames=["id", "handle", "network", "followers", "influence", "community"]
        )
        dw.writeheader()
        dw.writerows(nodes)
    return [out, npath]
