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

from socialloop.errors import ConfigError, InvalidSetting

CONFIG_FILE = "socialloop.toml"
DEFAULT_DB_FILE = "socialloop.db"

TEMPLATE = """\
# socialloop workspace settings (docs/settings.md). Three environment variables override keys
# here: SOCIALLOOP_DATABASE_URL ([store] database_url), SOCIALLOOP_BATCH_SIZE ([import]
# batch_size) and SOCIALLOOP_ENRICH_MODE ([learn] mode).

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
# worker processes for `socialloop enrich` (at least 1)
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


# environment variable -> the key it overrides (the only overrides there are)
ENV_OVERRIDES = {
    "SOCIALLOOP_DATABASE_URL": "store.database_url",
    "SOCIALLOOP_BATCH_SIZE": "import.batch_size",
    "SOCIALLOOP_ENRICH_MODE": "learn.mode",
}
TABLES = ("workspace", "store", "import", "learn")
# every ISO 639-1 code, plus the older or longer codes the language step also reads as one
# (in, iw, ji, jw, fil): a typo or a language name is caught when the settings load; whether
# the detector knows the language is checked when the language step is built
_ISO_CODES = """
    aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu
    cv cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho
    hr ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv
    kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr
    nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq
    sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu in iw ji jw fil"""
ISO_639_1 = frozenset(_ISO_CODES.split())
LANGUAGE_HINT = "use ISO 639-1 codes such as en, es, fi"
_KINDS = {str: "string", int: "whole number", list: "list"}


class _Reader:
    """Reads typed keys of the parsed file; every error names the file and the dotted key."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.tables: dict[str, Mapping[str, Any]] = {}
        for name in TABLES:
            table = data.get(name, {})
            if not isinstance(table, Mapping):
                raise InvalidSetting(
                    f"{path}: {name} must be a table (a [{name}] line with its keys below it), "
                    f"not {table!r}",
                    key=name,
                    file=str(path),
                )
            self.tables[name] = table

    def fail(self, key: str, problem: str) -> InvalidSetting:
        return InvalidSetting(f"{self.path}: {key} {problem}", key=key, file=str(self.path))

    def get(self, key: str, kind: type) -> Any:
        """``table.key`` when present (None when absent); a value of another type is an error."""
        table, _, name = key.partition(".")
        value = self.tables[table].get(name)
        wrong = not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        if value is not None and wrong:
            raise self.fail(key, f"must be a {_KINDS.get(kind, kind.__name__)}, not {value!r}")
        return value

    def choice(self, key: str, allowed: tuple[str, ...], env: Mapping[str, str]) -> str:
        """A string among ``allowed`` (the first is the default), from the environment when it
        overrides ``key``, else from the file."""
        variable = next((v for v, k in ENV_OVERRIDES.items() if k == key and env.get(v)), None)
        value = env[variable] if variable else self.get(key, str)
        if value is None:
            return allowed[0]
        if value in allowed:
            return str(value)
        expected = " or ".join(f'"{a}"' for a in allowed)
        if variable:
            raise InvalidSetting(
                f"environment variable {variable} must be {expected}, not {value!r}",
                key=key,
                variable=variable,
            )
        raise self.fail(key, f"must be {expected}, not {value!r}")

    def positive(self, key: str, default: int, env: Mapping[str, str]) -> int:
        """A whole number >= 1, from the environment when it overrides ``key``."""
        variable = next((v for v, k in ENV_OVERRIDES.items() if k == key and env.get(v)), None)
        if variable:
            try:
                number = int(env[variable])
            except ValueError:
                number = None
            if number is None or number < 1:
                raise InvalidSetting(
                    f"environment variable {variable} must be a whole number of at least 1, "
                    f"not {env[variable]!r}",
                    key=key,
                    variable=variable,
                )
            return number
        value = self.get(key, int)
        if value is None:
            return default
        if value < 1:
            raise self.fail(key, f"must be at least 1, not {value}")
        return int(value)

    def languages(self) -> tuple[str, ...]:
        value = self.get("learn.languages", list) or []
        if not all(isinstance(x, str) and x.strip() for x in value):
            raise self.fail(
                "learn.languages", f'must be a list of codes like ["en", "fi"], not {value!r}'
            )
        codes = tuple(dict.fromkeys(x.strip().lower() for x in value))
        bad = [c for c in codes if c not in ISO_639_1]
        if bad:
            raise InvalidSetting(
                f"{self.path}: learn.languages has {', '.join(map(repr, bad))}, "
                f"not language code(s); {LANGUAGE_HINT}",
                key="learn.languages",
                file=str(self.path),
            )
        return codes


def load_settings(root: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Read ``root/socialloop.toml`` and apply environment overrides (:data:`ENV_OVERRIDES`).

    A bad value is :class:`~socialloop.errors.InvalidSetting` naming the key and where it was
    set (the file, or the environment variable)."""
    env = os.environ if environ is None else environ
    path = root / CONFIG_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    read = _Reader(path, data)
    name = read.get("workspace.name", str) or root.name
    url = env.get("SOCIALLOOP_DATABASE_URL") or read.get("store.database_url", str)
    url = url or f"sqlite:///{DEFAULT_DB_FILE}"
    return Settings(
        root=root,
        name=name,
        database_url=_resolve_url(url, root),
        batch_size=read.positive("import.batch_size", 5000, env),
        rejects_dir=Path(read.get("import.rejects_dir", str) or "rejects"),
        languages=read.languages(),
        enrich_mode=read.choice("learn.mode", ("fast", "accurate"), env),
        language_models=read.choice("learn.language_models", ("full", "trigram"), env),
        language_prior=read.choice("learn.language_prior", ("stream", "none"), env),
        workers=read.positive("learn.workers", 1, env),
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
