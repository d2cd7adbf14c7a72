"""The ``reddit`` format: Reddit API listings and things.

Records are listings (``{"kind": "Listing", "data": {"children": [...]}}``), the comments page
of a submission (a JSON array of two listings: the ``t3`` and its ``t1`` comment tree, nested
through each comment's ``replies`` listing), single things (``{"kind": "t3", "data": {...}}``)
and flat thing data as Pushshift-style dumps write them (one submission or comment per line).

* ``native_id`` is the fullname (``name``: ``t3_abc``, ``t1_def``); ``parent_id`` is
  ``reddit:{parent_id}`` and ``root_id`` ``reddit:{link_id}`` (the submission).
* a submission's text is its title, a blank line and its selftext; its ``url`` (the linked page)
  is a link unless it is a self post. ``url`` of every post is ``https://www.reddit.com`` +
  ``permalink``. ``score`` gives ``likes``, ``num_comments`` gives ``replies``.
* ``reply_to_handle`` is the author of the parent when the parent is in the file (the comment
  tree of a comments page: the submission's author for top-level comments).
* ``[deleted]`` authors give posts without an author; ``more`` stubs are skipped.
"""

from __future__ import annotations

import re
from typing import Any

from socialloop.models import Author, Post, post_id

from ._common import (
    Bad,
    Mapped,
    Mapper,
    RecordError,
    as_dict,
    as_list,
    bad_item,
    hashtags_of,
    links_of,
    mentions_of,
    only_posts,
    opt_str,
    parse_date,
    to_int,
    unique,
)

NAME = "reddit"
NETWORK = "reddit"
_USER_RE = re.compile(r"(?<![\w/])/?u/([A-Za-z0-9_-]{3,20})")
_DELETED = frozenset({"[deleted]", "[removed]"})
_EPOCH_HINT = "epoch seconds like 1714564800"
_MAX_REMEMBERED = 10_000


def _is_flat(d: Any) -> bool:
    return (
        type(d) is dict
        and "created_utc" in d
        and "subreddit" in d
        and ("title" in d or "body" in d)
    )


def detect(record: Any) -> bool:
    """A Listing, a list of Listings (comments page), a t1/t3 thing or flat thing data."""
    if type(record) is list:
        return bool(record) and all(type(x) is dict and x.get("kind") == "Listing" for x in record)
    if type(record) is not dict:
        return False
    kind = record.get("kind")
    if kind == "Listing":
        return type(as_dict(record.get("data")).get("children")) is list
    if kind in ("t1", "t3"):
        return type(record.get("data")) is dict
    return _is_flat(record)


def _fullname(data: dict[str, Any], kind: str) -> str:
    name = opt_str(data.get("name"))
    if name:
        return name
    native = opt_str(data.get("id"))
    if not native:
        raise RecordError("field 'name' (or 'id') is missing")
    return native if native.startswith(("t1_", "t3_")) else f"{kind}_{native}"


def _author(data: dict[str, Any], network: str) -> Author | None:
    handle = opt_str(data.get("author"))
    if not handle or handle in _DELETED:
        return None
    return Author(network, handle, url=f"https://www.reddit.com/user/{handle}")


def _mentions(text: str) -> list[str]:
    users = [m.lower() for m in _USER_RE.findall(text)] if "u/" in text else []
    return unique(users + mentions_of(text))


class _RedditMapper:
    """Maps Reddit records; remembers the authors of recent submissions and comments so that a
    comments page read as two records still knows whom each top-level comment replies to."""

    def __init__(self, network: str) -> None:
        self.network = network
        self.authors: dict[str, str] = {}

    def _remember(self, fullname: str, author: Author | None) -> None:
        if author is None:
            return
        if len(self.authors) >= _MAX_REMEMBERED:
            self.authors.clear()
        self.authors[fullname] = author.handle

    def post(self, kind: str, data: dict[str, Any], raw: dict[str, Any] | None) -> Post:
        network = self.network
        if kind == "t3":
            title = data.get("title")
            if type(title) is not str:
                raise RecordError("field 'title' is missing")
            body = data.get("selftext")
            body = body if type(body) is str and body not in _DELETED else ""
            text = f"{title}\n\n{body}" if body else title
        else:
            body = data.get("body")
            if type(body) is not str:
                raise RecordError("field 'body' is missing")
            text = body
        native = _fullname(data, kind)
        created_at = parse_date(data.get("created_utc"), "created_utc", _EPOCH_HINT)
        author = _author(data, network)
        links = links_of(text)
        parent = root = reshare = None
        if kind == "t3":
            url = opt_str(data.get("url"))
            if url and not data.get("is_self") and url not in links:
                links.insert(0, url)
            crosspost = opt_str(data.get("crosspost_parent"))
            reshare = post_id(network, crosspost) if crosspost else None
        else:
            parent = opt_str(data.get("parent_id"))
            root = opt_str(data.get("link_id"))
        permalink = opt_str(data.get("permalink"))
        reply_to = self.authors.get(parent) if parent else None
        post = Post(
            network,
            native,
            text,
            created_at,
            author,
            f"https://www.reddit.com{permalink}" if permalink else None,
            None,
            post_id(network, parent) if parent else None,
            post_id(network, root) if root else None,
            reshare,
            None,
            reply_to.lower() if reply_to else None,
            _mentions(text),
            hashtags_of(text),
            links,
            to_int(data.get("score")),
            None,
            to_int(data.get("num_comments")) if kind == "t3" else None,
            None,
            raw=raw,
        )
        self._remember(native, author)
        return post

    def listing(self, listing: dict[str, Any], where: str, out: Mapped) -> None:
        """Every thing of a listing and, depth first, of the comments' ``replies`` listings."""
        stack: list[tuple[Any, str]] = []
        children = as_list(as_dict(listing.get("data")).get("children"))
        for i in range(len(children) - 1, -1, -1):
            stack.append((children[i], f"{where}.children[{i}]"))
        while stack:
            thing, path = stack.pop()
            if type(thing) is not dict:
                out.append(Bad(f"{path}: expected a thing object", thing))
                continue
            kind = thing.get("kind")
            if kind not in ("t1", "t3"):
                continue  # "more" stubs, and things that are not posts
            data = thing.get("data")
            if type(data) is not dict:
                out.append(Bad(f"{path}: field 'data' is missing", thing))
                continue
            try:
                out.append(self.post(kind, data, data))
            except RecordError as exc:
                out.append(bad_item(f"{path} ({data.get('name')})", exc, data))
                continue
            replies = data.get("replies")
            if type(replies) is dict:
                nested = as_list(as_dict(replies.get("data")).get("children"))
                for j in range(len(nested) - 1, -1, -1):
                    stack.append((nested[j], f"{path}.replies[{j}]"))

    def __call__(self, record: Any) -> Mapped:
        out: Mapped = []
        if type(record) is list:
            for i, listing in enumerate(record):
                if type(listing) is dict and listing.get("kind") == "Listing":
                    self.listing(listing, f"[{i}]", out)
                else:
                    out.append(Bad(f"[{i}]: not a Listing", listing))
            return out
        if type(record) is not dict:
            raise RecordError(f"expected a JSON object, got {type(record).__name__}")
        kind = record.get("kind")
        if kind == "Listing":
            self.listing(record, "data", out)
            return out
        if kind in ("t1", "t3"):
            data = record.get("data")
            if type(data) is not dict:
                raise RecordError("field 'data' is missing")
            out.append(self.post(kind, data, data))
            return out
        if _is_flat(record):
            out.append(self.post("t3" if "title" in record else "t1", record, record))
            return out
        raise RecordError(f"not a Reddit listing or thing (kind {kind!r})")


def map_record(record: Any) -> list[Post]:
    """The posts of one Reddit record (raises ``RecordError`` if any item is bad)."""
    return only_posts(_RedditMapper(NETWORK)(record))


def make_mapper(network: str | None = None) -> Mapper:
    """The per-file reddit mapper (it remembers recent authors for ``reply_to_handle``)."""
    return _RedditMapper(network or NETWORK)
