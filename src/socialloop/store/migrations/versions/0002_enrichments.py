"""enrichment results: per-step values, post labels and per-brand labels

Revision ID: 0002_enrichments
Revises: 0001_initial
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_enrichments"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _post_fk() -> sa.Column[int]:
    return sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "enrichments",
        _post_fk(),
        sa.Column("step", sa.String, primary_key=True),
        sa.Column("version", sa.String, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "post_labels",
        sa.Column("field", sa.String, primary_key=True),
        sa.Column("label", sa.String, primary_key=True),
        _post_fk(),
        sa.Column("score", sa.Float),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_post_labels_post", "post_labels", ["post_pk"])
    op.create_table(
        "brand_labels",
        sa.Column("brand_id", PK, sa.ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("field", sa.String, primary_key=True),
        sa.Column("label", sa.String, primary_key=True),
        _post_fk(),
        sa.Column("score", sa.Float),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_brand_labels_post", "brand_labels", ["post_pk"])


def downgrade() -> None:
    op.drop_table("brand_labels")
    op.drop_table("post_labels")
    op.drop_table("enrichments")
