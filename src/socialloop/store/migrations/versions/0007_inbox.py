"""inbox: triage items, workflow, saved replies, SLA, audit log

Revision ID: 0007_inbox
Revises: 0006_influence
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_inbox"
down_revision: str | None = "0006_influence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PK = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("languages", sa.JSON, nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("role", sa.String, nullable=False),
        sa.Column("needs_approval", sa.Boolean, nullable=False, default=False),
        sa.Column("active", sa.Boolean, nullable=False, default=True),
        sa.Column("last_assigned_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "inbox_items",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), nullable=False),
        sa.Column("brand_id", PK, sa.ForeignKey("brands.id", ondelete="CASCADE"), nullable=False),
        sa.Column(
            "status", sa.String, nullable=False
        ),  # new | assigned | replied | resolved | dismissed
        sa.Column("priority", sa.Float, nullable=False),
        sa.Column("components", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("intents", sa.JSON, nullable=False),
        sa.Column("lang", sa.String),
        sa.Column("assignee_id", PK, sa.ForeignKey("agents.id", ondelete="SET NULL")),
        sa.Column("claimed_by", sa.String),
        sa.Column("claim_expires_at", sa.DateTime),
        sa.Column(
            "posted_at", sa.DateTime, nullable=False
        ),  # the post's created_at: SLA clocks start
        sa.Column("due_at", sa.DateTime),
        sa.Column("first_response_at", sa.DateTime),
        sa.Column("first_responder", sa.String),
        sa.Column("resolved_at", sa.DateTime),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, default=1),
        sa.UniqueConstraint("post_pk", "brand_id", name="uq_inbox_items_post_brand"),
    )
    op.create_index("ix_inbox_items_status", "inbox_items", ["status"])
    op.create_index("ix_inbox_items_assignee", "inbox_items", ["assignee_id"])
    op.create_table(
        "inbox_triaged",
        sa.Column("post_pk", PK, sa.ForeignKey("posts.pk", ondelete="CASCADE"), primary_key=True),
        sa.Column("triaged_at", sa.DateTime, nullable=False),
    )
    op.create_table(
        "inbox_notes",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column(
            "item_id", PK, sa.ForeignKey("inbox_items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("author", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_inbox_notes_item", "inbox_notes", ["item_id"])
    op.create_table(
        "inbox_tags",
        sa.Column(
            "item_id", PK, sa.ForeignKey("inbox_items.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("tag", sa.String, primary_key=True),
    )
    op.create_table(
        "saved_replies",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("lang", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.UniqueConstraint("name", "lang", name="uq_saved_replies_name_lang"),
    )
    op.create_table(
        "replies",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column(
            "item_id", PK, sa.ForeignKey("inbox_items.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("agent", sa.String, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("saved_reply", sa.String),
        sa.Column("status", sa.String, nullable=False),
        sa.Column("approved_by", sa.String),
        sa.Column("approved_at", sa.DateTime),
        sa.Column("published_id", sa.String),
        sa.Column("published_url", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False, default=0),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
        sa.Column("sent_at", sa.DateTime),
    )
    op.create_index("ix_replies_item", "replies", ["item_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", PK, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime, nullable=False),
        sa.Column("actor", sa.String, nullable=False),
        sa.Column("action", sa.String, nullable=False),
        sa.Column("item_id", PK),  # no foreign key: the trail outlives the item
        sa.Column("details", sa.JSON, nullable=False),
    )
    op.create_index("ix_audit_log_item", "audit_log", ["item_id"])
    op.create_table(
        "sla_policies",
        sa.Column("name", sa.String, primary_key=True),
        sa.Column("timezone", sa.String, nullable=False),
        sa.Column("hours", sa.JSON, nullable=False),
        sa.Column("targets", sa.JSON, nullable=False),
        sa.Column("at_risk", sa.Float, nullable=False),
        sa.Column("updated_at", sa.DateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sla_policies")
    op.drop_table("audit_log")
    op.drop_table("replies")
    op.drop_table("saved_replies")
    op.drop_table("inbox_tags")
    op.drop_table("inbox_notes")
    op.drop_table("inbox_triaged")
    op.drop_table("inbox_items")
    op.drop_table("agents")
