"""PostView: one post prepared for matching, shared by every query that looks at it.

The text is tokenised once; field facets (hashtags, mentions, urls, domains) are computed on
first use. Build one view per post and pass it to each brand's ``Query.matches``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from socialloop.models import Post
from socialloop.textutil import domain_suffixes, hashtag_key, mention_key, post_urls, tokens


class PostView:
    """The parts of a post a query looks at.

    ``tokens`` are the folded words (as FTS5 indexes them), ``token_set`` the same as a set and
    ``padded`` the tokens joined by single spaces with a space at both ends, so that a phrase
    ``a b`` occurs exactly when ``" a b "`` is a substring. ``extra`` carries values computed
    elsewhere (enrichments) for fields that need them. A view made with ``text=`` only and no
    post answers text conditions only.
    """

    __slots__ = (
        "_domains",
        "_hashtags",
        "_links",
        "_mentions",
        "_positions",
        "extra",
        "padded",
        "post",
        "text",
        "token_set",
        "tokens",
    )

    def __init__(
        self,
        post: Post | None = None,
        *,
        text: str | None = None,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        if text is None:
            text = post.text if post is not None else ""
        self.post = post
        self.text = text
        self.extra: Mapping[str, object] = extra if extra is not None else {}
        toks = tokens(text)
        self.tokens = toks
        self.token_set = frozenset(toks)
        self.padded = f" {' '.join(toks)} "
        self._positions: dict[str, list[int]] | None = None
        self._hashtags: frozenset[str] | None = None
        self._mentions: frozenset[str] | None = None
        self._links: tuple[str, ...] | None = None
        self._domains: frozenset[str] | None = None

    @property
    def positions(self) -> dict[str, list[int]]:
        """Token -> its positions (0-based, in order)."""
        pos = self._positions
        if pos is None:
            pos = {}
            for i, tok in enumerate(self.tokens):
                pos.setdefault(tok, []).append(i)
            self._positions = pos
        return pos

    @property
    def author_handle(self) -> str | None:
        return self.post.author_handle if self.post is not None else None

    @property
    def lang(self) -> str | None:
        return self.post.lang if self.post is not None else None

    @property
    def network(self) -> str | None:
        return self.post.network if self.post is not None else None

    @property
    def created_at(self) -> datetime | None:
        if self.post is None:
            return None
        ts = self.post.created_at
        return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts

    @property
    def hashtags(self) -> frozenset[str]:
        """Hashtags as stored in ``post_terms``: without ``#``, folded."""
        tags = self._hashtags
        if tags is None:
            raw = self.post.hashtags if self.post is not None else []
            tags = self._hashtags = frozenset(k for h in raw if (k := hashtag_key(h)))
        return tags

    @property
    def mentions(self) -> frozenset[str]:
        """Mentioned handles as stored in ``post_terms``: without ``@``, lower-case."""
        found = self._mentions
        if found is None:
            raw = self.post.mentions if self.post is not None else []
            found = self._mentions = frozenset(k for m in raw if (k := mention_key(m)))
        return found

    @property
    def links(self) -> tuple[str, ...]:
        """The post url and its links, lower-cased (the ``link`` rows of ``post_terms``)."""
        links = self._links
        if links is None:
            urls = post_urls(self.post) if self.post is not None else []
            links = self._links = tuple(u.lower() for u in urls)
        return links

    @property
    def domains(self) -> frozenset[str]:
        """Every domain suffix of the post url and links (the ``domain`` rows)."""
        domains = self._domains
        if domains is None:
            urls = post_urls(self.post) if self.post is not None else []
            domains = self._domains = frozenset(d for u in urls for d in domain_suffixes(u))
        return domains
