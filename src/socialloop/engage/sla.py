"""SLA policies: business hours in a time zone, first-response targets, due times and the
at-risk / breached state of an item.

A policy has a time zone (IANA name, ``zoneinfo``), opening hours per weekday (none: open
around the clock) and targets in *business minutes* per priority band (``high``, ``medium``,
``low``) and per intent; the shortest target that applies to an item wins. The clock starts
when the post was written. An item is *breached* when it has no first response and its due
time has passed, *at risk* when less than ``at_risk`` (a fraction, default 0.25) of its target
remains in business time.

Policies live in the ``sla_policies`` table: ``default`` and optional per-brand ones named
after the brand. Without any, ``BUILTIN`` applies (around the clock, UTC).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select

from socialloop.errors import InvalidValue
from socialloop.learn.fields import INTENTS
from socialloop.store import Store
from socialloop.store.schema import sla_policies

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BANDS: tuple[str, ...] = ("high", "medium", "low")
DEFAULT_TARGETS: Mapping[str, int] = {"high": 60, "medium": 240, "low": 1440}


@dataclass(frozen=True, slots=True)
class SlaPolicy:
    """Business hours (weekday -> (open, close) local times) and targets in minutes."""

    name: str = "default"
    timezone: str = "UTC"
    hours: Mapping[str, tuple[time, time]] = field(default_factory=dict)
    targets: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    at_risk: float = 0.25

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def target(self, band: str, intents: Sequence[str]) -> int:
        """The first-response target in business minutes for an item."""
        candidates = [self.targets[k] for k in (band, *intents) if k in self.targets]
        return min(candidates) if candidates else DEFAULT_TARGETS.get(band, 1440)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "timezone": self.timezone,
            "hours": {
                d: f"{o.strftime('%H:%M')}-{c.strftime('%H:%M')}"
                for d, (o, c) in sorted(self.hours.items(), key=lambda kv: DAYS.index(kv[0]))
            },
            "targets": dict(self.targets),
            "at_risk": self.at_risk,
        }


BUILTIN = SlaPolicy()


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidValue(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Helsinki"
        ) from None
    return name


_HOURS = re.compile(r"^([a-z]{3})(?:-([a-z]{3}))?\s+(\d{1,2}:\d{2})-(\d{1,2}:\d{2})$")


def parse_hours(spec: str) -> dict[str, tuple[time, time]]:
    """``"mon-fri 09:00-17:00, sat 10:00-14:00"`` -> {weekday: (open, close)};
    ``"24/7"`` or empty: open around the clock ({})."""
    spec = spec.strip().lower()
    if spec in ("", "24/7", "always"):
        return {}
    out: dict[str, tuple[time, time]] = {}
    for part in spec.split(","):
        m = _HOURS.match(part.strip())
        if not m or m.group(1) not in DAYS or (m.group(2) and m.group(2) not in DAYS):
            raise InvalidValue(
                f"business hours {part.strip()!r} are not like 'mon-fri 09:00-17:00' "
                f"(days: {', '.join(DAYS)}; parts separated by commas; or '24/7')"
            )
        try:
            opens, closes = (
                time.fromisoformat(m.group(3).zfill(5)),
                time.fromisoformat(m.group(4).zfill(5)),
            )
        except ValueError:
            raise InvalidValue(f"business hours {part.strip()!r}: not a valid time") from None
        if closes <= opens:
            raise InvalidValue(f"business hours {part.strip()!r}: closing must follow opening")
        first = DAYS.index(m.group(1))
        last = DAYS.index(m.group(2)) if m.group(2) else first
        if last < first:
            raise InvalidValue(f"business hours {part.strip()!r}: days must run mon..sun")
        for d in DAYS[first : last + 1]:
            out[d] = (opens, closes)
    return out


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(m|min|h|d)?$")


def parse_target(spec: str) -> tuple[str, int]:
    """``"high=1h"``, ``"question=90m"`` -> (key, minutes). Keys: a band or an intent."""
    key, sep, value = spec.partition("=")
    key = key.strip()
    if not sep or key not in (*BANDS, *INTENTS):
        raise InvalidValue(
            f"SLA target {spec!r} is not KEY=DURATION with KEY one of "
            f"{', '.join((*BANDS, *INTENTS))} (e.g. high=1h, question=4h)"
        )
    m = _DURATION.match(value.strip().lower())
    if not m:
        raise InvalidValue(f"SLA target {spec!r}: duration must be like 30m, 4h or 1d")
    number, unit = float(m.group(1)), m.group(2) or "m"
    minutes = number * {"m": 1, "min": 1, "h": 60, "d": 1440}[unit]
    if minutes < 1:
        raise InvalidValue(f"SLA target {spec!r}: at least one minute")
    return key, round(minutes)


# -- business time ----------------------------------------------------------------------------


def _window(policy: SlaPolicy, day: date) -> tuple[datetime, datetime] | None:
    """The day's opening window as UTC datetimes (None: closed that day)."""
    if not policy.hours:
        start = datetime.combine(day, time.min, tzinfo=policy.zone)
        end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=policy.zone)
        return start.astimezone(UTC), end.astimezone(UTC)
    hours = policy.hours.get(DAYS[day.weekday()])
    if hours is None:
        return None
    opens = datetime.combine(day, hours[0], tzinfo=policy.zone).astimezone(UTC)
    closes = datetime.combine(day, hours[1], tzinfo=policy.zone).astimezone(UTC)
    return opens, closes


def add_business_minutes(policy: SlaPolicy, start: datetime, minutes: float) -> datetime:
    """The UTC time ``minutes`` of business time after ``start`` (aware)."""
    if not policy.hours:
        return start.astimezone(UTC) + timedelta(minutes=minutes)
    left = timedelta(minutes=minutes)
    t = start.astimezone(UTC)
    day = t.astimezone(policy.zone).date() - timedelta(days=1)
    for _ in range(800):  # two years of closed days is a misconfiguration, not a loop
        window = _window(policy, day)
        day += timedelta(days=1)
        if window is None or window[1] <= t:
            continue
        t = max(t, window[0])
        room = window[1] - t
        if left <= room:
            return t + left
        left -= room
    raise InvalidValue(f"SLA policy {policy.name!r} has no business hours")


def business_minutes_between(policy: SlaPolicy, a: datetime, b: datetime) -> float:
    """Business minutes from ``a`` to ``b`` (negative when ``b`` is before ``a``)."""
    if b < a:
        return -business_minutes_between(policy, b, a)
    if not policy.hours:
        return (b - a).total_seconds() / 60.0
    total = timedelta()
    day = a.astimezone(policy.zone).date() - timedelta(days=1)
    last = b.astimezone(policy.zone).date() + timedelta(days=1)
    while day <= last:
        window = _window(policy, day)
        day += timedelta(days=1)
        if window is None:
            continue
        lo, hi = max(a, window[0]), min(b, window[1])
        if hi > lo:
            total += hi - lo
    return total.total_seconds() / 60.0


def due_at(policy: SlaPolicy, posted_at: datetime, band: str, intents: Sequence[str]) -> datetime:
    return add_business_minutes(policy, posted_at, policy.target(band, intents))


def state(
    policy: SlaPolicy,
    *,
    due: datetime | None,
    target_minutes: int,
    now: datetime,
    responded: bool,
) -> str:
    """``ok``, ``at_risk``, ``breached``, or ``met`` (responded) / ``none`` (no due time)."""
    if responded:
        return "met"
    if due is None:
        return "none"
    if now >= due:
        return "breached"
    left = business_minutes_between(policy, now, due)
    return "at_risk" if left <= policy.at_risk * target_minutes else "ok"


# -- storage ---------------------------------------------------------------------------------


def _from_row(row: Any) -> SlaPolicy:
    hours = {
        d: (time.fromisoformat(v[0]), time.fromisoformat(v[1])) for d, v in dict(row.hours).items()
    }
    return SlaPolicy(row.name, row.timezone, hours, dict(row.targets), float(row.at_risk))


def list_policies(store: Store) -> list[SlaPolicy]:
    with store.begin() as conn:
        rows = conn.execute(select(sla_policies).order_by(sla_policies.c.name)).all()
    return [_from_row(r) for r in rows]


def policy_for(store: Store, brand: str | None) -> SlaPolicy:
    """The brand's policy, else ``default``, else ``BUILTIN``."""
    found = {p.name: p for p in list_policies(store)}
    if brand is not None and brand in found:
        return found[brand]
    return found.get("default", BUILTIN)


def save_policy(store: Store, policy: SlaPolicy, now: datetime) -> None:
    if not 0.0 <= policy.at_risk < 1.0:
        raise InvalidValue(f"at-risk fraction must be in [0, 1), not {policy.at_risk}")
    check_timezone(policy.timezone)
    row = {
        "name": policy.name,
        "timezone": policy.timezone,
        "hours": {
            d: [o.isoformat("minutes"), c.isoformat("minutes")]
            for d, (o, c) in policy.hours.items()
        },
        "targets": dict(policy.targets),
        "at_risk": policy.at_risk,
        "updated_at": now.astimezone(UTC).replace(tzinfo=None),
    }
    with store.begin() as conn:
        conn.execute(delete(sla_policies).where(sla_policies.c.name == policy.name))
        conn.execute(sla_policies.insert().values(**row))
