"""Alerts on a PostgreSQL workspace: a spike is delivered once to a Slack-compatible webhook
(httpx.MockTransport), repeats are duplicates through the cooldown, a failed delivery is
retried on the next check, and the stored alerts read back the same as on SQLite. The
server's time zone is not UTC, so a shifted window would show in the alert key.

Skipped, saying why, without the server binaries or psycopg (tests/_postgres.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from socialloop.adapt.alerts import check_alerts, list_alerts
from socialloop.workspace import Workspace
from tests import _postgres
from tests._adapt_data import at
from tests.test_adapt_alerts import _cfg, _Hook, _spiky

pg_cluster = _postgres.pg_cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def any_ws(
    request: pytest.FixtureRequest, tmp_path: Path, pg_cluster: _postgres.PgCluster
) -> Iterator[Workspace]:
    url = None
    if request.param == "postgresql":
        url = _postgres.create_database(pg_cluster, "a_", "timezone = 'Australia/Eucla'")
    ws = Workspace.init(tmp_path / "ws", database_url=url)
    try:
        assert ws.store.dialect == request.param
        yield ws
    finally:
        ws.close()


def test_alert_delivered_once_then_duplicates(any_ws: Workspace) -> None:
    _spiky(any_ws)
    hook = _Hook()
    client = httpx.Client(transport=httpx.MockTransport(hook))
    first = check_alerts(any_ws, now=at(9, 0), client=client, config=_cfg())
    assert [(o.key, o.status) for o in first] == [("Acme|volume|2026-05-09T00:00Z", "sent")]
    again = check_alerts(any_ws, now=at(9, 1), client=client, config=_cfg())
    assert [o.status for o in again] == ["duplicate"] and len(hook.bodies) == 1
    stored = list_alerts(any_ws)
    assert [(a.key, a.status, a.observed) for a in stored] == [
        ("Acme|volume|2026-05-09T00:00Z", "sent", 40)
    ]


def test_failed_delivery_is_retried(any_ws: Workspace) -> None:
    _spiky(any_ws)
    bad = httpx.Client(transport=httpx.MockTransport(_Hook(status=403)))
    out = check_alerts(any_ws, now=at(9, 0), client=bad, config=_cfg())
    assert out[0].status == "failed" and "HTTP 403" in (out[0].deliveries[0].error or "")
    good = _Hook()
    out = check_alerts(
        any_ws,
        now=at(9, 0),
        client=httpx.Client(transport=httpx.MockTransport(good)),
        config=_cfg(),
    )
    assert out[0].status == "sent" and len(good.bodies) == 1
    assert [a.status for a in list_alerts(any_ws)] == ["sent"]
