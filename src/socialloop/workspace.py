"""The Workspace: the one entry object. It owns the settings, the store and the registries
(query fields, brand matchers) and offers the operations the CLI and the API call.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from socialloop.config import CONFIG_FILE, Settings, load_settings, write_default_config
from socialloop.errors import WorkspaceExists, WorkspaceNotFound
from socialloop.models import Brand, Post
from socialloop.query import FieldRegistry, Query, parse
from socialloop.query.sql import register_sqlite_functions
from socialloop.query.view import PostView
from socialloop.store import Store


@dataclass(frozen=True, slots=True)
class BrandMatcher:
    """A brand with its compiled query, for matching a stream of posts in memory."""

    brand: Brand
    query: Query


def find_root(start: Path) -> Path | None:
    """The workspace directory: ``start`` itself if it holds a socialloop.toml."""
    return start if (start / CONFIG_FILE).is_file() else None


class Workspace:
    """A brand team's workspace: ``socialloop.toml`` plus the store."""

    def __init__(self, settings: Settings, store: Store, fields: FieldRegistry | None = None):
        self.settings = settings
        self.store = store
        self.fields = fields
        self._matchers: list[BrandMatcher] | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def init(cls, root: Path, *, database_url: str | None = None) -> Workspace:
        root = root.resolve()
        if (root / CONFIG_FILE).exists():
            raise WorkspaceExists(f"a workspace already exists at {root}")
        root.mkdir(parents=True, exist_ok=True)
        write_default_config(root, name=root.name, database_url=database_url)
        return cls.open(root)

    @classmethod
    def open(cls, root: Path, environ: dict[str, str] | None = None) -> Workspace:
        root = root.resolve()
        if find_root(root) is None:
            raise WorkspaceNotFound(str(root))
        settings = load_settings(root, os.environ if environ is None else environ)
        store = Store.open(settings.database_url, on_connect=[register_sqlite_functions])
        from socialloop.learn.fields import workspace_fields

        return cls(settings, store, workspace_fields())

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries -----------------------------------------------------------------------------

    def parse_query(self, text: str) -> Query:
        return parse(text, self.fields)

    def search(
        self,
        query: str | None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 50,
    ) -> list[Post]:
        where = self.parse_query(query).to_sql() if query else None
        brand_id = self.store.get_brand(brand).id if brand else None
        return self.store.search(where, brand_id=brand_id, since=since, until=until, limit=limit)

    def count(
        self,
        query: str | None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        where = self.parse_query(query).to_sql() if query else None
        brand_id = self.store.get_brand(brand).id if brand else None
        return self.store.count(where, brand_id=brand_id, since=since, until=until)

    def iter_posts(
        self,
        query: str | None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Post]:
        where = self.parse_query(query).to_sql() if query else None
        brand_id = self.store.get_brand(brand).id if brand else None
        return self.store.iter_posts(where, brand_id=brand_id, since=since, until=until)

    # -- brands ------------------------------------------------------------------------------

    def brand_matchers(self) -> list[BrandMatcher]:
        """Compiled queries of every brand (cached until a brand changes)."""
        if self._matchers is None:
            self._matchers = [
                BrandMatcher(b, self.parse_query(b.query)) for b in self.store.list_brands()
            ]
        return self._matchers

    def match_brands(self, posts: Sequence[tuple[int, Post]]) -> list[tuple[int, int]]:
        """(brand_id, post_pk) for every brand whose query matches each (pk, post).

        Each post is tokenised once (a ``PostView``) and shared by every brand's query."""
        matchers = [(m.brand.id, m.query.predicate) for m in self.brand_matchers()]
        if not matchers:
            return []
        pairs: list[tuple[int, int]] = []
        for pk, post in posts:
            view = PostView(post)
            pairs.extend((bid, pk) for bid, pred in matchers if bid is not None and pred(view))
        return pairs

    def add_brand(
        self,
        name: str,
        query: str,
        *,
        competitor: bool = False,
        values: str | None = None,
        assumptions: Sequence[str] = (),
    ) -> tuple[Brand, int]:
        """Create a brand and match it against every stored post; returns (brand, matches)."""
        compiled = self.parse_query(query)  # validate before writing anything
        brand = self.store.add_brand(
            Brand(
                name=name,
                query=query,
                competitor=competitor,
                values=values,
                assumptions=list(assumptions),
            )
        )
        self._matchers = None
        assert brand.id is not None
        return brand, self.store.rematch_brand(brand.id, compiled.to_sql())

    def edit_brand(
        self,
        name: str,
        *,
        new_name: str | None = None,
        query: str | None = None,
        competitor: bool | None = None,
        values: str | None = None,
        assumptions: Sequence[str] | None = None,
    ) -> tuple[Brand, int | None]:
        """Change a brand; when its query changes, rematch all stored posts."""
        compiled = self.parse_query(query) if query is not None else None
        brand = self.store.update_brand(
            name,
            name=new_name,
            query=query,
            competitor=competitor,
            values=values,
            assumptions=list(assumptions) if assumptions is not None else None,
        )
        self._matchers = None
        matched = None
        if compiled is not None:
            assert brand.id is not None
            matched = self.store.rematch_brand(brand.id, compiled.to_sql())
        return brand, matched

    def remove_brand(self, name: str) -> None:
        self.store.remove_brand(name)
        self._matchers = None

    def brands_with_counts(self) -> list[tuple[Brand, int]]:
        counts = self.store.brand_counts()
        return [(b, counts.get(b.id or -1, 0)) for b in self.store.list_brands()]
