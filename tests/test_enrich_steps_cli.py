"""`socialloop enrich --steps`: a selection missing a required step names the step to add,
repeated names count once, an empty selection is an error (not every step)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from socialloop.cli.main import cli


def _ws(tmp_path: Path) -> tuple[CliRunner, Path]:
    runner = CliRunner()
    root = tmp_path / "ws"
    assert runner.invoke(cli, ["init", str(root)]).exit_code == 0
    return runner, root


def test_missing_producer_is_named(tmp_path: Path) -> None:
    runner, root = _ws(tmp_path)
    for selection, producer in (("sentiment", "language"), ("topic", "embedding")):
        res = runner.invoke(cli, ["enrich", "--steps", selection, "--workspace", str(root)])
        assert res.exit_code != 0
        assert f"which the step '{producer}' produces: select '{producer}' too" in res.output
    res = runner.invoke(
        cli, ["enrich", "--steps", "language,sentiment", "--dry-run", "--workspace", str(root)]
    )
    assert res.exit_code == 0, res.output


def test_repeated_and_empty_selections(tmp_path: Path) -> None:
    runner, root = _ws(tmp_path)
    res = runner.invoke(
        cli, ["enrich", "--steps", "language,language", "--dry-run", "--workspace", str(root)]
    )
    assert res.exit_code == 0, res.output
    assert res.output.count("language v") == 1
    for empty in ("", ","):
        res = runner.invoke(cli, ["enrich", "--steps", empty, "--workspace", str(root)])
        assert res.exit_code != 0
        assert "no enrichment step named; available: language" in res.output
