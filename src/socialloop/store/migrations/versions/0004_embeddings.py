"""post embeddings: one vector per post (model, dim, float16 bytes)

Revision ID: 0004_embeddings
Revises: 0003_lang_facets
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_embeddings"
down_revision: str | None = "0003_lang_facets"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "embeddings",
        sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("model", sa.String, nullable=False),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("embeddings")
