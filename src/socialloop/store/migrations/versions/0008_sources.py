"""sources: live connector state (checkpoints live in sources)

Revision ID: 0008_sources
Revises: 0007_inbox
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_sources"
down_revision: str | None = "0007_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    # live connectors: a source can be paused, and keeps the outcome of its last run
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("last_run_at", sa.DateTime))
        batch.add_column(sa.Column("last_status", sa.String))
        batch.add_column(sa.Column("last_error", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        for name in ("last_error", "last_status", "last_run_at", "enabled"):
            batch.drop_column(name)
