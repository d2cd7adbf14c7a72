"""The Workspace: the one entry object. It owns the settings, the store and the registries
(query fields, brand matchers) and offers the operations the CLI and the API call.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from socialloop.config import CONFIG_FILE, Settings, load_settings, write_default_config
from socialloop.errors import InvalidValue, WorkspaceExists, WorkspaceNotFound
from socialloop.learn.base import PER_BRAND_STEPS
from socialloop.models import Brand, Post, normalise_account
from socialloop.query import BUILTIN_FIELDS, FieldRegistry, Query, parse
from socialloop.query.matcher import Needles, Predicate, needles
from socialloop.query.sql import SqlContext, backend_for, register_sqlite_functions
from socialloop.query.view import PostView
from socialloop.store import Store
from socialloop.textutil import fold, hashtag_key, mention_key

if TYPE_CHECKING:
    from socialloop.learn.pipeline import Pipeline


#: Query fields computed by enrichment, which brand queries cannot use (``lang:`` may: before
#: enrichment it reads the platform's declared language).
BRAND_QUERY_REFUSED = frozenset(
    {"sentiment", "toward", "emotion", "intent", "moment", "stage", "topic"}
)


@dataclass(frozen=True, slots=True)
class BrandMatcher:
    """A brand with its compiled query, for matching a stream of posts in memory."""

    brand: Brand
    query: Query


@dataclass(slots=True)
class _Prefilter:
    """Brand matchers split into those with a known necessary condition (``filtered``,
    evaluated only on posts where one of the needles is present) and the rest (``always``)."""

    source: list[BrandMatcher]
    always: list[tuple[int, Predicate]]
    filtered: list[tuple[int, Predicate]]
    text_search: Callable[[str], object] | None
    hashtags: frozenset[str]
    mentions: frozenset[str]

    @classmethod
    def build(cls, matchers: list[BrandMatcher]) -> _Prefilter:
        always: list[tuple[int, Predicate]] = []
        filtered: list[tuple[int, Predicate]] = []
        union = Needles()
        for m in matchers:
            if m.brand.id is None:
                continue
            fields = m.query.fields

            def kind(name: str, fields: FieldRegistry = fields) -> str | None:
                if name in ("hashtag", "mention") and fields.get(name) is BUILTIN_FIELDS[name]:
                    return name
                return None

            found = needles(m.query.ast, kind)
            if found is None:
                always.append((m.brand.id, m.query.predicate))
            else:
                filtered.append((m.brand.id, m.query.predicate))
                union = union | found
        text_search = None
        if union.text:
            # longest first, so the alternation's leftmost match is as cheap as any
            words = sorted(union.text, key=lambda w: (-len(w), w))
            text_search = re.compile("|".join(re.escape(w) for w in words)).search
        return cls(matchers, always, filtered, text_search, union.hashtags, union.mentions)


def _accounts(specs: Sequence[str]) -> list[str]:
    try:
        return list(dict.fromkeys(normalise_account(s) for s in specs))
    except ValueError as exc:
        raise InvalidValue(str(exc)) from None


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
        self._prefilter: _Prefilter | None = None
        self._pipeline: Pipeline | None = None  # see enrichment()
        self._pipeline_lock = threading.Lock()

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
        # SQLite connections get the exact-check function of the FTS5 backend
        sqlite = settings.database_url.startswith("sqlite")
        hooks: list[Callable[[Any], None]] = [register_sqlite_functions] if sqlite else []
        store = Store.open(settings.database_url, on_connect=hooks)
        from socialloop.learn.fields import workspace_fields

        def brand_names() -> list[str]:
            return [b.name for b in store.list_brands()]

        return cls(settings, store, workspace_fields(brand_names))

    def close(self) -> None:
        self._pipeline = None
        self.store.close()

    @contextmanager
    def enrichment(self) -> Iterator[Pipeline]:
        """The default enrichment pipeline of this workspace, built on first use and kept, so
        that live polls and pushed imports do not load the models again each time; the steps
        that read stored state (topic centroids) re-read it on every use. One run at a time:
        the steps keep per-batch state (memos, the shared feature hashes)."""
        from socialloop.learn.base import StoreBound
        from socialloop.learn.pipeline import Pipeline
        from socialloop.learn.steps import build_steps

        with self._pipeline_lock:
            if self._pipeline is None:
                self._pipeline = Pipeline(build_steps(self.settings, None, self.store))
            for step in self._pipeline.steps:
                if isinstance(step, StoreBound):
                    step.refresh(self.store)
            yield self._pipeline

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- queries -----------------------------------------------------------------------------

    def parse_query(self, text: str) -> Query:
        return parse(text, self.fields)

    def _brand_query(self, text: str) -> Query:
        """A brand's query as both of its matchers read it (in memory at import, in SQL when
        the brand changes): ``lang:`` is the platform's declared language, which both know,
        not the detected one, which only the SQL side would."""
        fields = (self.fields or BUILTIN_FIELDS).extend(BUILTIN_FIELDS["lang"], replace=True)
        return parse(text, fields)

    def parse_brand_query(self, text: str) -> Query:
        """A brand's query: what mentions the brand. Enrichment labels are refused (a brand
        is matched when its posts are imported, before they are enriched)."""
        query = self._brand_query(text)
        labels = sorted(query.fields_used & BRAND_QUERY_REFUSED)
        if labels:
            used = ", ".join(f"{name}:" for name in labels)
            raise InvalidValue(
                f"a brand query cannot filter on enrichment labels ({used}): brands are "
                "matched when posts are imported, before they are enriched. Define the brand by "
                "what mentions it and filter its posts by label in searches instead"
            )
        return query

    @property
    def sql_context(self) -> SqlContext:
        """What queries compile against: the store's tables and the text-search backend of
        its dialect (SQLite FTS5 or PostgreSQL)."""
        return SqlContext(backend=backend_for(self.store.dialect))

    def to_sql(self, query: Query) -> Any:
        """``query`` as a condition on ``posts`` for this workspace's store."""
        return query.to_sql(self.sql_context)

    def _filters(self, query: str | None, brand: str | None) -> tuple[Any, int | None]:
        """The compiled query (None: every post) and the brand's id (None: any brand)."""
        where = self.to_sql(self.parse_query(query)) if query else None
        brand_id = self.store.get_brand(brand).id if brand else None
        return where, brand_id

    def search(
        self,
        query: str | None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = 50,
    ) -> list[Post]:
        where, brand_id = self._filters(query, brand)
        return self.store.search(where, brand_id=brand_id, since=since, until=until, limit=limit)

    def count(
        self,
        query: str | None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> int:
        where, brand_id = self._filters(query, brand)
        return self.store.count(where, brand_id=brand_id, since=since, until=until)

    def iter_posts(
        self,
        query: str | None,
        *,
        brand: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Post]:
        where, brand_id = self._filters(query, brand)
        return self.store.iter_posts(where, brand_id=brand_id, since=since, until=until)

    # -- brands ------------------------------------------------------------------------------

    def brand_matchers(self) -> list[BrandMatcher]:
        """Compiled queries of every brand (cached until a brand changes)."""
        if self._matchers is None:
            self._matchers = [
                BrandMatcher(b, self._brand_query(b.query)) for b in self.store.list_brands()
            ]
        return self._matchers

    def _brand_prefilter(self) -> _Prefilter:
        """The brand matchers split for :meth:`match_brands` (cached with the matchers)."""
        matchers = self.brand_matchers()
        if self._prefilter is not None and self._prefilter.source is matchers:
            return self._prefilter
        self._prefilter = _Prefilter.build(matchers)
        return self._prefilter

    def match_brands(self, posts: Sequence[tuple[int, Post]]) -> list[tuple[int, int]]:
        """(brand_id, post_pk) for every brand whose query matches each (pk, post).

        A combined prefilter over every brand query (the words, hashtags and mentions one of
        which must be present for some brand to match, see ``query.matcher.needles``) skips
        most posts without tokenising them; the others are tokenised once (a ``PostView``)
        and shared by every brand's query."""
        pre = self._brand_prefilter()
        if not pre.always and not pre.filtered:
            return []
        pairs: list[tuple[int, int]] = []
        always, filtered = pre.always, pre.filtered
        text_search, hashtags, mentions = pre.text_search, pre.hashtags, pre.mentions
        for pk, post in posts:
            hit = bool(filtered) and (
                (text_search is not None and text_search(fold(post.text)) is not None)
                or (
                    bool(hashtags)
                    and bool(post.hashtags)
                    and any(hashtag_key(h) in hashtags for h in post.hashtags)
                )
                or (
                    bool(mentions)
                    and bool(post.mentions)
                    and any(mention_key(m) in mentions for m in post.mentions)
                )
            )
            if not hit and not always:
                continue
            view = PostView(post)
            pairs.extend((bid, pk) for bid, pred in always if pred(view))
            if hit:
                pairs.extend((bid, pk) for bid, pred in filtered if pred(view))
        return pairs

    def add_brand(
        self,
        name: str,
        query: str,
        *,
        competitor: bool = False,
        values: str | None = None,
        assumptions: Sequence[str] = (),
        accounts: Sequence[str] = (),
    ) -> tuple[Brand, int]:
        """Create a brand and match it against every stored post; returns (brand, matches)."""
        compiled = self.parse_brand_query(query)  # validate before writing anything
        brand = self.store.add_brand(
            Brand(
                name=name,
                query=query,
                competitor=competitor,
                values=values,
                assumptions=list(assumptions),
                accounts=_accounts(accounts),
            )
        )
        self._matchers = None
        assert brand.id is not None
        return brand, self.store.rematch_brand(brand.id, self.to_sql(compiled), PER_BRAND_STEPS)

    def edit_brand(
        self,
        name: str,
        *,
        new_name: str | None = None,
        query: str | None = None,
        competitor: bool | None = None,
        values: str | None = None,
        assumptions: Sequence[str] | None = None,
        accounts: Sequence[str] | None = None,
    ) -> tuple[Brand, int | None]:
        """Change a brand; when its query changes, rematch all stored posts; when its name
        changes (the sentiment toward it finds it by name), its posts are scored again."""
        compiled = self.parse_brand_query(query) if query is not None else None
        renamed = new_name is not None and new_name != name
        brand = self.store.update_brand(
            name,
            name=new_name,
            query=query,
            competitor=competitor,
            values=values,
            assumptions=list(assumptions) if assumptions is not None else None,
            accounts=_accounts(accounts) if accounts is not None else None,
        )
        self._matchers = None
        matched = None
        if renamed and compiled is None:
            compiled = self._brand_query(brand.query)
        if compiled is not None:
            assert brand.id is not None
            matched = self.store.rematch_brand(
                brand.id, self.to_sql(compiled), PER_BRAND_STEPS, rescore=renamed
            )
        return brand, matched

    def remove_brand(self, name: str) -> None:
        self.store.remove_brand(name)
        self._matchers = None

    def brands_with_counts(self) -> list[tuple[Brand, int]]:
        counts = self.store.brand_counts()
        return [(b, counts.get(b.id or -1, 0)) for b in self.store.list_brands()]
