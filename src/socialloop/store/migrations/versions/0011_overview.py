"""overview: per-brand daily rollups the dashboard's overview reads instead of scanning posts

Revision ID: 0011_overview
Revises: 0010_users
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_overview"
down_revision: str | None = "0010_users"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "overview_days",
        sa.Column("brand_id", PK, primary_key=True),
        sa.Column("day", sa.String, primary_key=True),
        sa.Column("posts", sa.Integer, nullable=False),
        sa.Column("engagement", sa.BigInteger, nullable=False),
        sa.Column("positive", sa.Integer, nullable=False),
        sa.Column("neutral", sa.Integer, nullable=False),
        sa.Column("negative", sa.Integer, nullable=False),
    )
    op.create_index("ix_overview_days_day", "overview_days", ["day"])
    op.create_table(
        "overview_brands",
        sa.Column("brand_id", PK, primary_key=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("refreshed_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("overview_brands")
    op.drop_index("ix_overview_days_day", table_name="overview_days")
    op.drop_table("overview_days")
