"""enrichments: one row per post (per-step versions, values and confidences as JSON objects)
instead of one row per (post, step)

Revision ID: 0012_enrichments_per_post
Revises: 0011_overview
Create Date: 2026-11-23

The stored results are carried over as they are: each post's rows are folded into one row
(``versions[step]``, ``data[step]``, ``confidence[step]``); the downgrade unfolds them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_enrichments_per_post"
down_revision: str | None = "0011_overview"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _post_fk() -> sa.Column[int]:
    return sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True)


def upgrade() -> None:
    op.create_table(
        "enrichments_new",
        _post_fk(),
        sa.Column("versions", sa.JSON, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("confidence", sa.JSON, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        fold = """
            INSERT INTO enrichments_new (post_pk, versions, data, confidence, updated_at)
            SELECT post_pk, json_object_agg(step, version), json_object_agg(step, data),
                   COALESCE(json_object_agg(step, confidence)
                            FILTER (WHERE confidence IS NOT NULL), '{}'::json),
                   max(updated_at)
            FROM enrichments GROUP BY post_pk
        """
    else:
        fold = """
            INSERT INTO enrichments_new (post_pk, versions, data, confidence, updated_at)
            SELECT post_pk, json_group_object(step, version),
                   json_group_object(step, json(data)),
                   (SELECT json_group_object(c.step, c.confidence) FROM enrichments c
                    WHERE c.post_pk = e.post_pk AND c.confidence IS NOT NULL),
                   max(updated_at)
            FROM enrichments e GROUP BY post_pk
        """
    op.execute(fold)
    op.drop_table("enrichments")
    op.rename_table("enrichments_new", "enrichments")
    _rename_constraints("enrichments_new")


def downgrade() -> None:
    op.create_table(
        "enrichments_old",
        _post_fk(),
        sa.Column("step", sa.String, primary_key=True),
        sa.Column("version", sa.String, nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        unfold = """
            INSERT INTO enrichments_old (post_pk, step, version, data, confidence, updated_at)
            SELECT e.post_pk, v.key, v.value, COALESCE(e.data -> v.key, '{}'::json),
                   (e.confidence ->> v.key)::float, e.updated_at
            FROM enrichments e, json_each_text(e.versions) v
        """
    else:
        unfold = """
            INSERT INTO enrichments_old (post_pk, step, version, data, confidence, updated_at)
            SELECT e.post_pk, v.key, v.value,
                   COALESCE(json_extract(e.data, '$."' || v.key || '"'), '{}'),
                   json_extract(e.confidence, '$."' || v.key || '"'), e.updated_at
            FROM enrichments e, json_each(e.versions) v
        """
    op.execute(unfold)
    op.drop_table("enrichments")
    op.rename_table("enrichments_old", "enrichments")
    _rename_constraints("enrichments_old")


def _rename_constraints(built_as: str) -> None:
    """PostgreSQL: the renamed table's key constraints (and the key's index) get the names a
    table created as ``enrichments`` has, instead of keeping those of ``built_as``."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for suffix in ("pkey", "post_pk_fkey"):
        op.execute(
            f"ALTER TABLE enrichments RENAME CONSTRAINT {built_as}_{suffix} TO enrichments_{suffix}"
        )
