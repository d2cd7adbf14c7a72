"""The interaction graph and influence on constructed stores with known answers: edge
weights and target resolution, brand / time / query restriction, the centre of a star ranks
first, planted communities are recovered, scores are stored and read back."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from socialloop.errors import GraphNotBuilt
from socialloop.graph.build import EDGE_WEIGHTS, Restriction, interaction_graph, load_snapshot
from socialloop.graph.communities import detect, load_communities, load_membership
from socialloop.graph.influence import (
    WEIGHTS,
    combine,
    load_scores,
    normalise,
    score_scope,
    top_authors,
)
from socialloop.graph.pipeline import build, last_run
from socialloop.models import Post
from socialloop.workspace import Workspace
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)


def store(ws: Workspace, posts: list[Post]) -> None:
    ws.store.upsert_posts(posts)


def edges(ws: Workspace, restriction: Restriction | None = None) -> dict[tuple[str, str], float]:
    snap = load_snapshot(ws, restriction)
    g = interaction_graph(snap)
    return {
        (snap.authors[s], snap.authors[t]): w
        for (s, t), w in zip(g.get_edgelist(), g.es["weight"], strict=True)
    }


def test_edges_are_weighted_by_kind_and_reply_targets_resolved_through_the_post(
    ws: Workspace,
) -> None:
    store(
        ws,
        [
            make_post("1", "my first post", handle="bob", when=T0),
            # reply without reply_to_handle: target author only known from the parent post
            make_post("2", "agreed", handle="ann", parent_id="twitter:1", when=T0),
            make_post("3", "RT my first post", handle="cy", reshare_of="twitter:1", when=T0),
            make_post("4", "look at this", handle="cy", quote_of="twitter:1", when=T0),
            make_post("5", "hey @bob and @ann", handle="cy", when=T0),
            make_post("6", "talking to myself @ann", handle="ann", when=T0),
        ],
    )
    got = edges(ws)
    assert got == {
        ("twitter:ann", "twitter:bob"): EDGE_WEIGHTS["reply"],
        ("twitter:cy", "twitter:bob"): EDGE_WEIGHTS["reshare"]
        + EDGE_WEIGHTS["quote"]
        + EDGE_WEIGHTS["mention"],
        ("twitter:cy", "twitter:ann"): EDGE_WEIGHTS["mention"],
    }
    snap = load_snapshot(ws)
    g = interaction_graph(snap)
    cy_bob = g.get_eid(snap.author_index["twitter:cy"], snap.author_index["twitter:bob"])
    assert g.es[cy_bob]["count"] == 3
    # bob's post was reshared once and quoted once (observed in the store)
    first = int(np.flatnonzero(snap.post_pks == snap.post_pks.min())[0])
    assert snap.post_amplification[first] == 2.0


def test_custom_weights_change_the_edge_weights(ws: Workspace) -> None:
    store(
        ws,
        [
            make_post("1", "x", handle="bob"),
            make_post("2", "RT", handle="cy", reshare_of="twitter:1"),
        ],
    )
    snap = load_snapshot(ws)
    g = interaction_graph(snap, weights={"reshare": 5.0})
    assert g.es["weight"] == [5.0]


def test_brand_time_and_query_restrictions_keep_only_matching_interactions(
    ws: Workspace,
) -> None:
    store(
        ws,
        [
            make_post("1", "@bob acme latte is great", handle="ann", when=T0),
            make_post("2", "@dee rival coffee #morning", handle="cy", when=T0 + timedelta(days=5)),
            make_post("3", "@bob acme again", handle="eve", when=T0 + timedelta(days=10)),
        ],
    )
    ws.add_brand("Acme", "acme")
    everything = edges(ws)
    assert set(everything) == {
        ("twitter:ann", "twitter:bob"),
        ("twitter:cy", "twitter:dee"),
        ("twitter:eve", "twitter:bob"),
    }
    assert set(edges(ws, Restriction(brand="Acme"))) == {
        ("twitter:ann", "twitter:bob"),
        ("twitter:eve", "twitter:bob"),
    }
    window = Restriction(since=T0 + timedelta(days=1), until=T0 + timedelta(days=9))
    assert set(edges(ws, window)) == {("twitter:cy", "twitter:dee")}
    assert set(edges(ws, Restriction(query="#morning"))) == {("twitter:cy", "twitter:dee")}
    assert set(edges(ws, Restriction(brand="Acme", since=T0 + timedelta(days=1)))) == {
        ("twitter:eve", "twitter:bob")
    }


def star(ws: Workspace, leaves: int = 12) -> None:
    posts = [make_post("hub", "hello all", handle="hub", followers=1000, likes=1)]
    for i in range(leaves):
        posts.append(
            make_post(f"l{i}", f"@hub hi from {i}", handle=f"leaf{i}", followers=1000, likes=1)
        )
    # a little chatter between leaves so they are not all equal to nothing
    posts.append(make_post("x1", "@leaf1 yo", handle="leaf0", followers=1000))
    store(ws, posts)


def test_the_centre_of_a_star_ranks_first(ws: Workspace) -> None:
    star(ws)
    snap = load_snapshot(ws)
    res = score_scope(snap, "all")
    best = int(res.authors[int(np.argmax(res.score))])
    assert snap.authors[best] == "twitter:hub"
    assert res.normalised["authority"].max() == pytest.approx(1.0)
    hub_row = list(res.authors).index(best)
    assert res.normalised["authority"][hub_row] == pytest.approx(1.0)
    assert "relevance" not in res.normalised  # scope 'all': every author is fully relevant
    build(ws)
    top = top_authors(ws.store, "all", 3)
    assert top[0]["author_id"] == "twitter:hub"
    assert set(top[0]["components"]) >= {"authority", "reach", "engagement", "amplification"}
    assert 0.0 <= top[-1]["score"] <= top[0]["score"] <= 1.0


def test_score_is_the_weighted_mean_of_normalised_components() -> None:
    raw = {
        "authority": np.array([0.0, 1.0, 9.0]),
        "reach": np.array([0.0, 99.0, 9.0]),
    }
    score, norm = combine(raw)
    assert norm["reach"] == pytest.approx(np.log1p(raw["reach"]) / np.log1p(99.0))
    wa, wr = WEIGHTS["authority"], WEIGHTS["reach"]
    expected = (wa * norm["authority"] + wr * norm["reach"]) / (wa + wr)
    assert score == pytest.approx(expected)
    assert score[0] == 0.0
    assert normalise(np.array([0.0, 0.0])).tolist() == [0.0, 0.0]


def cliques(ws: Workspace, size: int = 6) -> list[list[str]]:
    groups = [[f"g{g}m{i}" for i in range(size)] for g in range(3)]
    posts: list[Post] = []
    n = 0
    for group in groups:
        for a, b in itertools.permutations(group, 2):
            n += 1
            posts.append(make_post(str(n), f"@{b} see you", handle=a))
    # weak links between the groups
    for a, b in (("g0m0", "g1m0"), ("g1m1", "g2m1"), ("g2m2", "g0m2")):
        n += 1
        posts.append(make_post(str(n), f"@{b} hello", handle=a))
    store(ws, posts)
    return [[f"twitter:{h}" for h in group] for group in groups]


def test_planted_communities_are_recovered(ws: Workspace) -> None:
    groups = cliques(ws)
    report = build(ws, seed=3)
    assert report.communities == 3
    assert report.nodes == 18
    membership = load_membership(ws.store)
    found = [{membership[a] for a in group} for group in groups]
    assert all(len(ids) == 1 for ids in found)
    assert len(set().union(*found)) == 3
    described = load_communities(ws.store)
    assert [d["size"] for d in described] == [6, 6, 6]
    assert all(len(d["top_authors"]) == 5 for d in described)
    # same seed, same answer
    build(ws, seed=3)
    assert load_membership(ws.store) == membership


def test_scores_persist_per_scope_and_load_scores_leaves_out_unknown_authors(
    ws: Workspace,
) -> None:
    store(
        ws,
        [
            make_post("1", "@bob acme rocks", handle="ann", followers=10),
            make_post("2", "@ann acme is fine", handle="bob", followers=5000),
            make_post("3", "weather today", handle="bob"),
        ],
    )
    brand, _ = ws.add_brand("Acme", "acme")
    with pytest.raises(GraphNotBuilt):
        last_run(ws.store)
    build(ws)
    scores = load_scores(ws.store, ["twitter:ann", "twitter:bob", "twitter:nobody"])
    assert set(scores) == {"twitter:ann", "twitter:bob"}
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    per_brand = top_authors(ws.store, f"brand:{brand.id}")
    relevance = {r["author_id"]: r["components"]["relevance"] for r in per_brand}
    # ann's only post is about Acme, half of bob's are
    assert relevance["twitter:ann"] > relevance["twitter:bob"] > 0
    assert per_brand[0]["components"]["raw"]["posts"] == 1
    assert last_run(ws.store)["nodes"] == 2


@pytest.mark.parametrize(
    ("engine", "method"),
    [
        ("igraph", "modularity"),
        ("leidenalg", "modularity"),
        ("igraph", "cpm"),
        ("leidenalg", "cpm"),
    ],
)
def test_both_leiden_engines_and_objectives_find_the_planted_groups(
    ws: Workspace, engine: str, method: str
) -> None:
    groups = cliques(ws)
    snap = load_snapshot(ws)
    membership = detect(
        interaction_graph(snap),
        engine=engine,
        method=method,
        resolution=0.3,
        seed=1,  # type: ignore[arg-type]
    )
    found = [{int(membership[snap.author_index[a]]) for a in group} for group in groups]
    assert [len(ids) for ids in found] == [1, 1, 1]
    assert sorted(i for ids in found for i in ids) == [0, 1, 2]


def test_migration_0006_creates_and_drops_the_influence_tables(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from socialloop.store.engine import alembic_config, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    cfg = alembic_config()
    tables = {"author_scores", "communities", "community_members", "graph_runs"}
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0006_influence")
        assert tables <= set(inspect(conn).get_table_names())
        command.downgrade(cfg, "0005_topics")
        assert not tables & set(inspect(conn).get_table_names())
        command.upgrade(cfg, "0006_influence")
        assert tables <= set(inspect(conn).get_table_names())
    engine.dispose()


def test_communities_of_a_simulated_market_follow_its_planted_communities(
    ws: Workspace,
) -> None:
    """The simulator's people belong to communities (ground truth in raw["simulated"]); the
    Leiden communities of their interaction graph agree with them (NMI)."""
    from collections import Counter, defaultdict

    from sklearn.metrics import normalized_mutual_info_score

    from socialloop.simulate import simulate

    posts = list(simulate(8000, seed=5))
    for start in range(0, len(posts), 2000):
        ws.store.upsert_posts(posts[start : start + 2000])
    ws.store.derive_threads()
    truth: dict[str, Counter[str]] = defaultdict(Counter)
    for p in posts:
        assert p.raw is not None and p.author_id is not None
        truth[p.author_id][str(p.raw["simulated"]["community"])] += 1
    report = build(ws)
    assert report.communities >= 4
    membership = load_membership(ws.store)
    authors = sorted(a for a in membership if a in truth)
    assert len(authors) > 500
    planted = [truth[a].most_common(1)[0][0] for a in authors]
    found = [membership[a] for a in authors]
    nmi = normalized_mutual_info_score(planted, found)
    assert nmi >= 0.6
