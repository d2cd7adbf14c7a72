"""Workspace settings: socialloop.toml, environment overrides, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialloop.config import load_settings, write_default_config
from socialloop.errors import ConfigError, WorkspaceExists, WorkspaceNotFound
from socialloop.workspace import Workspace


def test_defaults_resolve_sqlite_inside_the_workspace(tmp_path: Path) -> None:
    write_default_config(tmp_path, name="acme")
    s = load_settings(tmp_path, {})
    assert s.name == "acme"
    assert s.database_url == f"sqlite:///{(tmp_path / 'socialloop.db').resolve()}"
    assert s.batch_size == 5000
    assert s.rejects_path == tmp_path / "rejects"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    write_default_config(tmp_path, name="acme")
    s = load_settings(
        tmp_path,
        {"SOCIALLOOP_DATABASE_URL": "sqlite:///other.db", "SOCIALLOOP_BATCH_SIZE": "100"},
    )
    assert s.database_url.endswith("/other.db")
    assert s.batch_size == 100


def test_invalid_settings_name_the_problem(tmp_path: Path) -> None:
    (tmp_path / "socialloop.toml").write_text('[import]\nbatch_size = "many"\n')
    with pytest.raises(ConfigError, match="batch_size"):
        load_settings(tmp_path, {})
    (tmp_path / "socialloop.toml").write_text("[store\n")
    with pytest.raises(ConfigError, match=r"socialloop\.toml"):
        load_settings(tmp_path, {})


def test_language_models_setting(tmp_path: Path) -> None:
    from socialloop.learn.language import LanguageEnricher
    from socialloop.learn.steps import build_steps

    write_default_config(tmp_path, name="acme")
    assert load_settings(tmp_path, {}).language_models == "full"
    (tmp_path / "socialloop.toml").write_text('[learn]\nlanguage_models = "trigram"\n')
    settings = load_settings(tmp_path, {})
    assert settings.language_models == "trigram"
    step = next(s for s in build_steps(settings, ["language"]) if s.name == "language")
    assert isinstance(step, LanguageEnricher) and step.low_accuracy_lingua
    (tmp_path / "socialloop.toml").write_text('[learn]\nlanguage_models = "tiny"\n')
    with pytest.raises(ConfigError, match="language_models"):
        load_settings(tmp_path, {})


def test_language_prior_setting(tmp_path: Path) -> None:
    from socialloop.learn.language import LanguageEnricher
    from socialloop.learn.steps import build_steps

    write_default_config(tmp_path, name="acme")
    settings = load_settings(tmp_path, {})
    assert settings.language_prior == "stream"
    step = next(s for s in build_steps(settings, ["language"]) if s.name == "language")
    assert isinstance(step, LanguageEnricher) and step.stream_prior
    (tmp_path / "socialloop.toml").write_text('[learn]\nlanguage_prior = "none"\n')
    step = next(s for s in build_steps(load_settings(tmp_path, {}), ["language"]))
    assert isinstance(step, LanguageEnricher) and not step.stream_prior
    (tmp_path / "socialloop.toml").write_text('[learn]\nlanguage_prior = "workspace"\n')
    with pytest.raises(ConfigError, match="language_prior"):
        load_settings(tmp_path, {})


def test_workspace_open_and_init_errors(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFound):
        Workspace.open(tmp_path)
    Workspace.init(tmp_path / "w").close()
    with pytest.raises(WorkspaceExists):
        Workspace.init(tmp_path / "w")
    with Workspace.open(tmp_path / "w") as ws:
        assert ws.store.stats()["posts"] == 0


def test_sections_are_read_for_later_capabilities(tmp_path: Path) -> None:
    from socialloop.config import CONFIG_FILE, load_settings, write_default_config
    from socialloop.errors import ConfigError

    write_default_config(tmp_path, name="t")
    with (tmp_path / CONFIG_FILE).open("a", encoding="utf-8") as fh:
        fh.write('\n[publish.mastodon]\ninstance = "https://social.example"\n[bad]\nx = 1\n')
    s = load_settings(tmp_path, environ={"SOCIALLOOP_MASTODON_TOKEN": "t0k"})
    assert s.section("publish.mastodon") == {"instance": "https://social.example"}
    assert s.section("publish.bluesky") == {} and s.section("inbox") == {}
    assert s.environ["SOCIALLOOP_MASTODON_TOKEN"] == "t0k"
    with pytest.raises(ConfigError, match=r"\[bad.x\] must be a table"):
        s.section("bad.x")
