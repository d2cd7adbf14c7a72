"""Regressions from a QA pass over the workspace settings: every bad value is an error naming the
file (or the environment variable) and the dotted key, never a traceback or a silent default,
and a bad language list never costs an import its data. Real workspaces in tmp_path, the CLI
in process."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner, Result

from socialloop.cli.app import remedy
from socialloop.cli.main import cli
from socialloop.config import (
    CONFIG_FILE,
    ENV_OVERRIDES,
    ISO_639_1,
    TEMPLATE,
    load_settings,
    write_default_config,
)
from socialloop.errors import ConfigError, InvalidSetting
from socialloop.learn.steps import build_steps
from socialloop.workspace import Workspace
from tests.conftest import make_post

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def _set(root: Path, old: str, new: str) -> None:
    """Replace one line of the workspace's socialloop.toml (it must be there)."""
    cfg = root / CONFIG_FILE
    text = cfg.read_text(encoding="utf-8")
    assert old in text, old
    cfg.write_text(text.replace(old, new, 1), encoding="utf-8")


def _fails(res: Result) -> str:
    """The output of a command that must stop with exit status 1 and no traceback."""
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.output


def _posts_file(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    posts = [make_post(str(i), f"post number {i} about the new latte") for i in range(5)]
    path.write_bytes(b"".join(orjson.dumps(p.to_dict()) + b"\n" for p in posts))
    return path


def _stored(root: Path) -> int:
    with Workspace.open(root, environ={}) as ws:
        return int(ws.store.stats()["posts"])


# -- [learn] languages -----------------------------------------------------------------------


def test_language_names_and_unknown_codes_fail_when_the_settings_load(tmp_path: Path) -> None:
    write_default_config(tmp_path, name="t")
    _set(tmp_path, "languages = []", 'languages = ["english", "xx", "fi"]')
    with pytest.raises(InvalidSetting) as info:
        load_settings(tmp_path, {})
    message = str(info.value)
    assert str(tmp_path / CONFIG_FILE) in message and "learn.languages" in message
    assert "'english'" in message and "'xx'" in message and "'fi'" not in message
    assert "ISO 639-1 codes such as en, es, fi" in message
    assert info.value.key == "learn.languages" and info.value.file == str(tmp_path / CONFIG_FILE)
    # codes are read case- and space-insensitively, once each
    _set(tmp_path, '["english", "xx", "fi"]', '[" EN", "fi", "en"]')
    assert load_settings(tmp_path, {}).languages == ("en", "fi")


def test_import_with_a_language_name_stops_before_storing_with_a_remedy(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    _set(root, "languages = []", 'languages = ["english", "xx"]')
    out = _fails(
        runner.invoke(cli, ["import", str(_posts_file(tmp_path)), "--workspace", str(root)])
    )
    assert "Invalid setting" in out and "'english', 'xx'" in out
    assert "Fix learn.languages in" in out and CONFIG_FILE in out
    _set(root, 'languages = ["english", "xx"]', "languages = []")
    assert _stored(root) == 0  # nothing half-done: the file is still there to import


def test_a_code_the_detector_lacks_keeps_the_import_and_enrich_says_how_to_fix(
    root: Path, runner: CliRunner, tmp_path: Path
) -> None:
    # "ab" (Abkhazian) is ISO 639-1, so it loads; the language step cannot detect it
    _set(root, "languages = []", 'languages = ["en", "ab"]')
    res = runner.invoke(cli, ["import", str(_posts_file(tmp_path)), "--workspace", str(root)])
    assert res.exit_code == 0, res.output
    assert "Traceback" not in res.output and res.exception is None
    assert "new 5" in res.output
    assert "Enrichment skipped" in res.output and "ab" in res.output
    assert _stored(root) == 5  # the import kept its data
    out = _fails(runner.invoke(cli, ["enrich", "--workspace", str(root)]))
    assert "learn.languages" in out and "unsupported language code(s): ab" in out
    assert "ISO 639-1 codes such as en, es, fi" in out and "Fix learn.languages in" in out


def test_build_steps_turns_an_undetectable_code_into_a_settings_error(tmp_path: Path) -> None:
    write_default_config(tmp_path, name="t")
    _set(tmp_path, "languages = []", 'languages = ["fi", "ab"]')
    settings = load_settings(tmp_path, {})
    with pytest.raises(InvalidSetting, match=r"learn\.languages.*ab") as info:
        build_steps(settings, ["language"])
    assert info.value.file == str(tmp_path / CONFIG_FILE)
    assert isinstance(info.value.__cause__, ValueError)


def test_the_iso_list_covers_every_language_the_step_detects() -> None:
    from socialloop.learn.language import supported_languages

    assert supported_languages() <= ISO_639_1
    assert {"in", "iw", "fil"} <= ISO_639_1  # older codes the step reads as id, he, tl


def test_the_settings_doc_lists_the_detectable_languages() -> None:
    from socialloop.learn.language import supported_languages

    text = DOCS.read_text(encoding="utf-8")
    block = text.split("<!-- languages -->")[1]
    listed = set(re.findall(r"`([a-z]{2,3})`", block))
    assert listed == set(supported_languages())
    assert f"{len(supported_languages())} languages" in text


# -- tables, types, empty and out-of-range values ----------------------------------------------


@pytest.mark.parametrize("table", ["workspace", "store", "import", "learn"])
def test_a_key_where_a_table_belongs_names_the_table(tmp_path: Path, table: str) -> None:
    (tmp_path / CONFIG_FILE).write_text(f'{table} = "x"\n', encoding="utf-8")
    with pytest.raises(InvalidSetting, match=rf"{table} must be a table \(a \[{table}\] line"):
        load_settings(tmp_path, {})


def test_cli_reports_a_key_instead_of_a_table(root: Path, runner: CliRunner) -> None:
    cfg = root / CONFIG_FILE
    text = cfg.read_text(encoding="utf-8").replace("[learn]\n", "[not_learn]\n")
    cfg.write_text('learn = "x"\n' + text, encoding="utf-8")
    out = _fails(runner.invoke(cli, ["status", "--workspace", str(root)]))
    assert "learn must be a table" in out and "Fix learn in" in out


@pytest.mark.parametrize("key", ["mode", "language_models", "language_prior"])
def test_an_empty_choice_is_an_error_not_the_default(tmp_path: Path, key: str) -> None:
    (tmp_path / CONFIG_FILE).write_text(f'[learn]\n{key} = ""\n', encoding="utf-8")
    with pytest.raises(InvalidSetting, match=rf"learn\.{key} must be \".*\", not ''"):
        load_settings(tmp_path, {})


@pytest.mark.parametrize(
    ("table", "line", "expected"),
    [
        ("learn", "language_prior = 1", "learn.language_prior must be a string, not 1"),
        ("learn", "mode = true", "learn.mode must be a string, not True"),
        ("learn", 'workers = "2"', "learn.workers must be a whole number, not '2'"),
        ("learn", "workers = true", "learn.workers must be a whole number, not True"),
        ("learn", 'languages = "en"', "learn.languages must be a list, not 'en'"),
        ("import", 'batch_size = "many"', "import.batch_size must be a whole number"),
        ("import", "rejects_dir = 3", "import.rejects_dir must be a string, not 3"),
        ("store", "database_url = 5", "store.database_url must be a string, not 5"),
        ("workspace", "name = 1", "workspace.name must be a string, not 1"),
    ],
)
def test_a_wrong_type_names_the_table_and_key(
    tmp_path: Path, table: str, line: str, expected: str
) -> None:
    (tmp_path / CONFIG_FILE).write_text(f"[{table}]\n{line}\n", encoding="utf-8")
    with pytest.raises(InvalidSetting) as info:
        load_settings(tmp_path, {})
    assert expected in str(info.value) and str(tmp_path / CONFIG_FILE) in str(info.value)
    assert info.value.key == f"{table}.{line.split()[0]}" and info.value.variable is None


@pytest.mark.parametrize(("table", "key"), [("learn", "workers"), ("import", "batch_size")])
@pytest.mark.parametrize("value", [0, -3])
def test_counts_below_one_are_errors_not_silently_replaced(
    tmp_path: Path, table: str, key: str, value: int
) -> None:
    (tmp_path / CONFIG_FILE).write_text(f"[{table}]\n{key} = {value}\n", encoding="utf-8")
    with pytest.raises(InvalidSetting, match=rf"{table}\.{key} must be at least 1, not {value}"):
        load_settings(tmp_path, {})


def test_valid_learn_settings_are_read(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text(
        '[learn]\nmode = "accurate"\nlanguage_models = "trigram"\nlanguage_prior = "none"\n'
        "workers = 3\n",
        encoding="utf-8",
    )
    s = load_settings(tmp_path, {})
    assert (s.enrich_mode, s.language_models, s.language_prior, s.workers) == (
        "accurate",
        "trigram",
        "none",
        3,
    )
    (tmp_path / CONFIG_FILE).write_text("", encoding="utf-8")  # every key has a default
    s = load_settings(tmp_path, {})
    assert (s.enrich_mode, s.language_models, s.language_prior, s.workers) == (
        "fast",
        "full",
        "stream",
        1,
    )


# -- environment variables ---------------------------------------------------------------------


def test_a_bad_environment_variable_is_blamed_not_the_file(tmp_path: Path) -> None:
    write_default_config(tmp_path, name="t")
    with pytest.raises(InvalidSetting) as info:
        load_settings(tmp_path, {"SOCIALLOOP_ENRICH_MODE": "turbo"})
    message = str(info.value)
    assert "SOCIALLOOP_ENRICH_MODE" in message and "'turbo'" in message
    assert CONFIG_FILE not in message
    assert (info.value.variable, info.value.key, info.value.file) == (
        "SOCIALLOOP_ENRICH_MODE",
        "learn.mode",
        None,
    )
    for bad in ("many", "0", "-5"):
        with pytest.raises(InvalidSetting, match=r"SOCIALLOOP_BATCH_SIZE must be a whole number"):
            load_settings(tmp_path, {"SOCIALLOOP_BATCH_SIZE": bad})


def test_cli_remedy_for_a_bad_variable_says_to_fix_or_unset_it(
    root: Path, runner: CliRunner
) -> None:
    res = runner.invoke(
        cli, ["status", "--workspace", str(root)], env={"SOCIALLOOP_ENRICH_MODE": "turbo"}
    )
    out = _fails(res)
    assert "environment variable SOCIALLOOP_ENRICH_MODE" in out
    assert "Set SOCIALLOOP_ENRICH_MODE to a valid value, or unset it" in out


def test_the_template_names_exactly_the_variables_that_override(tmp_path: Path) -> None:
    named = set(re.findall(r"SOCIALLOOP_[A-Z_]+", TEMPLATE.split("\n\n")[0]))
    assert named == set(ENV_OVERRIDES)
    assert "SOCIALLOOP_<KEY>" not in TEMPLATE
    # and each one does override its key
    write_default_config(tmp_path, name="t")
    s = load_settings(
        tmp_path,
        {
            "SOCIALLOOP_DATABASE_URL": "sqlite:///other.db",
            "SOCIALLOOP_BATCH_SIZE": "7",
            "SOCIALLOOP_ENRICH_MODE": "accurate",
            "SOCIALLOOP_LANGUAGE_PRIOR": "none",  # not an override: the header does not name it
        },
    )
    assert s.database_url.endswith("/other.db") and s.batch_size == 7
    assert s.enrich_mode == "accurate" and s.language_prior == "stream"


def test_settings_errors_are_config_errors_with_a_file_remedy(tmp_path: Path) -> None:
    (tmp_path / CONFIG_FILE).write_text("[learn]\nworkers = 0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path, {})
    text = remedy(info.value)
    assert text.startswith("Invalid setting: ")
    assert f"Fix learn.workers in {tmp_path / CONFIG_FILE}" in text
    assert "docs/settings.md" in text and DOCS.is_file()
