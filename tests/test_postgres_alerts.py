"""Alerts on a PostgreSQL workspace: the alert tests of tests/test_adapt_alerts.py (a spike
delivered once to a Slack-compatible webhook behind httpx.MockTransport with hostile text
escaped, repeats kept out by the cooldown, a failed delivery retried, a dry run that sends and
stores nothing) run unchanged on a server whose time zone is not UTC, so a shifted window would
show in the alert key.

Skipped, saying why, without the server binaries or psycopg (tests/_postgres.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from socialloop.workspace import Workspace
from tests import _postgres
from tests.test_adapt_alerts import test_dry_run_sends_and_stores_nothing as dry_run
from tests.test_adapt_alerts import test_failed_delivery_is_retried as retried
from tests.test_adapt_alerts import test_webhook_sent_once_with_escaped_posts as sent_once

pg_cluster = _postgres.pg_cluster


@pytest.fixture
def pg_ws(tmp_path: Path, pg_cluster: _postgres.PgCluster) -> Iterator[Workspace]:
    url = _postgres.create_database(pg_cluster, "a_", "timezone = 'Australia/Eucla'")
    ws = Workspace.init(tmp_path / "ws", database_url=url)
    try:
        assert ws.store.dialect == "postgresql"
        yield ws
    finally:
        ws.close()


@pytest.mark.parametrize(
    "check",
    [sent_once, retried, dry_run],
    ids=["sent-once", "retried", "dry-run"],
)
def test_alerts_on_postgres(pg_ws: Workspace, check: Callable[[Workspace], None]) -> None:
    check(pg_ws)
