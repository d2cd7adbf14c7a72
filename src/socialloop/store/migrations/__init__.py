"""Alembic migration scripts of the socialloop store (applied on open)."""
