"""initial store: authors, posts, terms, brands, matches, interactions, sources, import runs

Revision ID: 0001_initial
Revises:
Create Date: 2026-11-22

A frozen copy of the schema as first released; later changes get their own revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "authors",
        sa.Column("id", sa.String, primary_key=True),
        sa.Column("network", sa.String, nullable=False),
        sa.Column("handle", sa.String, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("followers", sa.BigInteger),
        sa.Column("following", sa.BigInteger),
        sa.Column("bio", sa.Text),
        sa.Column("verified", sa.Boolean),
        sa.Column("url", sa.Text),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "sources",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("connector", sa.String, nullable=False),
        sa.Column("config", sa.JSON, nullable=False),
        sa.Column("checkpoint", sa.JSON),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "import_runs",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("source_id", PK, sa.ForeignKey("sources.id", ondelete="SET NULL")),
        sa.Column("files", sa.JSON, nullable=False),
        sa.Column("format", sa.String),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("started_at", sa.DateTime, nullable=False),
        sa.Column("finished_at", sa.DateTime),
        sa.Column("read", sa.BigInteger, nullable=False),
        sa.Column("new", sa.BigInteger, nullable=False),
        sa.Column("updated", sa.BigInteger, nullable=False),
        sa.Column("rejected", sa.BigInteger, nullable=False),
        sa.Column("rejects_path", sa.Text),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "posts",
        sa.Column("pk", PK, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String, nullable=False, unique=True),
        sa.Column("network", sa.String, nullable=False),
        sa.Column("native_id", sa.String, nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("author_id", sa.String),
        sa.Column("author_handle", sa.String),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("lang", sa.String),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("collected_at", sa.DateTime, nullable=False),
        sa.Column("parent_id", sa.String),
        sa.Column("root_id", sa.String),
        sa.Column("reshare_of", sa.String),
        sa.Column("quote_of", sa.String),
        sa.Column("reply_to_handle", sa.String),
        sa.Column("mentions", sa.JSON, nullable=False),
        sa.Column("hashtags", sa.JSON, nullable=False),
        sa.Column("links", sa.JSON, nullable=False),
        sa.Column("likes", sa.BigInteger),
        sa.Column("reshares", sa.BigInteger),
        sa.Column("replies", sa.BigInteger),
        sa.Column("views", sa.BigInteger),
        sa.Column("raw", sa.JSON),
        sa.Column("source_id", PK, sa.ForeignKey("sources.id", ondelete="SET NULL")),
        sa.Column("import_run_id", PK, sa.ForeignKey("import_runs.id", ondelete="SET NULL")),
    )
    op.create_index("ix_posts_created_at", "posts", ["created_at"])
    op.create_index("ix_posts_author_handle", "posts", ["author_handle"])
    op.create_index("ix_posts_parent_id", "posts", ["parent_id"])
    op.create_index("ix_posts_root_id", "posts", ["root_id"])
    op.create_table(
        "post_terms",
        sa.Column("kind", sa.String, primary_key=True),
        sa.Column("value", sa.String, primary_key=True),
        sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_post_terms_post", "post_terms", ["post_pk"])
    op.create_table(
        "brands",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("competitor", sa.Boolean, nullable=False),
        sa.Column("brand_values", sa.Text),
        sa.Column("assumptions", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "post_brands",
        sa.Column("brand_id", PK, sa.ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_post_brands_post", "post_brands", ["post_pk"])
    op.create_table(
        "interactions",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("source_author_id", sa.String),
        sa.Column("target", sa.String, nullable=False),
        sa.Column("target_author_id", sa.String),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("post_pk", "kind", "target", name="uq_interactions_edge"),
    )
    op.create_index("ix_interactions_source", "interactions", ["source_author_id"])
    op.create_index("ix_interactions_target_author", "interactions", ["target_author_id"])
    if op.get_bind().dialect.name == "sqlite":
        # Full-text index over post text, fed in bulk by the store (no per-row trigger:
        # a trigger drops insert throughput ~7x). rowid = posts.pk.
        op.execute(
            "CREATE VIRTUAL TABLE posts_fts USING fts5(text, content='posts', "
            "content_rowid='pk', tokenize='unicode61 remove_diacritics 2')"
        )
    if op.get_bind().dialect.name == "postgresql":
        # Full-text index over post text (socialloop.query.pg): the tokens the in-memory
        # matcher sees, space-joined, and the same tokens with their positions as a tsvector
        # under a GIN index. One row per post, fed by the store's writer.
        op.create_table(
            "post_search",
            sa.Column(
                "post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True
            ),
            sa.Column("tokens", sa.Text, nullable=False),
            sa.Column("tsv", postgresql.TSVECTOR, nullable=False),
        )
        op.create_index("ix_post_search_tsv", "post_search", ["tsv"], postgresql_using="gin")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS posts_fts")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_table("post_search")
    for name in (
        "interactions",
        "post_brands",
        "brands",
        "post_terms",
        "posts",
        "import_runs",
        "sources",
        "authors",
    ):
        op.drop_table(name)
