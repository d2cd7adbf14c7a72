"""Alerts: spikes sent to webhooks (Slack-compatible JSON) and e-mail (SMTP), never twice.

Rules and channels come from ``[alerts]`` in socialloop.toml (see docs/reports.md). Each spike
has a key (brand|metric|window end); an alert whose key is stored, or whose brand and metric
were alerted for a window ending less than ``cooldown_hours`` earlier, is a duplicate and is not
sent again. An alert that every channel failed to take is stored as ``failed`` and retried by
the next check.

Post text and author names are hostile: Slack text escapes ``&``, ``<`` and ``>`` (so
``<!channel>`` or ``<http://x|y>`` in a post stay text); e-mail is text/plain with an HTML
alternative made only of escaped text; header values lose line breaks.
"""

from __future__ import annotations

import html
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select

from socialloop.adapt.scope import jsonable, naive
from socialloop.adapt.spikes import METRICS, Spike, SpikeRule, detect_spikes
from socialloop.config import Settings
from socialloop.errors import ConfigError, InvalidValue
from socialloop.store.rows import dialect_insert
from socialloop.store.schema import alerts
from socialloop.workspace import Workspace

SmtpFactory = Callable[[str, int, float], smtplib.SMTP]
_TEXT_LIMIT = 280
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True, slots=True)
class EmailSettings:
    host: str
    port: int
    sender: str
    to: tuple[str, ...]
    starttls: bool = True
    username: str | None = None
    password_env: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class AlertSettings:
    """``[alerts]``: the spike rule, which brands, the channels and the cooldown."""

    rule: SpikeRule = field(default_factory=SpikeRule)
    brands: tuple[str, ...] = ()
    webhooks: tuple[str, ...] = ()
    email: EmailSettings | None = None
    cooldown_hours: int = 24
    timeout: float = 10.0


def _typed(table: Mapping[str, Any], key: str, kind: type | tuple[type, ...], default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    # a bool is an int to Python, but `k = true` is not a number here
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"[alerts] {key} must be a {names}, not {value!r}")
    return value


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(x, str) and x for x in value):
        raise ConfigError(f"{where} {key} must be a list of strings, not {value!r}")
    return tuple(value)


def alert_settings(settings: Settings) -> AlertSettings:
    """Read and check ``[alerts]`` (and ``[alerts.email]``); ``ConfigError`` says what is wrong."""
    raw = settings.section("alerts")
    try:
        rule = SpikeRule(
            window_hours=_typed(raw, "window_hours", int, 24),
            baseline_days=_typed(raw, "baseline_days", int, 7),
            k=float(_typed(raw, "k", (int, float), 3.0)),
            min_count=_typed(raw, "min_count", int, 10),
            evidence=_typed(raw, "evidence", int, 5),
            metrics=_strings(raw, "metrics", "[alerts]") or METRICS,
        )
    except InvalidValue as exc:
        raise ConfigError(f"[alerts]: {exc}") from None
    hooks = _strings(raw, "webhooks", "[alerts]")
    for name in _strings(raw, "webhook_env", "[alerts]"):  # URLs kept out of the file
        url = settings.environ.get(name)
        if not url:
            raise ConfigError(f"[alerts] webhook_env: the variable {name} is not set")
        hooks += (url,)
    for url in hooks:
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            shown = url if url in raw.get("webhooks", []) else "(from the environment)"
            raise ConfigError(f"[alerts] webhooks: {shown} is not an http(s) URL")
    email = None
    if "email" in raw:
        e = settings.section("alerts.email")
        host = _typed(e, "host", str, None)
        sender = _typed(e, "from", str, None)
        to = _strings(e, "to", "[alerts.email]")
        if not host or not sender or not to:
            raise ConfigError("[alerts.email] needs host, from and to (a list of addresses)")
        email = EmailSettings(
            host=host,
            port=_typed(e, "port", int, 587),
            sender=sender,
            to=to,
            starttls=_typed(e, "starttls", bool, True),
            username=_typed(e, "username", str, None),
            password_env=_typed(e, "password_env", str, None),
            timeout=float(_typed(e, "timeout", (int, float), 10.0)),
        )
    return AlertSettings(
        rule=rule,
        brands=_strings(raw, "brands", "[alerts]"),
        webhooks=hooks,
        email=email,
        cooldown_hours=_typed(raw, "cooldown_hours", int, rule.window_hours),
        timeout=float(_typed(raw, "timeout", (int, float), 10.0)),
    )


# -- rendering ---------------------------------------------------------------------------------


def slack_escape(text: str) -> str:
    """Text for Slack mrkdwn: ``&``, ``<``, ``>`` escaped as Slack requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _one_line(text: str, limit: int = _TEXT_LIMIT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def headline(spike: Spike) -> str:
    return (
        f"Spike: {spike.brand} {spike.label} — {spike.observed} posts in the window to "
        f"{spike.window_end:%Y-%m-%d %H:00} UTC (threshold {spike.threshold:g}, z {spike.z:g})"
    )


def text_body(spike: Spike) -> str:
    """The plain-text alert: headline, the rule's numbers, the posts that caused it."""
    lines = [_one_line(headline(spike), 1000), "", spike.explanation, ""]
    if spike.posts:
        lines.append("Posts with the most engagement in the window:")
    for p in spike.posts:
        who = f"@{p.author}" if p.author else "(unknown)"
        lines.append(f"- {who} on {p.network}, {p.engagement} engagements: {_one_line(p.text)}")
        if p.url:
            lines.append(f"  {p.url}")
    return "\n".join(lines)


def slack_payload(spike: Spike) -> dict[str, Any]:
    """Slack incoming-webhook JSON: ``text`` (the fallback) and ``blocks``."""
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": slack_escape(headline(spike))}},
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": slack_escape(spike.explanation)}],
        },
    ]
    for p in spike.posts:
        who = slack_escape(f"@{p.author}" if p.author else "(unknown)")
        body = slack_escape(_one_line(p.text))
        link = ""
        if p.url and urlsplit(p.url).scheme in ("http", "https"):
            link = "\n" + slack_escape(p.url)
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": f"{who} ({slack_escape(p.network)}, {p.engagement}): {body}{link}",
                },
            }
        )
    return {"text": slack_escape(headline(spike)), "blocks": blocks}


def _header(value: str) -> str:
    return " ".join(value.split())[:200]


def email_message(spike: Spike, cfg: EmailSettings) -> EmailMessage:
    """text/plain with an HTML alternative built only from escaped text."""
    msg = EmailMessage()
    msg["Subject"] = _header(f"[socialloop] spike: {spike.brand} {spike.label}")
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.to)
    body = text_body(spike)
    msg.set_content(body)
    msg.add_alternative(
        '<!doctype html><html><body><pre style="white-space:pre-wrap">'
        + html.escape(body)
        + "</pre></body></html>",
        subtype="html",
    )
    return msg


# -- channels ----------------------------------------------------------------------------------


def _default_smtp(host: str, port: int, timeout: float) -> smtplib.SMTP:
    return smtplib.SMTP(host, port, timeout=timeout)


def send_webhook(client: httpx.Client, url: str, spike: Spike, timeout: float) -> str | None:
    """POST the Slack JSON; None on a 2xx answer, else the reason."""
    try:
        resp = client.post(url, json=slack_payload(spike), timeout=timeout)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if resp.is_success:
        return None
    return f"HTTP {resp.status_code}: {resp.text[:200]}"


def send_email(
    cfg: EmailSettings, spike: Spike, environ: Mapping[str, str], smtp: SmtpFactory
) -> str | None:
    """Send the e-mail; None when the server took it, else the reason."""
    password = None
    if cfg.username:
        if not cfg.password_env or not environ.get(cfg.password_env):
            return f"SMTP password variable {cfg.password_env or '(password_env unset)'} is empty"
        password = environ[cfg.password_env]
        if not cfg.starttls and cfg.host not in _LOCAL_HOSTS:
            return f"refusing to send the SMTP password to {cfg.host} without STARTTLS"
    try:
        with smtp(cfg.host, cfg.port, cfg.timeout) as server:
            if cfg.starttls:
                server.starttls(context=ssl.create_default_context())
            if cfg.username and password is not None:
                server.login(cfg.username, password)
            server.send_message(email_message(spike, cfg))
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# -- checking ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str  # webhook:HOST | email
    ok: bool
    error: str | None = None


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What a check did with one spike: sent, failed, recorded (no channel), duplicate, or
    would_send (dry run)."""

    key: str
    status: str
    spike: Spike
    deliveries: list[Delivery] = field(default_factory=list)


def _previous(ws: Workspace, spike: Spike, cooldown: timedelta) -> str | None:
    """Why this spike was already alerted (None: it was not)."""
    with ws.store.begin() as conn:
        row = conn.execute(select(alerts.c.status).where(alerts.c.key == spike.key)).first()
        if row is not None and row.status != "failed":
            return "same key"
        recent = conn.execute(
            select(alerts.c.key).where(
                alerts.c.brand == spike.brand,
                alerts.c.metric == spike.metric,
                alerts.c.status != "failed",
                alerts.c.window_end > naive(spike.window_end - cooldown),
                alerts.c.window_end <= naive(spike.window_end),
            )
        ).first()
    return "cooldown" if recent is not None else None


def _record(ws: Workspace, spike: Spike, status: str, deliveries: Sequence[Delivery]) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    values = {
        "key": spike.key,
        "brand_id": spike.brand_id,
        "brand": spike.brand,
        "metric": spike.metric,
        "window_start": naive(spike.window_start),
        "window_end": naive(spike.window_end),
        "observed": spike.observed,
        "threshold": spike.threshold,
        "z": spike.z,
        "status": status,
        "deliveries": jsonable(list(deliveries)),
        "payload": jsonable(spike),
        "created_at": now,
        "updated_at": now,
    }
    with ws.store.begin() as conn:
        ins = dialect_insert(conn, alerts).values(**values)
        conn.execute(
            ins.on_conflict_do_update(
                index_elements=[alerts.c.key],
                set_={
                    "status": ins.excluded.status,
                    "deliveries": ins.excluded.deliveries,
                    "payload": ins.excluded.payload,
                    "updated_at": ins.excluded.updated_at,
                },
            )
        )


def check_alerts(
    ws: Workspace,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    client: httpx.Client | None = None,
    smtp: SmtpFactory | None = None,
    config: AlertSettings | None = None,
) -> list[AlertOutcome]:
    """Detect spikes with the configured rule and alert each new one on every channel.
    ``dry_run`` sends and stores nothing (the outcomes say what would be sent). ``client`` and
    ``smtp`` are injectable for tests (default: a new httpx client, ``smtplib.SMTP``)."""
    cfg = config or alert_settings(ws.settings)
    brands = [ws.store.get_brand(b) for b in cfg.brands] if cfg.brands else None
    spikes = detect_spikes(ws, brands=brands, rule=cfg.rule, now=now)
    cooldown = timedelta(hours=cfg.cooldown_hours)
    out: list[AlertOutcome] = []
    own_client = client is None and bool(cfg.webhooks) and not dry_run
    http = httpx.Client() if own_client else client
    try:
        for spike in spikes:
            if _previous(ws, spike, cooldown) is not None:
                out.append(AlertOutcome(spike.key, "duplicate", spike))
                continue
            if dry_run:
                out.append(AlertOutcome(spike.key, "would_send", spike))
                continue
            deliveries: list[Delivery] = []
            for url in cfg.webhooks:
                assert http is not None
                err = send_webhook(http, url, spike, cfg.timeout)
                deliveries.append(Delivery(f"webhook:{urlsplit(url).netloc}", err is None, err))
            if cfg.email is not None:
                err = send_email(cfg.email, spike, ws.settings.environ, smtp or _default_smtp)
                deliveries.append(Delivery("email", err is None, err))
            if not deliveries:
                status = "recorded"
            else:
                status = "sent" if any(d.ok for d in deliveries) else "failed"
            _record(ws, spike, status, deliveries)
            out.append(AlertOutcome(spike.key, status, spike, deliveries))
    finally:
        if own_client and http is not None:
            http.close()
    return out


@dataclass(frozen=True, slots=True)
class AlertRecord:
    id: int
    key: str
    brand: str
    metric: str
    window_start: datetime
    window_end: datetime
    observed: int
    threshold: float
    z: float
    status: str
    deliveries: list[dict[str, Any]]
    created_at: datetime


def list_alerts(ws: Workspace, *, limit: int = 50) -> list[AlertRecord]:
    """Stored alerts, newest first."""
    with ws.store.begin() as conn:
        rows = conn.execute(select(alerts).order_by(alerts.c.id.desc()).limit(limit)).all()
    return [
        AlertRecord(
            id=int(r.id),
            key=r.key,
            brand=r.brand,
            metric=r.metric,
            window_start=r.window_start.replace(tzinfo=UTC),
            window_end=r.window_end.replace(tzinfo=UTC),
            observed=int(r.observed),
            threshold=float(r.threshold),
            z=float(r.z),
            status=r.status,
            deliveries=list(r.deliveries or []),
            created_at=r.created_at.replace(tzinfo=UTC),
        )
        for r in rows
    ]
