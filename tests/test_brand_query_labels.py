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
