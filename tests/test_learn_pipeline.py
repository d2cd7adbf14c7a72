"""The enrichment pipeline on the real store: step ordering, stored results and labels,
incremental re-runs (only new posts or changed versions), per-brand labels, worker processes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from socialloop.learn.base import Enricher, Item, Result
from socialloop.learn.pipeline import Pipeline, PipelineError, order_steps
from socialloop.listen.importer import import_posts
from socialloop.store.enrich_rows import step_results
from socialloop.store.schema import brand_labels, post_labels
from socialloop.workspace import Workspace
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)


class Shouty:
    """Test step: 'loud' when the text has an exclamation mark."""

    name = "shouty"
    requires: tuple[str, ...] = ()
    produces = ("tone",)

    def __init__(self, version: str = "1") -> None:
        self.version = version
        self.seen: list[int] = []

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        self.seen.extend(item.pk for item in batch)
        return [
            Result({"tone": "loud" if "!" in i.post.text else "calm"}, confidence=0.9)
            for i in batch
        ]


class Counting:
    """Test step: each result records how many batches this step instance has seen."""

    name = "counting"
    version = "1"
    requires: tuple[str, ...] = ()
    produces = ("batches",)

    def __init__(self) -> None:
        self.batches = 0

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        self.batches += 1
        return [Result({"batches": str(self.batches)}) for _ in batch]


class Tags:
    """Test step needing 'tone': multi-label, and a per-brand label."""

    name = "tags"
    version = "1"
    requires = ("tone",)
    produces = ("tag",)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        out = []
        for item in batch:
            labels = [item.prior["tone"], "brand" if item.brands else "none"]
            per_brand = {b: {"tag": item.prior["tone"], "tag_score": 0.5} for b in item.brands}
            out.append(Result({"tag": labels}, confidence=None, brand_values=per_brand))
        return out


def seed(ws: Workspace, n: int = 30) -> None:
    ws.add_brand("Acme", "acme")
    posts = [
        make_post(
            str(i),
            f"post {i} {'acme' if i % 3 == 0 else ''} {'!' if i % 2 else ''}",
            when=T0 + timedelta(minutes=i),
        )
        for i in range(n)
    ]
    import_posts(ws, posts)


def labels(ws: Workspace, field: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    with ws.store.begin() as conn:
        for pk, label in conn.execute(
            select(post_labels.c.post_pk, post_labels.c.label).where(post_labels.c.field == field)
        ):
            out.setdefault(pk, set()).add(label)
    return out


def test_steps_are_ordered_by_what_they_need() -> None:
    a, b = Shouty(), Tags()
    assert [s.name for s in order_steps([b, a])] == ["shouty", "tags"]
    with pytest.raises(PipelineError, match="requires 'tone'"):
        order_steps([b])
    assert isinstance(a, Enricher) and isinstance(b, Enricher)


def test_run_stores_values_labels_and_brand_labels(ws: Workspace) -> None:
    seed(ws)
    report = Pipeline([Tags(), Shouty()]).run(ws.store, batch_size=7)
    assert [(s.name, s.processed) for s in report.steps] == [("shouty", 30), ("tags", 30)]
    tone = labels(ws, "tone")
    assert len(tone) == 30
    assert sum(1 for v in tone.values() if v == {"loud"}) == 15
    tags = labels(ws, "tag")
    assert all(len(v) == 2 for v in tags.values())
    with ws.store.begin() as conn:
        n_brand = conn.execute(select(brand_labels.c.post_pk)).all()
        versions = {r.version for r in step_results(conn)}
    assert len(n_brand) == 10  # the posts mentioning acme
    assert versions == {"1"}


def test_rerun_processes_only_new_posts_or_new_versions(ws: Workspace) -> None:
    seed(ws, 10)
    step = Shouty()
    Pipeline([step]).run(ws.store)
    assert len(step.seen) == 10
    again = Shouty()
    assert Pipeline([again]).run(ws.store).processed == 0
    import_posts(ws, [make_post("new", "brand new!", when=T0)])
    Pipeline([again]).run(ws.store)
    assert len(again.seen) == 1
    bumped = Shouty(version="2")
    Pipeline([bumped]).run(ws.store)
    assert len(bumped.seen) == 11
    assert len(labels(ws, "tone")) == 11  # labels replaced, not duplicated


def test_worker_processes_give_the_same_results(ws: Workspace) -> None:
    seed(ws, 40)
    report = Pipeline([Shouty()]).run(ws.store, workers=2, batch_size=5)
    assert report.processed == 40
    tone = labels(ws, "tone")
    assert sum(1 for v in tone.values() if v == {"loud"}) == 20


def test_worker_processes_keep_their_steps(ws: Workspace) -> None:
    # a worker gets the steps once (loaded models and memos survive across batches), not a
    # fresh pickled copy per batch: some step instance must have seen several batches
    seed(ws, 40)
    Pipeline([Counting()]).run(ws.store, workers=2, batch_size=5)
    seen = {int(label) for values in labels(ws, "batches").values() for label in values}
    assert len(labels(ws, "batches")) == 40
    assert max(seen) > 1


class Upstream:
    """Test step: 'x' is 'a' for every post at version 1; version 2 says 'b' for posts with
    an exclamation mark."""

    name = "upstream"
    requires: tuple[str, ...] = ()
    produces = ("x",)

    def __init__(self, version: str) -> None:
        self.version = version

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        upgraded = self.version == "2"
        return [Result({"x": "b" if upgraded and "!" in i.post.text else "a"}) for i in batch]


class Downstream:
    """Test step requiring 'x': records which posts it saw."""

    name = "downstream"
    version = "1"
    requires = ("x",)
    produces = ("y",)

    def __init__(self) -> None:
        self.seen: list[int] = []

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        self.seen.extend(i.pk for i in batch)
        return [Result({"y": f"from-{i.prior['x']}"}) for i in batch]


def test_a_step_runs_again_where_what_it_requires_changed(ws: Workspace) -> None:
    seed(ws, 10)  # odd-numbered posts shout (see seed)
    first = Downstream()
    Pipeline([Upstream("1"), first]).run(ws.store)
    assert len(first.seen) == 10
    # the upstream step is upgraded: it runs on every post, and changes x on the loud ones;
    # the downstream step (same version) runs again exactly there, with the new x
    again = Downstream()
    Pipeline([Upstream("2"), again]).run(ws.store)
    ys = labels(ws, "y")
    loud = {pk for pk, v in labels(ws, "x").items() if v == {"b"}}
    assert len(loud) == 5
    assert sorted(again.seen) == sorted(loud)
    assert {pk for pk, v in ys.items() if v == {"from-b"}} == loud
    assert sum(1 for v in ys.values() if v == {"from-a"}) == 5
    # nothing changed since: a third run does nothing
    idle = Downstream()
    Pipeline([Upstream("2"), idle]).run(ws.store)
    assert idle.seen == []


class Vectors:
    """Test step making a vector (bytes, stored in its own table, not compared)."""

    name = "embedding"
    requires: tuple[str, ...] = ()
    produces = ("embedding",)

    def __init__(self, version: str) -> None:
        self.version = version

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        blob = bytes(4) if self.version == "1" else b"\x00<\x00<"
        return [Result({"embedding": blob, "embedding_model": "m"}) for _ in batch]


class Nearest:
    """Test step requiring the vector: records the posts it saw."""

    name = "nearest"
    version = "1"
    requires = ("embedding",)
    produces = ("near",)

    def __init__(self) -> None:
        self.seen: list[int] = []

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        self.seen.extend(i.pk for i in batch)
        return [Result({"near": "x"}) for _ in batch]


def test_a_new_vector_version_runs_its_dependents_again(ws: Workspace) -> None:
    # a vector cannot be compared with what is stored (it lives in its own table): a new
    # version of the step that makes it counts as a change on every post it ran on
    seed(ws, 6)
    Pipeline([Vectors("1"), Nearest()]).run(ws.store)
    again = Nearest()
    Pipeline([Vectors("2"), again]).run(ws.store)
    assert len(again.seen) == 6
    idle = Nearest()
    Pipeline([Vectors("2"), idle]).run(ws.store)
    assert idle.seen == []


def test_an_edited_post_is_enriched_again(ws: Workspace) -> None:
    seed(ws, 5)
    Pipeline([Shouty()]).run(ws.store)
    later = datetime.now(UTC) + timedelta(days=1)  # collected after the seed import
    # same text, newer metrics: the enrichment stays
    import_posts(
        ws, [make_post("1", "post 1  !", when=T0 + timedelta(minutes=1), collected_at=later)]
    )
    again = Shouty()
    assert Pipeline([again]).run(ws.store).processed == 0
    # an edit: the old results are dropped and the post is processed again
    edited = make_post(
        "1", "calm now", when=T0 + timedelta(minutes=1), collected_at=later + timedelta(1)
    )
    import_posts(ws, [edited])
    assert Pipeline([again]).run(ws.store).processed == 1
    assert labels(ws, "tone")[again.seen[-1]] == {"calm"}


def test_embeddings_go_to_their_table(ws: Workspace) -> None:
    from socialloop.learn.embeddings import EmbeddingEnricher, vector_from_bytes
    from socialloop.store.schema import embeddings

    seed(ws, 6)
    Pipeline([EmbeddingEnricher()]).run(ws.store)
    with ws.store.begin() as conn:
        rows = conn.execute(
            select(embeddings.c.post_pk, embeddings.c.dim, embeddings.c.vector)
        ).all()
        data = [r.data for r in step_results(conn)]
    assert len(rows) == 6
    assert all("embedding" not in d for d in data)  # not duplicated as JSON
    vec = vector_from_bytes(rows[0].vector)
    assert vec.shape == (rows[0].dim,)


def test_steps_get_the_posts_as_stored(tmp_path: Path) -> None:
    # the pipeline reads JSON and timestamp columns as text on SQLite and decodes them itself;
    # the posts a step sees must equal the store's own reading, field for field
    ws = Workspace.init(tmp_path / "ws")
    when = datetime(2026, 3, 1, 12, 30, 15, 250000, tzinfo=UTC)
    posts = [
        make_post("1", "Hi @acme #coffee see https://example.org/x", when=when, lang="en"),
        make_post("2", "plain text, nothing else", when=when + timedelta(hours=1)),
        make_post("3", "@bob reply #one #two", when=when, parent_id="twitter:1"),
    ]
    checked = make_post("4", "from a verified account", when=when)
    assert checked.author is not None
    checked.author.verified, checked.author.name = True, "Acme Official"
    posts.append(checked)
    import_posts(ws, posts)
    seen: list[Item] = []

    class Spy:
        name, version, requires, produces = "spy", "1", (), ("spy",)

        def enrich(self, batch: Sequence[Item]) -> list[Result]:
            seen.extend(batch)
            return [Result(values={"spy": "x"}) for _ in batch]

    Pipeline([Spy()]).run(ws.store)
    assert len(seen) == 4
    for item in seen:
        stored = ws.store.get_post(item.post.id)
        # repr: the same values of the same types (True, not 1)
        assert stored is not None and repr(item.post) == repr(stored)
        assert item.post.created_at.tzinfo is not None
    by_id = {item.post.id: item.post for item in seen}
    assert by_id["twitter:1"].mentions == ["acme"] and by_id["twitter:1"].hashtags == ["coffee"]
    assert by_id["twitter:1"].created_at == when
    assert by_id["twitter:2"].links == [] and by_id["twitter:2"].mentions == []
    author = by_id["twitter:4"].author
    assert author is not None and author.verified is True


def _stored_results(ws: Workspace) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Every enrichment (confidences to 9 places: lingua's vary in the last bits) and label."""
    with ws.store.begin() as conn:
        enr = sorted(
            (r.post_pk, r.step, r.version, repr(r.data), round(r.confidence or 0.0, 9))
            for r in step_results(conn)
        )
        labels = sorted((r.field, r.label, r.post_pk) for r in conn.execute(select(post_labels)))
    return enr, labels


def test_the_default_steps_give_the_same_results_in_worker_processes(tmp_path: Path) -> None:
    from socialloop.learn.steps import build_steps
    from socialloop.simulate import default_market, simulate

    market = default_market()
    results = []
    for workers in (1, 2):
        ws = Workspace.init(tmp_path / f"w{workers}")
        try:
            for b in market.brands:
                ws.add_brand(b.name, b.query, competitor=b.competitor)
            import_posts(ws, simulate(600, seed=5, market=market))
            steps = build_steps(ws.settings, store=ws.store)
            Pipeline(steps).run(ws.store, workers=workers, batch_size=200)
            results.append(_stored_results(ws))
        finally:
            ws.close()
    (enr1, labels1), (enr2, labels2) = results
    assert len(enr1) == 600 * 7 and labels1
    # language confidences aside (lingua's last bits), every value is the same: the steps
    # sent to the workers share their (empty) feature cache there, hashes and embeddings too
    assert [e for e in enr1 if e[1] != "language"] == [e for e in enr2 if e[1] != "language"]
    assert labels1 == labels2


class NumpyConfidence:
    """A step (a plugin, say) whose confidences are numpy floats."""

    name, version, requires, produces = "npconf", "1", (), ("tone",)

    def enrich(self, batch: Sequence[Item]) -> list[Result]:
        import numpy as np

        return [Result({"tone": "calm"}, np.float64(0.25)) for _ in batch]


def test_numpy_confidences_are_stored_as_numbers(ws: Workspace) -> None:
    seed(ws, 4)
    Pipeline([NumpyConfidence()]).run(ws.store)
    with ws.store.begin() as conn:
        got = {(r.step, r.confidence) for r in step_results(conn)}
    assert got == {("npconf", 0.25)}
