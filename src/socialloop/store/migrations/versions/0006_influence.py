"""influence: per-author scores from the interaction graph

Revision ID: 0006_influence
Revises: 0005_topics
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_influence"
down_revision: str | None = "0005_topics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    # the brand's own accounts (threads: did the brand answer? inbox: mentions of its account)
    with op.batch_alter_table("brands") as batch:
        batch.add_column(sa.Column("accounts", sa.JSON, nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("brands") as batch:
        batch.drop_column("accounts")
