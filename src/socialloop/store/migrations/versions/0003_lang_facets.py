"""declared language as a post_terms facet (kind "lang"), backfilled for stored posts

Revision ID: 0003_lang_facets
Revises: 0002_enrichments
Create Date: 2026-11-22

`lang:` now looks the declared language up in post_terms (an indexed match set) instead of
scanning posts.lang; the write path adds the facet for new posts, this fills it for old ones.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_lang_facets"
down_revision: str | None = "0002_enrichments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SPLIT = re.compile(r"[-_]")
_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

posts = sa.table("posts", sa.column("pk", sa.Integer), sa.column("lang", sa.String))
post_terms = sa.table(
    "post_terms",
    sa.column("kind", sa.String),
    sa.column("value", sa.String),
    sa.column("post_pk", sa.Integer),
)


def _key(lang: str) -> str:
    # frozen copy of textutil.lang_key as of this revision
    return _SPLIT.split(lang, 1)[0].translate(_LOWER)


def upgrade() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts.c.pk, posts.c.lang)
            .where(posts.c.pk > last, posts.c.lang.is_not(None))
            .order_by(posts.c.pk)
            .limit(20_000)
        ).all()
        if not rows:
            break
        last = rows[-1][0]
        values = [
            {"kind": "lang", "value": key, "post_pk": pk}
            for pk, lang in rows
            if lang and (key := _key(lang))
        ]
        if values:
            bind.execute(sa.insert(post_terms), values)


def downgrade() -> None:
    op.execute(sa.delete(post_terms).where(post_terms.c.kind == "lang"))
