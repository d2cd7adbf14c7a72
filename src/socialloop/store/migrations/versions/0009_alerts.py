"""alerts: spikes that were alerted (one row per alert key, so re-running does not resend)

Revision ID: 0009_alerts
Revises: 0008_sources
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_alerts"
down_revision: str | None = "0008_sources"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String, nullable=False, unique=True),
        sa.Column("brand_id", PK, sa.ForeignKey("brands.id", ondelete="SET NULL")),
        sa.Column("brand", sa.String, nullable=False),
        sa.Column("metric", sa.String, nullable=False),
        sa.Column("window_start", sa.DateTime, nullable=False),
        sa.Column("window_end", sa.DateTime, nullable=False),
        sa.Column("observed", sa.BigInteger, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("z", sa.Float, nullable=False),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("deliveries", sa.JSON, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_alerts_series", "alerts", ["brand", "metric", "window_end"])


def downgrade() -> None:
    op.drop_index("ix_alerts_series", table_name="alerts")
    op.drop_table("alerts")
