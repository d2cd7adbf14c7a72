"""The interest graph: authors who share hashtags and topics are linked even when they never
interacted; unrelated authors are not."""

from __future__ import annotations

import pytest

from socialloop.errors import NotFound
from socialloop.graph.build import interaction_graph, load_snapshot
from socialloop.graph.interest import (
    interest_edges,
    interest_matrix,
    resolve_author,
    similar_authors,
)
from socialloop.workspace import Workspace
from tests.conftest import make_post


def sample(ws: Workspace) -> None:
    ws.store.upsert_posts(
        [
            make_post("1", "pour over at dawn #v60 #aeropress #coffee", handle="ann"),
            make_post("2", "#aeropress recipe, 18g #v60", handle="ann"),
            make_post("3", "my #v60 routine with #aeropress backup", handle="bob"),
            make_post("4", "#coffee with #football", handle="cy"),
            make_post("5", "#football tonight #derby", handle="dee"),
            make_post("6", "@dee see you at the #derby", handle="eve"),
            make_post("7", "no tags here", handle="fay"),
        ]
    )


def test_authors_sharing_hashtags_are_similar_without_interacting(ws: Workspace) -> None:
    sample(ws)
    snap = load_snapshot(ws)
    g = interaction_graph(snap)
    ann, bob = snap.author_index["twitter:ann"], snap.author_index["twitter:bob"]
    assert g.get_eid(ann, bob, directed=False, error=False) == -1  # never interacted
    got = similar_authors(ws.store, "twitter:ann", limit=5)
    assert got[0]["author_id"] == "twitter:bob"
    assert set(got[0]["shared"]) == {"#v60", "#aeropress"}
    assert got[0]["similarity"] > 0.8
    assert got[0]["interacted"] is False
    ids = [r["author_id"] for r in got]
    assert "twitter:dee" not in ids  # nothing in common
    assert "twitter:cy" in ids  # #coffee only
    assert got[ids.index("twitter:cy")]["similarity"] < got[0]["similarity"]


def test_similar_authors_say_whether_they_interacted(ws: Workspace) -> None:
    sample(ws)
    got = {r["author_id"]: r for r in similar_authors(ws.store, "twitter:dee")}
    assert got["twitter:eve"]["interacted"] is True  # eve mentioned dee
    assert got["twitter:cy"]["interacted"] is False


def test_interest_edges_link_nearest_neighbours(ws: Workspace) -> None:
    sample(ws)
    edges = interest_edges(ws.store, k=2, min_similarity=0.3)
    pairs = {(a, b) for a, b, _ in edges}
    assert ("twitter:ann", "twitter:bob") in pairs
    assert ("twitter:bob", "twitter:ann") in pairs
    assert ("twitter:dee", "twitter:eve") in pairs
    assert all(0.3 <= s <= 1.0 for _a, _b, s in edges)
    m = interest_matrix(ws.store)
    assert "twitter:fay" not in m.authors


def test_authors_are_resolved_from_handles(ws: Workspace) -> None:
    sample(ws)
    assert resolve_author(ws.store, "@Ann") == "twitter:ann"
    assert resolve_author(ws.store, "twitter:bob") == "twitter:bob"
    with pytest.raises(NotFound):
        resolve_author(ws.store, "nobody")
    with pytest.raises(NotFound, match="no hashtags"):
        similar_authors(ws.store, "twitter:fay")
