"""The enrichments table on a PostgreSQL workspace (tests/_postgres.py): migration 0012
folds the per-step rows into one row per post and back, ``store.enrich_rows`` merges, marks
stale and drops on the server as on SQLite, and two writers merging into the same post at once
keep both results (the same checks run on SQLite in test_store.py and test_enrich_rows.py).

Skipped, saying why, without the server binaries or psycopg.
"""

from __future__ import annotations

import pytest

from tests import _postgres

# the throwaway server's fixtures (skip, saying why, without the binaries or psycopg)
pg_cluster = _postgres.pg_cluster


@pytest.fixture
def team_url(pg_cluster: _postgres.PgCluster) -> str:
    """A fresh database whose default time zone is not UTC."""
    return _postgres.create_database(pg_cluster, "e_", "timezone = 'America/St_Johns'")


def test_enrichments_are_folded_to_one_row_per_post_on_the_server(team_url: str) -> None:
    from tests._migrations import check_enrichments_upgrade

    check_enrichments_upgrade(team_url)


def test_enrichment_rows_merge_mark_stale_and_drop_on_the_server(team_url: str) -> None:
    from tests._enrich_rows_check import check_enrich_rows

    check_enrich_rows(team_url)


def test_concurrent_merges_keep_both_writers_results_on_the_server(team_url: str) -> None:
    from tests._enrich_rows_check import check_concurrent_merges

    check_concurrent_merges(team_url)
