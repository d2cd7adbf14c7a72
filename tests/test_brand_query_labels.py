"""Brand queries name what mentions a brand: enrichment labels are refused there (brands are
matched at import, before enrichment), with a message that says why and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from socialloop.errors import InvalidValue
from socialloop.learn.fields import enrichment_fields
from socialloop.workspace import BRAND_QUERY_REFUSED, Workspace


def test_refused_fields_are_the_enrichment_labels() -> None:
    assert {f.name for f in enrichment_fields()} - {"lang"} == BRAND_QUERY_REFUSED


def test_add_and_edit_refuse_label_filters(ws: Workspace) -> None:
    with pytest.raises(InvalidValue, match=r"enrichment labels \(sentiment:\)"):
        ws.add_brand("Bad", "acme AND sentiment:negative")
    assert ws.store.list_brands() == []  # nothing written
    ws.add_brand("Acme", "acme AND lang:en")  # the declared language is known at import
    with pytest.raises(InvalidValue, match=r"\(intent:, stage:\)"):
        ws.edit_brand("Acme", query="acme AND (intent:complaint OR stage:advocacy)")
    assert ws.store.get_brand("Acme").query == "acme AND lang:en"


def test_cli_says_what_to_do(tmp_path: Path) -> None:
    runner = CliRunner()
    root = tmp_path / "ws"
    assert runner.invoke(cli, ["init", str(root)]).exit_code == 0
    res = runner.invoke(
        cli, ["brand", "add", "Bad", "--query", "acme AND emotion:anger", "--workspace", str(root)]
    )
    assert res.exit_code != 0
    assert "cannot filter on enrichment labels (emotion:)" in res.output
    assert "Traceback" not in res.output


def test_lang_in_a_brand_query_is_the_declared_language_on_both_paths(ws: Workspace) -> None:
    # at import the matcher sees only the declared language; when the brand is added or
    # edited the SQL side must read the same, not the detected one (a Reddit post has none)
    from datetime import UTC, datetime

    from socialloop.learn.language import LanguageEnricher
    from socialloop.learn.pipeline import Pipeline
    from socialloop.listen.importer import import_posts
    from tests.conftest import make_post

    when = datetime(2026, 5, 1, tzinfo=UTC)
    import_posts(
        ws,
        [
            make_post("1", "acme makes the best coffee in town", lang=None, when=when),
            make_post("2", "acme makes the best coffee in town!", lang="en", when=when),
        ],
    )
    Pipeline([LanguageEnricher()]).run(ws.store)  # both now have a detected "en"
    _, matched = ws.add_brand("Acme", "acme AND lang:en")
    assert matched == 1  # only the post that declared English
    import_posts(ws, [make_post("3", "acme again, great coffee", lang=None, when=when)])
    assert ws.store.brand_counts()[ws.store.get_brand("Acme").id or -1] == 1
    _, matched = ws.edit_brand("Acme", query="acme AND lang:en")
    assert matched == 1  # the same answer when the brand is matched again
