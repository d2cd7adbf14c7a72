"""The ``enrichments`` table's reads and writes (``store.enrich_rows``) on SQLite; the same
checks run on PostgreSQL in test_postgres_more.py."""

from __future__ import annotations

from pathlib import Path

from tests._enrich_rows_check import check_enrich_rows


def test_merge_stale_drop_and_due_on_sqlite(tmp_path: Path) -> None:
    check_enrich_rows(f"sqlite:///{tmp_path / 'store.db'}")


def test_concurrent_merges_keep_both_writers_results_on_sqlite(tmp_path: Path) -> None:
    from tests._enrich_rows_check import check_concurrent_merges

    check_concurrent_merges(f"sqlite:///{tmp_path / 'store.db'}")
