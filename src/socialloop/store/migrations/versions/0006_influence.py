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
    # influence (socialloop.graph): one row per graph build, its restriction and figures
    op.create_table(
        "graph_runs",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("built_at", sa.DateTime, nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("nodes", sa.Integer, nullable=False),
        sa.Column("edges", sa.Integer, nullable=False),
        sa.Column("communities", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
    )
    # per-author influence per scope ('all' | 'brand:<id>' | 'topic:<id>'), score in [0, 1]
    op.create_table(
        "author_scores",
        sa.Column("scope", sa.String, primary_key=True),
        sa.Column("author_id", sa.String, primary_key=True),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("components", sa.JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_author_scores_rank", "author_scores", ["scope", "score"])
    # communities (micro-crowds) of the last build, with their description, and members
    op.create_table(
        "communities",
        sa.Column("id", PK, primary_key=True, autoincrement=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("description", sa.JSON, nullable=False),
        sa.Column("computed_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "community_members",
        sa.Column("author_id", sa.String, primary_key=True),
        sa.Column("community_id", PK, nullable=False),
    )
    op.create_index("ix_community_members_community", "community_members", ["community_id"])


def downgrade() -> None:
    op.drop_index("ix_community_members_community", table_name="community_members")
    op.drop_table("community_members")
    op.drop_table("communities")
    op.drop_index("ix_author_scores_rank", table_name="author_scores")
    op.drop_table("author_scores")
    op.drop_table("graph_runs")
    with op.batch_alter_table("brands") as batch:
        batch.drop_column("accounts")
