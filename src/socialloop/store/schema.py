"""The store's tables, as SQLAlchemy Core metadata (the shape the code queries).

Portable across SQLite and PostgreSQL: integer surrogate keys, text ids, JSON as text, UTC
timestamps without zone. The full-text index (``posts_fts``, SQLite FTS5, external content
keyed by ``posts.pk``) is created by the migrations, not here, because it is dialect specific.
Migrations in ``store/migrations/versions`` are the history; this module is the present.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

PK = BigInteger().with_variant(Integer, "sqlite")

authors = Table(
    "authors",
    metadata,
    Column("id", String, primary_key=True),  # "{network}:{handle}"
    Column("network", String, nullable=False),
    Column("handle", String, nullable=False),
    Column("name", Text),
    Column("followers", BigInteger),
    Column("following", BigInteger),
    Column("bio", Text),
    Column("verified", Boolean),
    Column("url", Text),
    Column("updated_at", DateTime, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False, unique=True),
    Column("connector", String, nullable=False),
    Column("config", JSON, nullable=False),
    Column("checkpoint", JSON),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

import_runs = Table(
    "import_runs",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("source_id", PK, ForeignKey("sources.id", ondelete="SET NULL")),
    Column("files", JSON, nullable=False),
    Column("format", String),
    Column("status", String, nullable=False),  # running | completed | failed | interrupted
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("read", BigInteger, nullable=False, default=0),
    Column("new", BigInteger, nullable=False, default=0),
    Column("updated", BigInteger, nullable=False, default=0),
    Column("rejected", BigInteger, nullable=False, default=0),
    Column("rejects_path", Text),
    Column("error", Text),
)

posts = Table(
    "posts",
    metadata,
    Column("pk", PK, primary_key=True, autoincrement=True),
    Column("id", String, nullable=False, unique=True),  # "{network}:{native_id}"
    Column("network", String, nullable=False),
    Column("native_id", String, nullable=False),
    Column("url", Text),
    Column("author_id", String),
    Column("author_handle", String),  # lower-case, for author: filters
    Column("text", Text, nullable=False),
    Column("lang", String),
    Column("created_at", DateTime, nullable=False),
    Column("collected_at", DateTime, nullable=False),
    Column("parent_id", String),
    Column("root_id", String),
    Column("reshare_of", String),
    Column("quote_of", String),
    Column("reply_to_handle", String),
    Column("mentions", JSON, nullable=False),
    Column("hashtags", JSON, nullable=False),
    Column("links", JSON, nullable=False),
    Column("likes", BigInteger),
    Column("reshares", BigInteger),
    Column("replies", BigInteger),
    Column("views", BigInteger),
    Column("raw", JSON),
    Column("source_id", PK, ForeignKey("sources.id", ondelete="SET NULL")),
    Column("import_run_id", PK, ForeignKey("import_runs.id", ondelete="SET NULL")),
    # few secondary indexes on purpose: each one costs ~15 % of bulk insert throughput
    Index("ix_posts_created_at", "created_at"),
    Index("ix_posts_author_handle", "author_handle"),
    Index("ix_posts_parent_id", "parent_id"),
    Index("ix_posts_root_id", "root_id"),
)

# Exact-match facets of a post, one row each: kind in (hashtag, mention, domain, link).
# "domain" rows hold every domain suffix of the post's url and links (see textutil).
post_terms = Table(
    "post_terms",
    metadata,
    Column("kind", String, primary_key=True),
    Column("value", String, primary_key=True),
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Index("ix_post_terms_post", "post_pk"),
    sqlite_with_rowid=False,  # the key is the row: one B-tree instead of two
)

brands = Table(
    "brands",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False, unique=True),
    Column("query", Text, nullable=False),
    Column("competitor", Boolean, nullable=False, default=False),
    Column("brand_values", Text),
    Column("assumptions", JSON, nullable=False),
    Column("accounts", JSON, nullable=False, default=list),  # migration 0006
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

post_brands = Table(
    "post_brands",
    metadata,
    Column("brand_id", PK, ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True),
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Index("ix_post_brands_post", "post_pk"),
    sqlite_with_rowid=False,
)

interactions = Table(
    "interactions",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("kind", String, nullable=False),  # reply | mention | reshare | quote
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), nullable=False),
    Column("source_author_id", String),
    Column("target", String, nullable=False),  # post id (reply/reshare/quote) or author id
    Column("target_author_id", String),
    Column("created_at", DateTime, nullable=False),
    UniqueConstraint("post_pk", "kind", "target", name="uq_interactions_edge"),
    Index("ix_interactions_source", "source_author_id"),
    Index("ix_interactions_target_author", "target_author_id"),
)

# -- LEARN: enrichment results (migration 0002) ---------------------------------------------

# One row per (post, step): the step's version (a changed version re-runs the step), its
# values as JSON and its confidence.
enrichments = Table(
    "enrichments",
    metadata,
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Column("step", String, primary_key=True),
    Column("version", String, nullable=False),
    Column("data", JSON, nullable=False),
    Column("confidence", Float),
    Column("updated_at", DateTime, nullable=False),
    sqlite_with_rowid=False,
)

# The labels a post carries, one row per (field, label): what query filters (sentiment:,
# intent:, ...) and aggregates read. A single-valued field has one row, a multi-label one many.
post_labels = Table(
    "post_labels",
    metadata,
    Column("field", String, primary_key=True),
    Column("label", String, primary_key=True),
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Column("score", Float),
    Index("ix_post_labels_post", "post_pk"),
    sqlite_with_rowid=False,
)

# Labels toward one brand (e.g. the sentiment toward each brand a post mentions).
brand_labels = Table(
    "brand_labels",
    metadata,
    Column("brand_id", PK, ForeignKey("brands.id", ondelete="CASCADE"), primary_key=True),
    Column("field", String, primary_key=True),
    Column("label", String, primary_key=True),
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Column("score", Float),
    Index("ix_brand_labels_post", "post_pk"),
    sqlite_with_rowid=False,
)

# -- LEARN: post embeddings (migration 0004) ------------------------------------------------

# One vector per post from the `embedding` step: the model that made it, its length and the
# vector as little-endian float16 bytes (np.frombuffer(vector, "<f2")).
embeddings = Table(
    "embeddings",
    metadata,
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Column("model", String, nullable=False),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),
)

# -- LEARN: topics (migration 0005) ---------------------------------------------------------

# The current topic model (``socialloop.learn.topics.build_topics`` replaces it whole): one row
# per cluster of post embeddings, its c-TF-IDF label and keywords, its unit centroid as
# little-endian float16 bytes, its size at build time, the first and last post dates and the
# "emerging" flag. Posts carry their topic as post_labels rows (field "topic", label = id).
topics = Table(
    "topics",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=False),
    Column("label", Text, nullable=False),
    Column("keywords", JSON, nullable=False),
    Column("centroid", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("first_seen", DateTime),
    Column("last_seen", DateTime),
    Column("emerging", Boolean, nullable=False, default=False),
)
