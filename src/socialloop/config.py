"""Workspace settings: ``socialloop.toml`` overlaid with ``SOCIALLOOP_*`` environment variables.

Settings are a plain frozen object handed to whoever needs them (no module-level state).
Relative SQLite paths in ``database_url`` are resolved against the workspace directory.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from socialloop.errors import ConfigError

CONFIG_FILE = "socialloop.toml"
DEFAULT_DB_FILE = "socialloop.db"

TEMPLATE = """\
# socialloop workspace settings. Environment variables SOCIALLOOP_<KEY> override them
# (e.g. SOCIALLOOP_DATABASE_URL).

[workspace]
name = "{name}"

[store]
# SQLite file inside the workspace by default; a PostgreSQL URL
# (postgresql+psycopg://user@host/db) is the team-server option.
database_url = "{database_url}"

[import]
# posts per transaction; larger is faster, smaller loses less work on a crash
batch_size = 5000
# where rejected records are written (relative to the workspace)
rejects_dir = "rejects"

[learn]
# languages your audience writes in (ISO 639-1); empty = detect among all languages.
# A short list makes detection faster and more accurate, e.g. ["en", "es", "fr", "de", "fi"]
languages = []
# "fast" (bundled small models) or "accurate" (larger models where installed)
mode = "fast"
# lingua models that confirm an unsure language guess: "full" (most accurate; up to ~900 MB
# when posts come in dozens of languages) or "trigram" (~200 MB, a little less accurate)
language_models = "full"
# "stream": an unsure short post is weighed among the languages this stream's clear posts are
# in (at least 1 in 1,000 of them), which spares loading dozens of lingua models; "none":
# among every language py3langid ranks high (slower to start, each post decided on its own)
language_prior = "stream"
# worker processes for `socialloop enrich`
workers = 1
"""


@dataclass(frozen=True, slots=True)
class Settings:
    root: Path
    name: str
    database_url: str
    batch_size: int = 5000
    rejects_dir: Path = Path("rejects")
    # LEARN: candidate languages (empty: every language the detector knows), model mode,
    # worker processes for `enrich`
    languages: tuple[str, ...] = ()
    enrich_mode: str = "fast"
    language_models: str = "full"
    language_prior: str = "stream"
    workers: int = 1
    # the whole parsed socialloop.toml: later capabilities (inbox, publishing, alerts, ...)
    # read and validate their own sections through section()
    raw: Mapping[str, Any] = field(default_factory=dict)
    # the environment the settings were read with (credentials are looked up here)
    environ: Mapping[str, str] = field(default_factory=dict)

    def section(self, dotted: str) -> dict[str, Any]:
        """The table at ``dotted`` (e.g. ``"inbox"``, ``"publish.mastodon"``); {} when absent.

        A key that exists but is not a table is a :class:`ConfigError`.
        """
        node: Any = self.raw
        for part in dotted.split("."):
            node = node.get(part, {}) if isinstance(node, Mapping) else None
            if not isinstance(node, Mapping):
                raise ConfigError(f"{CONFIG_FILE}: [{dotted}] must be a table")
        return dict(node)

    @property
    def rejects_path(self) -> Path:
        return self.rejects_dir if self.rejects_dir.is_absolute() else self.root / self.rejects_dir


def _resolve_url(url: str, root: Path) -> str:
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix) :]
        if rest and rest != ":memory:" and not Path(rest).is_absolute():
            return f"{prefix}{(root / rest).resolve()}"
    return url


def _get(table: Mapping[str, Any], key: str, kind: type, path: str) -> Any:
    value = table.get(key)
    if value is not None and not isinstance(value, kind):
        raise ConfigError(f"{path}: '{key}' must be a {kind.__name__}, not {value!r}")
    return value


def load_settings(root: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``root/socialloop.toml`` and apply environment overrides."""
    env = os.environ if environ is None else environ
    path = root / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    ws = data.get("workspace", {})
    store = data.get("store", {})
    imp = data.get("import", {})
    name = _get(ws, "name", str, str(path)) or root.name
    url = env.get("SOCIALLOOP_DATABASE_URL") or _get(store, "database_url", str, str(path))
    url = url or f"sqlite:///{DEFAULT_DB_FILE}"
    batch = env.get("SOCIALLOOP_BATCH_SIZE") or _get(imp, "batch_size", int, str(path)) or 5000
    try:
        batch_size = int(batch)
    except ValueError as exc:
        raise ConfigError(f"batch_size must be an integer, not {batch!r}") from exc
    if batch_size < 1:
        raise ConfigError(f"batch_size must be at least 1, not {batch_size}")
    rejects = _get(imp, "rejects_dir", str, str(path)) or "rejects"
    learn = data.get("learn", {})
    languages = _get(learn, "languages", list, str(path)) or []
    if not all(isinstance(x, str) and x for x in languages):
        raise ConfigError(f'{path}: learn.languages must be a list of codes like ["en", "fi"]')
    mode = env.get("SOCIALLOOP_ENRICH_MODE") or _get(learn, "mode", str, str(path)) or "fast"
    if mode not in ("fast", "accurate"):
        raise ConfigError(f'{path}: learn.mode must be "fast" or "accurate", not {mode!r}')
    workers = _get(learn, "workers", int, str(path)) or 1
    lingua = _get(learn, "language_models", str, str(path)) or "full"
    if lingua not in ("full", "trigram"):
        raise ConfigError(
            f'{path}: learn.language_models must be "full" or "trigram", not {lingua!r}'
        )
    prior = _get(learn, "language_prior", str, str(path)) or "stream"
    if prior not in ("stream", "none"):
        raise ConfigError(f'{path}: learn.language_prior must be "stream" or "none", not {prior!r}')
    return Settings(
        root=root,
        name=name,
        database_url=_resolve_url(url, root),
        batch_size=batch_size,
        rejects_dir=Path(rejects),
        languages=tuple(x.lower() for x in languages),
        enrich_mode=mode,
        language_models=lingua,
        language_prior=prior,
        workers=max(1, workers),
        raw=data,
        environ=dict(env),
    )


def write_default_config(root: Path, *, name: str, database_url: str | None = None) -> Path:
    path = root / CONFIG_FILE
    url = database_url or f"sqlite:///{DEFAULT_DB_FILE}"
    path.write_text(
        TEMPLATE.format(name=name.replace('"', "'"), database_url=url), encoding="utf-8"
    )
    return path
