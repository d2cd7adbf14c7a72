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

# One row per post: per enrichment step (JSON objects keyed by step name), the version that
# produced the stored result (a changed version re-runs the step), its values and its
# confidence. ``socialloop.store.enrich_rows`` reads and writes it (migration 0012).
enrichments = Table(
    "enrichments",
    metadata,
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Column("versions", JSON, nullable=False),
    Column("data", JSON, nullable=False),
    Column("confidence", JSON, nullable=False),
    Column("updated_at", DateTime, nullable=False),
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

# -- ENGAGE: the inbox (migration 0007) -------------------------------------------------------

# The team's agents: languages and skills for automatic assignment, open-item capacity, role
# (agent | approver); needs_approval: replies wait for an approver. last_assigned_at orders
# round-robin.
agents = Table(
    "agents",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False, unique=True),
    Column("languages", JSON, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("role", String, nullable=False),
    Column("needs_approval", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("last_assigned_at", DateTime),
    Column("created_at", DateTime, nullable=False),
)

# One item per (post, brand) that a triage rule let in: why (reasons), how urgent (priority and
# its components, the waiting-time component excluded: it grows at read time), the workflow
# status, assignee, claim (the guard against two agents answering), SLA due time and the
# response times. ``version`` is bumped by every change (optimistic concurrency).
inbox_items = Table(
    "inbox_items",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), nullable=False),
    Column("brand_id", PK, ForeignKey("brands.id", ondelete="CASCADE"), nullable=False),
    Column("status", String, nullable=False),  # new | assigned | replied | resolved | dismissed
    Column("priority", Float, nullable=False),
    Column("components", JSON, nullable=False),
    Column("reasons", JSON, nullable=False),
    Column("intents", JSON, nullable=False),
    Column("lang", String),
    Column("assignee_id", PK, ForeignKey("agents.id", ondelete="SET NULL")),
    Column("claimed_by", String),
    Column("claim_expires_at", DateTime),
    Column("posted_at", DateTime, nullable=False),  # the post's created_at: SLA clocks start
    Column("due_at", DateTime),
    Column("first_response_at", DateTime),
    Column("first_responder", String),
    Column("resolved_at", DateTime),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("version", Integer, nullable=False, default=1),
    UniqueConstraint("post_pk", "brand_id", name="uq_inbox_items_post_brand"),
    Index("ix_inbox_items_status", "status"),
    Index("ix_inbox_items_assignee", "assignee_id"),
)

# Posts the triage has looked at (so "triage the new ones" skips them), with when.
inbox_triaged = Table(
    "inbox_triaged",
    metadata,
    Column("post_pk", PK, ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
    Column("triaged_at", DateTime, nullable=False),
)

inbox_notes = Table(
    "inbox_notes",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("item_id", PK, ForeignKey("inbox_items.id", ondelete="CASCADE"), nullable=False),
    Column("author", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Index("ix_inbox_notes_item", "item_id"),
)

inbox_tags = Table(
    "inbox_tags",
    metadata,
    Column("item_id", PK, ForeignKey("inbox_items.id", ondelete="CASCADE"), primary_key=True),
    Column("tag", String, primary_key=True),
)

# Saved replies: one text per (name, language) with {variables}.
saved_replies = Table(
    "saved_replies",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False),
    Column("lang", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    UniqueConstraint("name", "lang", name="uq_saved_replies_name_lang"),
)

# Replies to items: draft -> pending (approval) -> approved -> sending -> sent | manual | failed.
replies = Table(
    "replies",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("item_id", PK, ForeignKey("inbox_items.id", ondelete="CASCADE"), nullable=False),
    Column("agent", String, nullable=False),
    Column("text", Text, nullable=False),
    Column("saved_reply", String),
    Column("status", String, nullable=False),
    Column("approved_by", String),
    Column("approved_at", DateTime),
    Column("published_id", String),
    Column("published_url", Text),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Column("sent_at", DateTime),
    Index("ix_replies_item", "item_id"),
)

# Every inbox action: who, what, when, on which item, with its details.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String, nullable=False),
    Column("action", String, nullable=False),
    Column("item_id", PK),  # no foreign key: the trail outlives the item
    Column("details", JSON, nullable=False),
    Index("ix_audit_log_item", "item_id"),
)

# SLA policies: "default" and optional per-brand ones (name = brand name). Business hours per
# weekday in the policy's time zone; first-response targets in minutes per priority band and
# per intent (the shortest that applies wins).
sla_policies = Table(
    "sla_policies",
    metadata,
    Column("name", String, primary_key=True),
    Column("timezone", String, nullable=False),
    Column("hours", JSON, nullable=False),
    Column("targets", JSON, nullable=False),
    Column("at_risk", Float, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# -- ADAPT: alerts (migration 0009) ---------------------------------------------------------

# One row per alerted spike. ``key`` = "brand|metric|window end" (UTC hour) is unique, so
# running `alerts check` again does not resend; ``status`` is sent (at least one channel took
# it), failed (every channel failed: the next check retries) or recorded (no channel is
# configured); ``deliveries`` holds per channel {channel, ok, error}; ``payload`` the spike.
alerts = Table(
    "alerts",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("key", String, nullable=False, unique=True),
    Column("brand_id", PK, ForeignKey("brands.id", ondelete="SET NULL")),
    Column("brand", String, nullable=False),
    Column("metric", String, nullable=False),
    Column("window_start", DateTime, nullable=False),
    Column("window_end", DateTime, nullable=False),
    Column("observed", BigInteger, nullable=False),
    Column("threshold", Float, nullable=False),
    Column("z", Float, nullable=False),
    Column("status", String, nullable=False),
    Column("deliveries", JSON, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_alerts_series", "brand", "metric", "window_end"),
)

# -- INFLUENCE: interaction graph, influence, communities (migration 0006) ------------------

# One row per `graph build`: its restriction (brand, query, since, until) and figures; the
# newest row tells `graph export` which graph the stored scores and communities describe.
graph_runs = Table(
    "graph_runs",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("built_at", DateTime, nullable=False),
    Column("params", JSON, nullable=False),
    Column("nodes", Integer, nullable=False),
    Column("edges", Integer, nullable=False),
    Column("communities", Integer, nullable=False),
    Column("seconds", Float, nullable=False),
)

# Influence per author and scope ('all' | 'brand:<id>' | 'topic:<id>'): the score in [0, 1]
# and its components (normalised values and raw figures), replaced whole by each build.
author_scores = Table(
    "author_scores",
    metadata,
    Column("scope", String, primary_key=True),
    Column("author_id", String, primary_key=True),
    Column("score", Float, nullable=False),
    Column("components", JSON, nullable=False),
    Column("computed_at", DateTime, nullable=False),
    Index("ix_author_scores_rank", "scope", "score"),
)

# Communities (micro-crowds) of the last build: size and description (top authors, hashtags,
# topics, languages, sentiment toward each brand); members map each author to one community.
communities = Table(
    "communities",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=False),
    Column("size", Integer, nullable=False),
    Column("description", JSON, nullable=False),
    Column("computed_at", DateTime, nullable=False),
)

community_members = Table(
    "community_members",
    metadata,
    Column("author_id", String, primary_key=True),
    Column("community_id", PK, nullable=False),
    Index("ix_community_members_community", "community_id"),
)

# -- LISTEN live: source state (migration 0008) ---------------------------------------------

# A source can be paused (``enabled``) and keeps the outcome of its last run: when, ``ok`` /
# ``error`` / ``interrupted``, and the error's message.
sources.append_column(Column("enabled", Boolean, nullable=False, default=True))
sources.append_column(Column("last_run_at", DateTime))
sources.append_column(Column("last_status", String))
sources.append_column(Column("last_error", Text))

# -- ADAPT web: users, login sessions, API tokens (migration 0010) --------------------------

# People who sign in to the dashboard and the API. ``role`` is admin | analyst | agent |
# viewer; ``password_hash`` an Argon2id PHC string ($argon2id$...).
users = Table(
    "users",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("name", String, nullable=False, unique=True),
    Column("role", String, nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# Dashboard login sessions, server side: the cookie holds a random token, the table only its
# sha256 (a leaked database does not sign anyone in); ``csrf_token`` guards the session's forms.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String, primary_key=True),
    Column("user_id", PK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

# API tokens (``Authorization: Bearer``): shown once, stored as sha256; ``prefix`` names a
# token in listings without revealing it; a revoked token keeps its row (``revoked_at``).
api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("user_id", PK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("name", String, nullable=False),
    Column("token_hash", String, nullable=False, unique=True),
    Column("prefix", String, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_used_at", DateTime),
    Column("revoked_at", DateTime),
    Index("ix_api_tokens_user", "user_id"),
)

# -- ADAPT web: the overview's daily rollups (migration 0011) -------------------------------

# Per brand and UTC day (``YYYY-MM-DD``): posts, engagement and sentiment counts toward the
# brand, kept up to date at the end of every ingest / enrichment (``web.rollups``) so the
# dashboard's overview never scans posts. No foreign key: rows of a removed brand are ignored
# and dropped at the next full refresh.
overview_days = Table(
    "overview_days",
    metadata,
    Column("brand_id", PK, primary_key=True),
    Column("day", String, primary_key=True),
    Column("posts", Integer, nullable=False),
    Column("engagement", BigInteger, nullable=False),
    Column("positive", Integer, nullable=False),
    Column("neutral", Integer, nullable=False),
    Column("negative", Integer, nullable=False),
    Index("ix_overview_days_day", "day"),
)

# Which brand definition each brand's rollups were built for: a brand whose query differs
# (changed outside the web app) or that has no row is rebuilt before it is shown.
overview_brands = Table(
    "overview_brands",
    metadata,
    Column("brand_id", PK, primary_key=True),
    Column("query", Text, nullable=False),
    Column("refreshed_at", DateTime, nullable=False),
)
