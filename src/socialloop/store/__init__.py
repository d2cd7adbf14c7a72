"""The store: SQLAlchemy Core schema, Alembic migrations and repositories (SQLite default)."""

from socialloop.store.store import RunCounts, Store, row_to_post
from socialloop.store.writer import UpsertResult

__all__ = ["RunCounts", "Store", "UpsertResult", "row_to_post"]
