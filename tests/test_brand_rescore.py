"""Labels toward a brand follow its matches: a brand added or widened after enrichment gets
its posts scored toward it by the next enrichment, and a narrowed one loses the labels of the
posts it no longer matches (real store, real language and sentiment steps)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from socialloop.learn.language import LanguageEnricher
from socialloop.learn.pipeline import Pipeline
from socialloop.learn.sentiment import SentimentEnricher
from socialloop.listen.importer import import_posts
from socialloop.workspace import Workspace
from tests.conftest import make_post

T0 = datetime(2026, 5, 1, tzinfo=UTC)
TEXTS = [
    "Acme makes a wonderful latte, I love it",
    "This latte was awful and cold, never again",
    "Nothing to see here, just a walk in the park",
]


def _scored(ws: Workspace, brand_id: int) -> int:
    return sum(ws.store.brand_label_counts("sentiment").get(brand_id, {}).values())


def test_added_widened_and_narrowed_brands(ws: Workspace) -> None:
    import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(TEXTS)])
    acme, matched = ws.add_brand("Acme", "acme")
    assert matched == 1 and acme.id is not None
    pipeline = Pipeline([LanguageEnricher(), SentimentEnricher()])
    pipeline.run(ws.store)
    assert _scored(ws, acme.id) == 1 and ws.store.brand_unscored(acme.id) == 0

    # a brand added after the posts were enriched: both latte posts are due for sentiment
    latte, matched = ws.add_brand("Latte", "latte")
    assert matched == 2 and latte.id is not None
    assert _scored(ws, latte.id) == 0 and ws.store.brand_unscored(latte.id) == 2
    language, sentiment = pipeline.steps
    assert pipeline.pending(ws.store, sentiment) == 2
    assert pipeline.pending(ws.store, language) == 0
    report = pipeline.run(ws.store)
    assert {s.name: s.processed for s in report.steps} == {"language": 0, "sentiment": 2}
    counts = ws.store.brand_label_counts("sentiment")
    assert counts[latte.id] == {"positive": 1, "negative": 1}
    assert counts[acme.id] == {"positive": 1}  # the other brand's labels stay
    assert ws.store.brand_unscored(latte.id) == 0
    assert pipeline.pending(ws.store, sentiment) == 0

    # narrowed: the post it no longer matches loses its label toward it, nothing to redo
    _, matched = ws.edit_brand("Latte", query="awful")
    assert matched == 1
    assert ws.store.brand_label_counts("sentiment")[latte.id] == {"negative": 1}
    assert ws.store.brand_unscored(latte.id) == 0
    assert pipeline.pending(ws.store, sentiment) == 0

    # widened: only the newly matched post is due
    _, matched = ws.edit_brand("Latte", query="latte OR park")
    assert matched == 3
    assert ws.store.brand_unscored(latte.id) == 2
    assert pipeline.pending(ws.store, sentiment) == 2
    pipeline.run(ws.store)
    assert _scored(ws, latte.id) == 3


def test_brand_add_says_what_to_run(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "ws"
    assert runner.invoke(cli, ["init", str(root)]).exit_code == 0
    with Workspace.open(root) as ws:
        import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(TEXTS)])
    res = runner.invoke(
        cli, ["brand", "add", "Latte", "--query", "latte", "--workspace", str(root)]
    )
    assert res.exit_code == 0, res.output
    assert "2 stored posts match" in res.output
    assert "2 of them have no sentiment toward 'Latte' yet" in res.output
    assert "socialloop enrich" in res.output
    res = runner.invoke(cli, ["enrich", "--workspace", str(root)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli, ["brand", "edit", "Latte", "--query", "awful", "--workspace", str(root)]
    )
    assert res.exit_code == 0, res.output
    assert "no sentiment toward" not in res.output


def test_a_renamed_brand_is_scored_again(ws: Workspace) -> None:
    # the sentiment toward a brand finds the brand in the text by its name
    import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(TEXTS)])
    brand, matched = ws.add_brand("Acme", "acme OR latte")
    assert matched == 2 and brand.id is not None
    pipeline = Pipeline([LanguageEnricher(), SentimentEnricher()])
    pipeline.run(ws.store)
    assert _scored(ws, brand.id) == 2
    _, matched = ws.edit_brand("Acme", new_name="Latte")
    assert matched == 2
    assert _scored(ws, brand.id) == 0 and ws.store.brand_unscored(brand.id) == 2
    assert pipeline.pending(ws.store, pipeline.steps[1]) == 2
    pipeline.run(ws.store)
    assert _scored(ws, brand.id) == 2
    # other edits keep the labels
    ws.edit_brand("Latte", competitor=True)
    assert _scored(ws, brand.id) == 2 and pipeline.pending(ws.store, pipeline.steps[1]) == 0


def test_a_reimport_that_changes_a_posts_brands_moves_its_labels(ws: Workspace) -> None:
    # the same text, another author: brands matched by author change without the text
    # changing, so the labels toward them must follow
    from datetime import timedelta

    first = make_post("1", "Such a lovely latte this morning", handle="ann", when=T0)
    first.collected_at = T0
    import_posts(ws, [first])
    ann, _ = ws.add_brand("AnnCafe", "author:ann")
    bob, _ = ws.add_brand("BobCafe", "author:bob")
    assert ann.id is not None and bob.id is not None
    pipeline = Pipeline([LanguageEnricher(), SentimentEnricher()])
    pipeline.run(ws.store)
    assert _scored(ws, ann.id) == 1 and _scored(ws, bob.id) == 0
    again = make_post("1", "Such a lovely latte this morning", handle="bob", when=T0)
    again.collected_at = T0 + timedelta(hours=1)  # the later copy wins
    import_posts(ws, [again])
    assert _scored(ws, ann.id) == 0  # no longer matched: its label toward AnnCafe is gone
    assert ws.store.brand_unscored(bob.id) == 1
    sentiment = pipeline.steps[1]
    assert pipeline.pending(ws.store, sentiment) == 1
    report = pipeline.run(ws.store)
    assert {s.name: s.processed for s in report.steps} == {"language": 0, "sentiment": 1}
    assert _scored(ws, bob.id) == 1 and ws.store.brand_unscored(bob.id) == 0


def test_a_brand_added_while_an_enrichment_runs_is_scored_by_the_next(ws: Workspace) -> None:
    # `brand add` in another process while `enrich` runs: the posts the run had already
    # written are marked stale by the add, and those it wrote afterwards (without the brand)
    # are marked at the end of the run, so the next enrichment scores every one toward it
    texts = [f"latte number {i} was wonderful" for i in range(6)]
    import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(texts)])
    pipeline = Pipeline([LanguageEnricher(), SentimentEnricher()])
    added: list[int] = []

    def add_once(step: str, done: int, total: int) -> None:
        if not added:
            brand, _ = ws.add_brand("Latte", "latte")
            assert brand.id is not None
            added.append(brand.id)

    pipeline.run(ws.store, batch_size=2, progress=add_once)
    (latte,) = added
    assert _scored(ws, latte) == 0 and ws.store.brand_unscored(latte) == 6
    _, sentiment = pipeline.steps
    assert pipeline.pending(ws.store, sentiment) == 6
    report = pipeline.run(ws.store)
    assert {s.name: s.processed for s in report.steps} == {"language": 0, "sentiment": 6}
    assert ws.store.brand_label_counts("sentiment")[latte] == {"positive": 6}
    assert ws.store.brand_unscored(latte) == 0
    # nothing changed during that run: nothing is marked again
    assert pipeline.pending(ws.store, sentiment) == 0


def test_a_brand_added_while_an_enrichment_runs_that_is_interrupted(ws: Workspace) -> None:
    # the run is stopped (Ctrl-C) after writing batches that considered no brand: the posts
    # they overwrote the brand's stale marks on are marked again all the same
    texts = [f"latte number {i} was wonderful" for i in range(6)]
    import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(texts)])
    pipeline = Pipeline([LanguageEnricher(), SentimentEnricher()])
    calls: list[str] = []

    def add_then_stop(step: str, done: int, total: int) -> None:
        calls.append(step)
        if len(calls) == 1:
            ws.add_brand("Latte", "latte")
        if len(calls) == 5:  # the third batch written
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        pipeline.run(ws.store, batch_size=2, progress=add_then_stop)
    latte = ws.store.get_brand("Latte")
    assert latte.id is not None
    _, sentiment = pipeline.steps
    assert pipeline.pending(ws.store, sentiment) == 6  # every post: none scored toward it
    report = pipeline.run(ws.store)
    assert {s.name: s.processed for s in report.steps} == {"language": 0, "sentiment": 6}
    assert ws.store.brand_unscored(latte.id) == 0


def test_a_brand_renamed_while_an_enrichment_runs_is_scored_by_its_new_name(
    ws: Workspace,
) -> None:
    # the batches written after the rename were scored toward the old name: they get no
    # label toward the brand, and the next enrichment scores every post toward the new one
    texts = [f"the mocha was awful and cold, but latte number {i} was wonderful" for i in range(6)]
    import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(texts)])
    brand, matched = ws.add_brand("Latte", "latte OR mocha")
    assert matched == 6 and brand.id is not None
    pipeline = Pipeline([LanguageEnricher(), SentimentEnricher()])
    renamed: list[bool] = []

    def rename_once(step: str, done: int, total: int) -> None:
        if not renamed:
            ws.edit_brand("Latte", new_name="Mocha")
            renamed.append(True)

    pipeline.run(ws.store, batch_size=2, progress=rename_once)
    assert _scored(ws, brand.id) == 0 and ws.store.brand_unscored(brand.id) == 6
    report = pipeline.run(ws.store)
    assert {s.name: s.processed for s in report.steps} == {"language": 0, "sentiment": 6}
    assert ws.store.brand_label_counts("sentiment")[brand.id] == {"negative": 6}  # the mocha


def test_a_brand_removed_while_workers_enrich(ws: Workspace) -> None:
    # with --workers, batches are read ahead of their writes: those read while the brand
    # existed are written after `brand remove`, without labels toward the removed brand
    texts = [f"latte {i} was wonderful" for i in range(6)]
    import_posts(ws, [make_post(str(i), t, when=T0) for i, t in enumerate(texts)])
    ws.add_brand("Latte", "latte")
    pipeline = Pipeline([LanguageEnricher(), SentimentEnricher()])
    removed: list[bool] = []

    def remove_once(step: str, done: int, total: int) -> None:
        if not removed:
            ws.remove_brand("Latte")
            removed.append(True)

    report = pipeline.run(ws.store, batch_size=1, workers=2, progress=remove_once)
    assert {s.name: s.processed for s in report.steps} == {"language": 6, "sentiment": 6}
    assert ws.store.brand_label_counts("sentiment") == {}
