"""Topics: planted clusters recovered and labelled, emerging flag, incremental assignment,
rebuilds replace, determinism (real SQLite workspace)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, inspect, select

from socialloop.learn.base import Enricher, Item
from socialloop.learn.embeddings import EmbeddingEnricher
from socialloop.learn.pipeline import Pipeline
from socialloop.learn.topics import (
    STOPWORDS,
    TopicEnricher,
    build_topics,
    ctfidf_keywords,
    default_k,
    topic_pks,
    topic_step,
    topic_words,
    topics_summary,
)
from socialloop.listen.importer import import_posts
from socialloop.models import Post
from socialloop.store.enrich_rows import step_results
from socialloop.store.schema import post_labels, topics
from socialloop.workspace import Workspace
from tests.conftest import make_post

NEWEST = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)

SUBJECTS: dict[str, dict[str, list[str]]] = {
    "flight": {
        "a": ["my flight", "the plane", "our flight", "the connecting flight", "the red-eye"],
        "b": ["was delayed", "got cancelled", "sat on the runway", "was overbooked"],
        "c": [
            "and Skyways lost my luggage",
            "so I missed the boarding gate",
            "and the airline staff ignored us at the airport",
            "and the pilot blamed the weather",
        ],
    },
    "cake": {
        "a": ["I baked", "grandma baked", "we made", "she decorated"],
        "b": ["a chocolate cake", "a lemon sponge cake", "vanilla cupcakes", "a cheesecake"],
        "c": [
            "with butter, sugar and flour",
            "and the frosting was delicious",
            "from the new recipe, oven at 180 degrees",
            "with whipped cream and strawberries",
        ],
    },
    "football": {
        "a": ["the striker", "our team", "the goalkeeper", "the captain"],
        "b": ["scored twice", "missed a penalty", "won the match", "lost the derby"],
        "c": [
            "in the league final tonight",
            "before the referee blew the whistle",
            "and the stadium fans went wild",
            "after extra time in the cup semifinal",
        ],
    },
}
FILLER = ["", "honestly", "wow", "today", "again", "lol", "ugh", "omg", "so"]
VOCAB = {
    "flight": {"flight", "delayed", "cancelled", "luggage", "airline", "plane", "airport"},
    "cake": {"cake", "baked", "chocolate", "cupcakes", "frosting", "recipe", "cheesecake"},
    "football": {"scored", "match", "team", "penalty", "striker", "league", "goalkeeper"},
}
# flight and cake: 100 posts each spread over 60 days; football: a burst of 40 in 6 days
PLAN = {"flight": (100, 60), "cake": (100, 60), "football": (40, 6)}


def _posts(seed: int = 7) -> Iterator[tuple[str, Post]]:
    rng = random.Random(seed)
    i = 0
    for subject, (count, days) in PLAN.items():
        parts = SUBJECTS[subject]
        for j in range(count):
            text = " ".join(
                w
                for w in (
                    rng.choice(FILLER),
                    rng.choice(parts["a"]),
                    rng.choice(parts["b"]),
                    rng.choice(parts["c"]),
                    rng.choice(FILLER),
                )
                if w
            )
            when = NEWEST - timedelta(days=days * j / count)
            i += 1
            yield subject, make_post(f"{subject}{i}", text, when=when)


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    w = Workspace.init(tmp_path_factory.mktemp("topics") / "ws")
    w.add_brand("Skyways", "skyways")
    import_posts(w, [p for _s, p in _posts()])
    Pipeline([EmbeddingEnricher()]).run(w.store)
    yield w
    w.close()


def _truth(w: Workspace) -> dict[int, str]:
    ids = {p.id: s for s, p in _posts()}
    return {pk: ids[pid] for pk, pid in _post_ids(w).items()}


def _post_ids(w: Workspace) -> dict[int, str]:
    from socialloop.store.schema import posts

    with w.store.begin() as conn:
        return {int(r.pk): r.id for r in conn.execute(select(posts.c.pk, posts.c.id))}


def _assignment(w: Workspace) -> dict[int, str]:
    with w.store.begin() as conn:
        rows = conn.execute(
            select(post_labels.c.post_pk, post_labels.c.label).where(post_labels.c.field == "topic")
        )
        return {int(pk): label for pk, label in rows}


def test_planted_clusters_recovered_and_labelled(ws: Workspace) -> None:
    built = build_topics(ws.store, k=3, seed=0, min_posts=50)
    assert len(built) == 3
    truth = _truth(ws)
    assigned = _assignment(ws)
    assert set(assigned) == set(truth)
    majority = 0
    subject_of: dict[str, str] = {}
    for t in built:
        members = Counter(truth[pk] for pk in topic_pks(ws.store, t.id))
        subject, hits = members.most_common(1)[0]
        majority += hits
        subject_of[subject] = t.label
        assert sum(members.values()) == t.size
        # labelled with the subject's own words: no stopwords, numbers or brand names
        assert len(t.keywords) == 5
        assert t.label == " / ".join(t.keywords)
        assert len(set(t.keywords) & VOCAB[subject]) >= 2, t.label
        assert not set(t.keywords) & (STOPWORDS | {"skyways", "180"})
        assert np.linalg.norm(t.centroid) == pytest.approx(1.0, abs=1e-3)
    assert majority / len(truth) >= 0.9
    assert set(subject_of) == set(SUBJECTS)  # one topic per subject
    assert [t.id for t in built] == [1, 2, 3]
    assert [t.size for t in built] == sorted((t.size for t in built), reverse=True)


def test_burst_is_emerging_and_steady_topics_are_not(ws: Workspace) -> None:
    built = build_topics(ws.store, k=3, seed=0, min_posts=50)
    truth = _truth(ws)
    for t in built:
        subject = Counter(truth[pk] for pk in topic_pks(ws.store, t.id)).most_common(1)[0][0]
        assert t.emerging == (subject == "football"), (subject, t)
    summary = topics_summary(ws.store)
    assert [s["id"] for s in summary] == [t.id for t in built]
    assert [s["emerging"] for s in summary] == [t.emerging for t in built]
    assert summary[0].keys() == {"id", "label", "keywords", "size", "emerging", "last_seen"}
    # stricter thresholds: nothing emerges
    stricter = build_topics(ws.store, k=3, seed=0, min_posts=50, min_recent=100)
    assert not any(t.emerging for t in stricter)


def test_rebuild_replaces_and_is_deterministic(ws: Workspace) -> None:
    first = build_topics(ws.store, k=4, seed=3, min_posts=50)
    a1 = _assignment(ws)
    again = build_topics(ws.store, k=4, seed=3, min_posts=50)
    a2 = _assignment(ws)
    assert a1 == a2
    assert [(t.label, t.size) for t in first] == [(t.label, t.size) for t in again]
    with ws.store.begin() as conn:
        n_labels = conn.execute(
            select(func.count()).select_from(post_labels).where(post_labels.c.field == "topic")
        ).scalar_one()
        n_enr = sum(1 for r in step_results(conn) if r.step == "topic")
        n_topics = conn.execute(select(func.count()).select_from(topics)).scalar_one()
    total = sum(n for n, _d in PLAN.values())
    assert n_labels == n_enr == total  # one label per post, no duplicates
    assert n_topics == len(again) == 4
    # a smaller rebuild leaves no trace of the old topics
    build_topics(ws.store, k=3, seed=0, min_posts=50)
    assert set(_assignment(ws).values()) == {"1", "2", "3"}


def test_too_few_posts_builds_nothing(ws: Workspace) -> None:
    build_topics(ws.store, k=3, seed=0, min_posts=50)
    before = _assignment(ws)
    assert build_topics(ws.store, min_posts=10_000) == []
    assert _assignment(ws) == before


def test_enricher_assigns_new_posts_to_their_subject(ws: Workspace) -> None:
    built = build_topics(ws.store, k=3, seed=0, min_posts=50)
    truth = _truth(ws)
    topic_of = {
        Counter(truth[pk] for pk in topic_pks(ws.store, t.id)).most_common(1)[0][0]: t
        for t in built
    }
    step = topic_step(ws.store)
    assert isinstance(step, Enricher)
    assert (step.name, step.version, step.requires, step.produces) == (
        "topic",
        "1",
        ("embedding",),
        ("topic",),
    )
    items = [
        Item(pk=1, post=make_post("n1", "the airline cancelled my flight and lost my luggage")),
        Item(pk=2, post=make_post("n2", "baked a chocolate cake with vanilla frosting")),
        Item(pk=3, post=make_post("n3", "the striker scored a penalty to win the match")),
        Item(pk=4, post=make_post("n4", "")),
    ]
    results = step.enrich(items)
    for subject, res in zip(["flight", "cake", "football"], results, strict=False):
        assert res.values == {
            "topic": str(topic_of[subject].id),
            "topic_label": topic_of[subject].label,
        }
        assert res.confidence is not None and 0.0 < res.confidence <= 1.0
    assert results[3].values == {"topic": "none"}
    assert step.enrich([]) == []


def test_pipeline_assigns_incrementally(ws: Workspace) -> None:
    built = build_topics(ws.store, k=3, seed=0, min_posts=50)
    cake = next(t for t in built if "cake" in t.keywords)
    post = make_post("late1", "grandma baked a chocolate cake with frosting", when=NEWEST)
    import_posts(ws, [post])
    report = Pipeline([EmbeddingEnricher(), topic_step(ws.store)]).run(ws.store)
    done = {s.name: s.processed for s in report.steps}
    assert done == {"embedding": 1, "topic": 1}  # the build marked the others as done
    pk = next(pk for pk, pid in _post_ids(ws).items() if pid == post.id)
    assert _assignment(ws)[pk] == str(cake.id)
    size = next(s["size"] for s in topics_summary(ws.store) if s["id"] == cake.id)
    assert size == cake.size + 1


def test_no_topics_gives_none(tmp_path: Path) -> None:
    w = Workspace.init(tmp_path / "empty")
    try:
        assert "topics" in inspect(w.store.engine).get_table_names()
        step = TopicEnricher.from_store(w.store)
        res = step.enrich([Item(pk=1, post=make_post("1", "hello world"))])
        assert res[0].values == {"topic": "none"} and res[0].confidence is None
        assert build_topics(w.store) == []
        assert topics_summary(w.store) == []
    finally:
        w.close()


def test_ctfidf_and_default_k() -> None:
    counts = [Counter({"refund": 5, "app": 5}), Counter({"cake": 6, "app": 5})]
    assert ctfidf_keywords(counts, top=1) == [["refund"], ["cake"]]
    assert default_k(100) == 5
    assert default_k(50 * 20**2) == 20
    assert default_k(10**7) == 60
    assert default_k(3) == 3


def test_contraction_halves_are_no_topic_words() -> None:
    words = topic_words("I didn't like it, they weren't there, c'était nul, refund please")
    assert [w for w in words if w not in STOPWORDS] == ["nul", "refund", "please"]


def test_topic_words_leave_out_urls_and_handles() -> None:
    from socialloop.learn.topics import topic_words

    words = topic_words(
        "@sofia@kahvi.social Tämä pelasti aamuni cc @shawz@brew.social. "
        "see https://example.org/x and @bob, 2026 kahvi"
    )
    # a fediverse handle goes whole: its server's name is no topic word
    assert "social" not in words and "kahvi" in words and "brew" not in words
    assert words == ["tama", "pelasti", "aamuni", "see", "and", "kahvi"]
