"""The inbox rules: which posts enter the inbox, and the workflow settings, read from the
``[inbox]`` table of socialloop.toml (defaults when absent), validated, and written back by
``socialloop inbox rules set``.

Every key, its meaning and its default is listed in ``RULE_DOCS`` (shown by ``inbox rules``
and in docs/inbox.md). Writing replaces only the ``[inbox]`` table of the file; the rest of the
file is kept byte for byte.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from socialloop.config import CONFIG_FILE, Settings
from socialloop.errors import ConfigError
from socialloop.learn.fields import INTENTS

ENTRY_INTENTS: tuple[str, ...] = (
    "question",
    "support_request",
    "complaint",
    "purchase_intent",
    "recommendation_request",
)
ROLES: tuple[str, ...] = ("agent", "approver")


@dataclass(frozen=True, slots=True)
class InboxRules:
    """The ``[inbox]`` settings (see ``RULE_DOCS`` for each one)."""

    brands: str = "own"
    intents: tuple[str, ...] = ENTRY_INTENTS
    min_intent_score: float = 0.0
    influence: float = 0.75
    spike: bool = True
    spike_k: float = 3.0
    spike_hours: int = 24
    spike_days: int = 7
    spike_min: int = 5
    own_mentions: bool = True
    claim_minutes: int = 30
    require_approval: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


RULE_DOCS: Mapping[str, str] = {
    "brands": '"own": triage posts about your own brands; "all": competitors too',
    "intents": "intents that let a post in (question, support_request, complaint, "
    "purchase_intent, recommendation_request, praise); [] turns the intent rule off",
    "min_intent_score": "least confidence of the intent step for the intent rule (0..1)",
    "influence": "authors at or above this influence (0..1) enter when the post has an intent "
    "or is negative toward the brand; a value above 1 turns the rule off",
    "spike": "negative posts toward a brand inside a spike of its negative volume enter",
    "spike_k": "spike test: negatives in the last spike_hours >= mean + k * stdev of the "
    "spike_days before",
    "spike_hours": "spike test window in hours",
    "spike_days": "spike test baseline in days (windows of spike_hours each)",
    "spike_min": "spike test: at least this many negatives in the window",
    "own_mentions": "posts addressed to one of the brand's own accounts enter (replies to it, "
    "or posts starting with its @mention)",
    "claim_minutes": "how long an agent's claim on an item (while answering) lasts",
    "require_approval": 'roles whose replies need an approver, e.g. ["agent"]',
}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _where(key: str) -> str:
    return f"{CONFIG_FILE} [inbox] {key}"


def _number(key: str, value: Any, *, lo: float, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{_where(key)} must be a number, not {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise ConfigError(f"{_where(key)} must be {bound}, not {value!r}")
    return float(value)


def _integer(key: str, value: Any, *, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ConfigError(f"{_where(key)} must be a whole number >= {lo}, not {value!r}")
    return value


def _names(key: str, value: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f'{_where(key)} must be a list of names like ["{allowed[0]}"]')
    bad = [v for v in value if v not in allowed]
    if bad:
        raise ConfigError(f"{_where(key)}: unknown {bad[0]!r}; use any of {', '.join(allowed)}")
    return tuple(dict.fromkeys(value))


def parse_rules(table: Mapping[str, Any]) -> InboxRules:
    """Validate an ``[inbox]`` table; unknown keys and bad values are :class:`ConfigError`."""
    unknown = sorted(set(table) - set(RULE_DOCS))
    if unknown:
        raise ConfigError(
            f"{CONFIG_FILE} [inbox]: unknown key {unknown[0]!r}; known: {', '.join(RULE_DOCS)}"
        )
    rules = InboxRules()
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key == "brands":
            if value not in ("own", "all"):
                raise ConfigError(f'{_where(key)} must be "own" or "all", not {value!r}')
            changes[key] = value
        elif key == "intents":
            changes[key] = _names(key, value, INTENTS)
        elif key == "require_approval":
            changes[key] = _names(key, value, ROLES)
        elif key in ("spike", "own_mentions"):
            if not isinstance(value, bool):
                raise ConfigError(f"{_where(key)} must be true or false, not {value!r}")
            changes[key] = value
        elif key == "min_intent_score":
            changes[key] = _number(key, value, lo=0.0, hi=1.0)
        elif key in ("influence", "spike_k"):
            changes[key] = _number(key, value, lo=0.0)
        elif key in ("spike_hours", "spike_days", "claim_minutes"):
            changes[key] = _integer(key, value, lo=1)
        elif key == "spike_min":
            changes[key] = _integer(key, value, lo=0)
    return replace(rules, **changes)


def load_rules(settings: Settings) -> InboxRules:
    """The workspace's inbox rules (defaults for whatever ``[inbox]`` leaves out)."""
    return parse_rules(settings.section("inbox"))


def parse_value(key: str, text: str) -> Any:
    """A value typed on the command line for ``key``, in the type the key takes."""
    if key not in RULE_DOCS:
        raise ConfigError(f"unknown inbox rule {key!r}; known: {', '.join(RULE_DOCS)}")
    default = getattr(InboxRules(), key)
    text = text.strip()
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "yes", "no", "on", "off"):
            raise ConfigError(f"{key} takes true or false, not {text!r}")
        return text.lower() in ("true", "yes", "on")
    if isinstance(default, tuple):
        return [p.strip() for p in text.split(",") if p.strip()]
    if isinstance(default, int):
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{key} takes a whole number, not {text!r}") from None
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{key} takes a number, not {text!r}") from None
    return text


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def write_rules(settings: Settings, changes: Mapping[str, Any]) -> InboxRules:
    """Set ``changes`` in the ``[inbox]`` table of the workspace's socialloop.toml.

    The new table is validated before anything is written; only the ``[inbox]`` table's lines
    are replaced (sub-tables such as ``[inbox.x]`` and every other table are kept)."""
    table = {**settings.section("inbox"), **changes}
    rules = parse_rules(table)
    path: Path = settings.root / CONFIG_FILE
    lines = path.read_text(encoding="utf-8").splitlines()
    start = end = None
    for i, line in enumerate(lines):
        m = _HEADER.match(line)
        if not m:
            continue
        if m.group(1) == "inbox":
            start = i
        elif start is not None and end is None:
            end = i
    body = ["[inbox]"] + [f"{k} = {_toml_value(v)}" for k, v in table.items()]
    if start is None:
        lines = [*lines, "", *body]
    else:
        stop = end if end is not None else len(lines)
        lines = [*lines[:start], *body, "", *lines[stop:]]
    path.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    return rules
