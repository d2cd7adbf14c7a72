"""Alerts: settings from socialloop.toml, Slack-compatible webhooks (httpx.MockTransport),
e-mail through a local SMTP server started here, no duplicates, hostile text escaped."""

from __future__ import annotations

import email
import smtplib
import socketserver
import threading
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import httpx
import orjson
import pytest
from click.testing import CliRunner

from socialloop.adapt.alerts import (
    AlertSettings,
    EmailSettings,
    alert_settings,
    check_alerts,
    list_alerts,
    slack_escape,
)
from socialloop.adapt.spikes import SpikeRule
from socialloop.cli.main import cli
from socialloop.config import CONFIG_FILE
from socialloop.errors import ConfigError
from socialloop.models import Post
from socialloop.workspace import Workspace
from tests._adapt_data import at, label, load
from tests.conftest import make_post

HOSTILE = "acme <!channel> <https://evil.example|click> & <script>alert(1)</script>"


def _spiky(ws: Workspace) -> None:
    ws.add_brand("Acme", "acme")
    items: list[Post] = []
    rows: list[tuple[str, str, str]] = []
    for d in range(1, 9):
        for i in range(40 if d == 8 else 10):
            pid = f"p{d}-{i}"
            text = HOSTILE if (d == 8 and i == 0) else f"acme post {d} {i}"
            items.append(
                make_post(pid, text, when=at(d, i % 24), likes=500 if text == HOSTILE else 1)
            )
            rows.append((pid, "sentiment", "neutral"))
    label(ws, load(ws, items), rows)


class _Hook:
    """A Slack incoming webhook: answers 200 "ok" and keeps the JSON bodies."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, object]] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(orjson.loads(request.content))
        assert request.headers["content-type"] == "application/json"
        return httpx.Response(self.status, text="ok" if self.status == 200 else "invalid_token")


def _cfg(**kw: object) -> AlertSettings:
    base: dict[str, object] = {
        "rule": SpikeRule(metrics=("volume",), evidence=2),
        "webhooks": ("https://hooks.slack.example/services/T/B/X",),
    }
    base.update(kw)
    return AlertSettings(**base)  # type: ignore[arg-type]


def test_webhook_sent_once_with_escaped_posts(ws: Workspace) -> None:
    _spiky(ws)
    hook = _Hook()
    client = httpx.Client(transport=httpx.MockTransport(hook))
    first = check_alerts(ws, now=at(9, 0), client=client, config=_cfg())
    assert [(o.key, o.status) for o in first] == [("Acme|volume|2026-05-09T00:00Z", "sent")]
    assert first[0].deliveries[0].channel == "webhook:hooks.slack.example"
    body = hook.bodies[0]
    assert set(body) == {"text", "blocks"} and "Acme" in str(body["text"])
    raw = orjson.dumps(body).decode()
    assert "<!channel>" not in raw and "<script>" not in raw and "<https://" not in raw
    assert "&lt;!channel&gt; &lt;https://evil.example|click&gt; &amp; &lt;script&gt;" in raw
    # again: the same key is a duplicate, nothing is sent
    again = check_alerts(ws, now=at(9, 0), client=client, config=_cfg())
    assert [o.status for o in again] == ["duplicate"] and len(hook.bodies) == 1
    # an hour later the window slides but the cooldown holds
    later = check_alerts(ws, now=at(9, 1), client=client, config=_cfg())
    assert [o.status for o in later] == ["duplicate"] and len(hook.bodies) == 1
    stored = list_alerts(ws)
    assert [(a.key, a.status, a.observed) for a in stored] == [
        ("Acme|volume|2026-05-09T00:00Z", "sent", 40)
    ]


def test_failed_delivery_is_retried(ws: Workspace) -> None:
    _spiky(ws)
    bad = _Hook(status=403)
    out = check_alerts(
        ws, now=at(9, 0), client=httpx.Client(transport=httpx.MockTransport(bad)), config=_cfg()
    )
    assert out[0].status == "failed" and "HTTP 403" in (out[0].deliveries[0].error or "")
    good = _Hook()
    out = check_alerts(
        ws, now=at(9, 0), client=httpx.Client(transport=httpx.MockTransport(good)), config=_cfg()
    )
    assert out[0].status == "sent" and len(good.bodies) == 1
    assert [a.status for a in list_alerts(ws)] == ["sent"]


def test_dry_run_sends_and_stores_nothing(ws: Workspace) -> None:
    _spiky(ws)
    hook = _Hook()
    client = httpx.Client(transport=httpx.MockTransport(hook))
    out = check_alerts(ws, now=at(9, 0), client=client, config=_cfg(), dry_run=True)
    assert [o.status for o in out] == ["would_send"]
    assert hook.bodies == [] and list_alerts(ws) == []


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for smtplib: greeting, EHLO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        server: _SmtpServer = self.server  # type: ignore[assignment]
        self.reply("220 fake.local ESMTP")
        envelope: dict[str, object] = {"rcpt": []}
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 fake.local")
            elif verb == "MAIL":
                envelope["from"] = cmd
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["rcpt"].append(cmd)  # type: ignore[union-attr]
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while (line := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(line[1:] if line.startswith(b"..") else line)
                envelope["data"] = b"".join(lines)
                server.received.append(envelope)
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


class _SmtpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpHandler)
        self.received: list[dict[str, object]] = []


@pytest.fixture
def smtp_server() -> Iterator[_SmtpServer]:
    server = _SmtpServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_email_through_local_smtp_server(ws: Workspace, smtp_server: _SmtpServer) -> None:
    _spiky(ws)
    port = smtp_server.server_address[1]
    cfg = _cfg(
        webhooks=(),
        email=EmailSettings(
            host="127.0.0.1",
            port=port,
            sender="alerts@acme.example",
            to=("team@acme.example",),
            starttls=False,
        ),
    )
    out = check_alerts(ws, now=at(9, 0), config=cfg)
    assert [(o.status, [d.channel for d in o.deliveries]) for o in out] == [("sent", ["email"])]
    assert len(smtp_server.received) == 1
    got = smtp_server.received[0]
    assert "team@acme.example" in str(got["rcpt"])
    msg: Message = email.message_from_bytes(got["data"])  # type: ignore[arg-type]
    assert msg["Subject"] == "[socialloop] spike: Acme brand"
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in msg.walk()
        if not p.is_multipart()
    }
    assert set(parts) == {"text/plain", "text/html"}
    assert "<script>alert(1)</script>" in parts["text/plain"]  # plain text is inert as is
    assert "<script>" not in parts["text/html"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in parts["text/html"]
    assert check_alerts(ws, now=at(9, 0), config=cfg)[0].status == "duplicate"
    assert len(smtp_server.received) == 1


def test_email_without_password_fails_cleanly(ws: Workspace, smtp_server: _SmtpServer) -> None:
    _spiky(ws)
    cfg = _cfg(
        webhooks=(),
        email=EmailSettings(
            host="127.0.0.1",
            port=smtp_server.server_address[1],
            sender="a@x.example",
            to=("b@x.example",),
            starttls=False,
            username="a",
            password_env="NO_SUCH_VAR_X",
        ),
    )
    out = check_alerts(ws, now=at(9, 0), config=cfg)
    assert out[0].status == "failed" and "NO_SUCH_VAR_X" in (out[0].deliveries[0].error or "")
    assert smtp_server.received == []


def _write_toml(ws: Workspace, extra: str) -> Workspace:
    path = ws.settings.root / CONFIG_FILE
    path.write_text(path.read_text() + extra, encoding="utf-8")
    root = ws.settings.root
    ws.close()
    return Workspace.open(root)


def test_settings_from_toml(ws: Workspace) -> None:
    ws2 = _write_toml(
        ws,
        """
[alerts]
k = 2.5
min_count = 4
metrics = ["volume", "negative"]
webhooks = ["https://hooks.slack.example/services/T/B/X"]
cooldown_hours = 12

[alerts.email]
host = "smtp.example.com"
from = "alerts@example.com"
to = ["team@example.com"]
username = "alerts"
password_env = "SMTP_PASSWORD"
""",
    )
    try:
        cfg = alert_settings(ws2.settings)
        assert cfg.rule.k == 2.5 and cfg.rule.min_count == 4
        assert cfg.rule.metrics == ("volume", "negative") and cfg.cooldown_hours == 12
        assert cfg.email is not None and cfg.email.port == 587 and cfg.email.starttls
        assert cfg.email.to == ("team@example.com",)
    finally:
        ws2.close()


@pytest.mark.parametrize(
    ("snippet", "message"),
    [
        ('k = "high"', "k must be a int or float"),
        ('metrics = ["likes"]', "unknown metric"),
        ('webhooks = ["ftp://x"]', "not an http"),
        ('[alerts.email]\nhost = "h"', "needs host, from and to"),
    ],
)
def test_bad_settings_say_what(ws: Workspace, snippet: str, message: str) -> None:
    ws2 = _write_toml(ws, f"\n[alerts]\n{snippet}\n")
    try:
        with pytest.raises(ConfigError, match=message):
            alert_settings(ws2.settings)
    finally:
        ws2.close()


def test_cli_alerts_check_and_list(ws: Workspace) -> None:
    _spiky(ws)
    root = str(ws.settings.root)
    runner = CliRunner()
    res = runner.invoke(
        cli, ["alerts", "check", "--dry-run", "--at", "2026-05-09T00:00", "-w", root]
    )
    assert res.exit_code == 0, res.output
    assert "would send" in res.output and "Acme" in res.output
    res = runner.invoke(cli, ["alerts", "check", "--at", "2026-05-09T00:00", "-w", root])
    assert res.exit_code == 0, res.output
    assert "recorded" in res.output  # no channel configured: stored, not sent
    res = runner.invoke(cli, ["alerts", "list", "--json", "-w", root])
    doc = orjson.loads(res.output)
    assert [a["key"] for a in doc] == ["Acme|volume|2026-05-09T00:00Z"]
    res = runner.invoke(cli, ["alerts", "check", "--at", "2026-05-09T00:00", "-w", root])
    assert "duplicate" in res.output


def test_slack_escape() -> None:
    assert slack_escape("a & <b> c") == "a &amp; &lt;b&gt; c"


def test_toml_path_is_workspace(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    try:
        assert alert_settings(ws.settings).webhooks == ()
    finally:
        ws.close()


def test_alerts_table_matches_schema(ws: Workspace) -> None:
    from sqlalchemy import inspect

    from socialloop.store.schema import alerts

    cols = {c["name"] for c in inspect(ws.store.engine).get_columns("alerts")}
    assert cols == {c.name for c in alerts.columns}


def test_no_password_over_plain_text(ws: Workspace) -> None:
    from socialloop.adapt.alerts import send_email
    from socialloop.adapt.spikes import detect_spikes

    _spiky(ws)
    spike = detect_spikes(ws, now=at(9, 0))[0]
    calls: list[str] = []

    def factory(host: str, port: int, timeout: float) -> smtplib.SMTP:
        calls.append(host)
        raise AssertionError("no connection may be made")

    cfg = EmailSettings(
        host="smtp.example.com",
        port=25,
        sender="a@x.example",
        to=("b@x.example",),
        starttls=False,
        username="a",
        password_env="PW",
    )
    err = send_email(cfg, spike, {"PW": "secret"}, factory)
    assert err is not None and "without STARTTLS" in err and calls == []


def test_webhook_url_from_environment(ws: Workspace) -> None:
    path = ws.settings.root / CONFIG_FILE
    path.write_text(path.read_text() + '\n[alerts]\nwebhook_env = ["SLACK_HOOK"]\n')
    root = ws.settings.root
    with Workspace.open(
        root, environ={"SLACK_HOOK": "https://hooks.slack.example/T/B/secret"}
    ) as w:
        assert alert_settings(w.settings).webhooks == ("https://hooks.slack.example/T/B/secret",)
    with Workspace.open(root, environ={}) as w, pytest.raises(ConfigError, match="SLACK_HOOK"):
        alert_settings(w.settings)
