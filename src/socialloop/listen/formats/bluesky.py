"""The ``bluesky`` format: AT Protocol ``app.bsky.feed.defs`` views.

Records are ``#postView`` objects, ``searchPosts``/``getPosts`` output (``{"posts": [...]}``),
feeds (``getTimeline``, ``getAuthorFeed``, ``getFeed``: ``{"feed": [feedViewPost]}``, or one
``feedViewPost`` per line) and ``getPostThread`` output (``{"thread": threadViewPost}``, whose
whole tree is walked: parents up, replies down).

* ``native_id`` is the post's ``at://`` uri; ``url`` is
  ``https://bsky.app/profile/{handle}/post/{rkey}``.
* ``parent_id``/``root_id`` come from ``record.reply``; ``reply_to_handle`` is known when the
  parent is in the same record (threads, feed items with ``reply``).
* quotes come from ``record.embed`` (``app.bsky.embed.record`` or ``#recordWithMedia``); the
  quoted post (``embed`` ``#view``), and the root and parent of a feed item, become posts too.
* a feed item with ``reason`` ``#reasonRepost`` also gives a repost post by ``reason.by`` whose
  ``reshare_of`` is the post; its id is ``reason.uri`` when present, else
  ``repost:{by did}:{post uri}``.
* mentions are the handles as written in the text (the facet's byte range), hashtags and links
  come from the facets (``#tag``, ``#link``) and ``app.bsky.embed.external``.
"""

from __future__ import annotations

from typing import Any

from socialloop.models import Author, Post, post_id

from ._common import (
    ISO_HINT,
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
from .twitter import tag

NAME = "bluesky"
NETWORK = "bluesky"
_FACET = "app.bsky.richtext.facet#"
_POST_COLLECTION = "/app.bsky.feed.post/"


def _is_post_view(d: Any) -> bool:
    return (
        type(d) is dict
        and type(d.get("uri")) is str
        and d["uri"].startswith("at://")
        and type(d.get("record")) is dict
        and type(d.get("author")) is dict
    )


def detect(record: Any) -> bool:
    """A postView, a feedViewPost, or a ``posts``/``feed``/``thread`` response."""
    if type(record) is not dict:
        return False
    if _is_post_view(record) or _is_post_view(record.get("post")):
        return True
    thread = record.get("thread")
    if type(thread) is dict and "app.bsky.feed.defs#" in str(thread.get("$type", "")):
        return True
    for key in ("posts", "feed"):
        items = record.get(key)
        if type(items) is list and items:
            first = items[0]
            return _is_post_view(first) or (
                type(first) is dict and _is_post_view(first.get("post"))
            )
    return False


def web_url(handle: str | None, uri: str) -> str | None:
    """``https://bsky.app/profile/{handle}/post/{rkey}`` for a post uri."""
    if _POST_COLLECTION not in uri:
        return None
    did, rkey = uri[5:].split(_POST_COLLECTION, 1)
    return f"https://bsky.app/profile/{handle or did}/post/{rkey}"


def _author(profile: dict[str, Any], network: str) -> Author:
    handle = opt_str(profile.get("handle")) or opt_str(profile.get("did"))
    if not handle:
        raise RecordError("field 'author.handle' is missing")
    return Author(
        network,
        handle,
        opt_str(profile.get("displayName")),
        to_int(profile.get("followersCount")),
        to_int(profile.get("followsCount")),
        opt_str(profile.get("description")),
        None,
        f"https://bsky.app/profile/{handle}",
    )


def _facets(text: str, facets: list[Any]) -> tuple[list[str], list[str], list[str]]:
    """Mentions (handles as written), hashtags and links of the facets."""
    encoded: bytes | None = None
    mentions: list[str] = []
    tags: list[str] = []
    links: list[str] = []
    for facet in facets:
        if type(facet) is not dict:
            continue
        for feature in as_list(facet.get("features")):
            if type(feature) is not dict:
                continue
            kind = str(feature.get("$type", "")).removeprefix(_FACET)
            if kind == "link" and type(feature.get("uri")) is str:
                links.append(feature["uri"])
            elif kind == "tag" and type(feature.get("tag")) is str:
                tags.append(tag(feature["tag"]))
            elif kind == "mention":
                index = as_dict(facet.get("index"))
                start, end = to_int(index.get("byteStart")), to_int(index.get("byteEnd"))
                handle = None
                if start is not None and end is not None:
                    encoded = encoded if encoded is not None else text.encode("utf-8")
                    handle = encoded[start:end].decode("utf-8", "replace").strip().lstrip("@")
                handle = handle or opt_str(feature.get("did"))
                if handle:
                    mentions.append(handle.lower())
    return mentions, tags, links


def _post(
    view: dict[str, Any],
    network: str,
    raw: dict[str, Any] | None,
    out: Mapped,
    reply_to: str | None = None,
) -> Post:
    uri = view.get("uri")
    if type(uri) is not str or not uri.startswith("at://"):
        raise RecordError(f"field 'uri' = {uri!r} is not an at:// uri")
    record = view.get("record") if "record" in view else view.get("value")  # viewRecord: value
    if type(record) is not dict:
        raise RecordError("field 'record' is missing")
    text = record.get("text")
    if type(text) is not str:
        raise RecordError("field 'record.text' is missing")
    created = record.get("createdAt") or view.get("indexedAt")
    created_at = parse_date(created, "record.createdAt", ISO_HINT)
    author = _author(as_dict(view.get("author")), network)
    reply = as_dict(record.get("reply"))
    parent = opt_str(as_dict(reply.get("parent")).get("uri"))
    root = opt_str(as_dict(reply.get("root")).get("uri"))
    facets = as_list(record.get("facets"))
    if facets:
        mentions, hashtags, links = _facets(text, facets)
        hashtags.extend(tag(t) for t in as_list(record.get("tags")) if type(t) is str)
    else:
        mentions, hashtags, links = (
            mentions_of(text),
            hashtags_of(text),
            links_of(text),
        )
    quote_of = None
    embed = as_dict(record.get("embed"))
    kind = embed.get("$type")
    if kind == "app.bsky.embed.recordWithMedia":
        embed_record = as_dict(as_dict(embed.get("record")).get("record"))
    elif kind == "app.bsky.embed.record":
        embed_record = as_dict(embed.get("record"))
    else:
        embed_record = {}
        external = opt_str(as_dict(embed.get("external")).get("uri"))
        if external:
            links.append(external)
    quoted_uri = opt_str(embed_record.get("uri"))
    if quoted_uri and _POST_COLLECTION in quoted_uri:
        quote_of = post_id(network, quoted_uri)
        _quoted_view(view, network, out)
    langs = as_list(record.get("langs"))
    return Post(
        network,
        uri,
        text,
        created_at,
        author,
        web_url(author.handle, uri),
        opt_str(langs[0]) if langs else None,
        post_id(network, parent) if parent else None,
        post_id(network, root) if root and root != uri else None,
        None,
        quote_of,
        reply_to.lower() if reply_to else None,
        unique(mentions),
        unique(hashtags),
        unique(links),
        to_int(view.get("likeCount")),
        to_int(view.get("repostCount")),
        to_int(view.get("replyCount")),
        None,
        raw=raw,
    )


def _quoted_view(view: dict[str, Any], network: str, out: Mapped) -> None:
    """The quoted post of an ``embed`` ``#view`` (a viewRecord) as a post of its own."""
    shown = as_dict(view.get("embed"))
    inner = as_dict(shown.get("record"))
    if str(shown.get("$type", "")).startswith("app.bsky.embed.recordWithMedia"):
        inner = as_dict(inner.get("record"))
    if type(inner.get("value")) is dict and type(inner.get("author")) is dict:
        try:
            out.append(_post(inner, network, None, out))
        except RecordError as exc:
            out.append(bad_item("quoted post", exc, inner))


def _feed_item(item: dict[str, Any], network: str, raw: dict[str, Any], out: Mapped) -> None:
    view = item.get("post")
    if not _is_post_view(view):
        raise RecordError("field 'post' is not a postView")
    assert type(view) is dict
    reply = as_dict(item.get("reply"))
    parent_view = as_dict(reply.get("parent"))
    parent_handle = opt_str(as_dict(parent_view.get("author")).get("handle"))
    main = _post(view, network, raw, out, parent_handle)
    out.append(main)
    seen = {view.get("uri")}
    for key in ("root", "parent"):
        context = as_dict(reply.get(key))
        if _is_post_view(context) and context.get("uri") not in seen:
            seen.add(context.get("uri"))
            try:
                out.append(_post(context, network, None, out))
            except RecordError as exc:
                out.append(bad_item(f"reply.{key}", exc, context))
    reason = as_dict(item.get("reason"))
    if reason.get("$type") == "app.bsky.feed.defs#reasonRepost":
        by = as_dict(reason.get("by"))
        did = opt_str(by.get("did")) or opt_str(by.get("handle")) or "unknown"
        native = opt_str(reason.get("uri")) or f"repost:{did}:{main.native_id}"
        when = reason.get("indexedAt") or view.get("indexedAt")
        out.append(
            Post(
                network,
                native,
                main.text,
                parse_date(when, "reason.indexedAt", ISO_HINT),
                _author(by, network),
                None,
                main.lang,
                reshare_of=main.id,
                mentions=list(main.mentions),
                hashtags=list(main.hashtags),
                links=list(main.links),
                raw=None,
            )
        )


def _handle_of(node: dict[str, Any] | None) -> str | None:
    if node is None:
        return None
    return opt_str(as_dict(as_dict(node.get("post")).get("author")).get("handle"))


def _thread(anchor: dict[str, Any], network: str, out: Mapped) -> None:
    """Every post of a threadViewPost tree: the parents up to the root, then the anchor and its
    replies depth first (iteratively, so deep threads do not recurse)."""
    chain: list[dict[str, Any]] = []  # the anchor, then its parent, grandparent...
    node: Any = anchor
    while type(node) is dict and type(node.get("post")) is dict:
        chain.append(node)
        node = node.get("parent")
    if not chain:
        raise RecordError(f"thread root is {anchor.get('$type', 'not a post')}")
    stack: list[tuple[dict[str, Any], str | None, str]] = [
        (anchor, _handle_of(chain[1]) if len(chain) > 1 else None, "thread")
    ]
    for i in range(len(chain) - 1, 0, -1):  # ancestors, root first
        parent = chain[i + 1] if i + 1 < len(chain) else None
        _emit(chain[i], _handle_of(parent), "thread" + ".parent" * i, network, out)
    while stack:
        node, reply_to, where = stack.pop()
        if not _emit(node, reply_to, where, network, out):
            continue
        me = _handle_of(node)
        replies = as_list(node.get("replies"))
        for j in range(len(replies) - 1, -1, -1):
            child = replies[j]
            if type(child) is dict and type(child.get("post")) is dict:
                stack.append((child, me, f"{where}.replies[{j}]"))


def _emit(
    node: dict[str, Any], reply_to: str | None, where: str, network: str, out: Mapped
) -> bool:
    view = node["post"]
    try:
        out.append(_post(view, network, view, out, reply_to))
    except RecordError as exc:
        out.append(bad_item(where, exc, view))
        return False
    return True


def _map(record: Any, network: str) -> Mapped:
    if type(record) is not dict:
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    out: Mapped = []
    if _is_post_view(record):
        out.insert(0, _post(record, network, record, out))
        return out
    if _is_post_view(record.get("post")):
        _feed_item(record, network, record, out)
        return out
    if type(record.get("thread")) is dict:
        _thread(record["thread"], network, out)
        return out
    if type(record.get("posts")) is list:
        for i, view in enumerate(record["posts"]):
            if not _is_post_view(view):
                out.append(Bad(f"posts[{i}]: not a postView", view))
                continue
            try:
                out.append(_post(view, network, view, out))
            except RecordError as exc:
                out.append(bad_item(f"posts[{i}] ({view.get('uri')})", exc, view))
        return out
    if type(record.get("feed")) is list:
        for i, item in enumerate(record["feed"]):
            try:
                if type(item) is not dict:
                    raise RecordError("not a feedViewPost")
                _feed_item(item, network, item, out)
            except RecordError as exc:
                out.append(bad_item(f"feed[{i}]", exc, item))
        return out
    raise RecordError("not a Bluesky postView, feed, thread or posts response")


def map_record(record: Any) -> list[Post]:
    """The posts of one Bluesky record (raises ``RecordError`` if any item is bad)."""
    return only_posts(_map(record, NETWORK))


def make_mapper(network: str | None = None) -> Mapper:
    """The per-file bluesky mapper."""
    net = network or NETWORK
    return lambda record: _map(record, net)
