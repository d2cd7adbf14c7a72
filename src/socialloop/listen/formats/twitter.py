"""X/Twitter API formats: ``twitter-v2`` (API v2 responses) and ``twitter-v1`` (v1.1 statuses).

twitter-v2 records are response pages (``{"data": [...], "includes": {"users", "tweets"},
"meta"}``, one per line or one per file), single tweet objects (``author_id``,
``conversation_id``, ``referenced_tweets``...) and twarc2-style flattened tweets (an ``author``
object and the referenced ``tweet`` inlined). Authors come from ``includes.users``; the tweets in
``includes.tweets`` (replied to, quoted, retweeted) become posts too, with ``raw`` None.

twitter-v1 records are v1.1 statuses (REST, search, streaming; ``extended_tweet`` and
``full_text`` honoured) and the ``{"statuses": [...]}`` search wrapper. A retweet is a post whose
``reshare_of`` is the original, and the original (``retweeted_status``) becomes a post too; the
same for ``quoted_status``. Streaming control messages (``delete``, ``limit``...) are skipped.
"""

from __future__ import annotations

from typing import Any

from socialloop.models import Author, Post, post_id
from socialloop.textutil import hashtag_key

from ._common import (
    ISO_HINT,
    TWITTER_HINT,
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
    req_str,
    to_bool,
    to_int,
)

NAME_V2 = "twitter-v2"
NAME_V1 = "twitter-v1"
NETWORK = "twitter"
_NO_LANG = frozenset({"und", "zxx", "qme", "qht", "qam", "qct", "qst", "art"})
_STREAM_NOTICES = frozenset(
    {"delete", "limit", "scrub_geo", "status_withheld", "user_withheld", "disconnect", "warning"}
)


def tag(text: str) -> str:
    """A hashtag as textutil stores it (folded, without ``#``)."""
    return hashtag_key(text)


def lang_of(value: Any) -> str | None:
    """The tweet's ``lang`` unless it is one of Twitter's "undetermined" codes."""
    return value if type(value) is str and value and value not in _NO_LANG else None


def status_url(handle: str | None, native_id: str) -> str:
    """The web address of a tweet."""
    if handle:
        return f"https://twitter.com/{handle}/status/{native_id}"
    return f"https://twitter.com/i/web/status/{native_id}"


# --- API v2 -------------------------------------------------------------------------------------


def _is_v2_tweet(d: Any) -> bool:
    return (
        type(d) is dict
        and "id" in d
        and "text" in d
        and "user" not in d
        and "id_str" not in d
        and (
            "author_id" in d
            or "edit_history_tweet_ids" in d
            or "public_metrics" in d
            or "conversation_id" in d
            or "referenced_tweets" in d
        )
    )


def detect_v2(record: Any) -> bool:
    """A v2 page (``data`` of v2 tweets, with ``includes`` or ``meta``) or a v2 tweet."""
    if type(record) is not dict:
        return False
    if "data" in record:
        data = record["data"]
        if type(data) is list:
            return _is_v2_tweet(data[0]) if data else "meta" in record
        return _is_v2_tweet(data)
    return _is_v2_tweet(record)


def _v2_author(user: dict[str, Any], network: str) -> Author:
    handle = req_str(user, "username", "author.username")
    metrics = as_dict(user.get("public_metrics"))
    return Author(
        network,
        handle,
        opt_str(user.get("name")),
        to_int(metrics.get("followers_count")),
        to_int(metrics.get("following_count")),
        opt_str(user.get("description")),
        to_bool(user.get("verified")),
        f"https://twitter.com/{handle}",
    )


def _v2_post(
    tw: dict[str, Any],
    users: dict[str, dict[str, Any]],
    tweets: dict[str, dict[str, Any]],
    network: str,
    raw: dict[str, Any] | None,
) -> Post:
    native = req_str(tw, "id")
    note = as_dict(tw.get("note_tweet"))
    text = note.get("text") or tw.get("text")
    if type(text) is not str:
        req_str(tw, "text")  # raises with the right reason
        raise RecordError("field 'text' is missing")
    created_at = parse_date(tw.get("created_at"), "created_at", ISO_HINT)
    author_key = opt_str(tw.get("author_id"))
    user = users.get(author_key) if author_key else None
    if user is None and type(tw.get("author")) is dict:
        user = tw["author"]
    if user is not None:
        author: Author | None = _v2_author(user, network)
    elif author_key:
        author = Author(network, author_key)  # no user object: the numeric id stands in
    else:
        author = None
    parent = quote = reshare = None
    for ref in as_list(tw.get("referenced_tweets")):
        if type(ref) is not dict:
            continue
        kind, ref_id = ref.get("type"), opt_str(ref.get("id"))
        if not ref_id:
            continue
        if kind == "replied_to":
            parent = ref_id
        elif kind == "quoted":
            quote = ref_id
        elif kind == "retweeted":
            reshare = ref_id
    reply_to = None
    if parent:
        reply_user = users.get(opt_str(tw.get("in_reply_to_user_id")) or "")
        if reply_user is None:
            parent_tweet = tweets.get(parent)
            if parent_tweet is not None:
                reply_user = users.get(opt_str(parent_tweet.get("author_id")) or "")
        if reply_user is not None:
            name = opt_str(reply_user.get("username"))
            reply_to = name.lower() if name else None
    conversation = opt_str(tw.get("conversation_id"))
    entities = note.get("entities") if note.get("entities") else tw.get("entities")
    if type(entities) is dict:
        hashtags = [tag(h["tag"]) for h in as_list(entities.get("hashtags")) if _has(h, "tag")]
        mentions = [
            m["username"].lower() for m in as_list(entities.get("mentions")) if _has(m, "username")
        ]
        links = [
            u.get("expanded_url") or u["url"]
            for u in as_list(entities.get("urls"))
            if _has(u, "url") and "media_key" not in u
        ]
    else:
        hashtags, mentions, links = (
            hashtags_of(text),
            mentions_of(text),
            links_of(text),
        )
    metrics = as_dict(tw.get("public_metrics"))
    handle = author.handle if author is not None and user is not None else None
    return Post(
        network,
        native,
        text,
        created_at,
        author,
        status_url(handle, native),
        lang_of(tw.get("lang")),
        post_id(network, parent) if parent else None,
        post_id(network, conversation) if conversation and conversation != native else None,
        post_id(network, reshare) if reshare else None,
        post_id(network, quote) if quote else None,
        reply_to,
        mentions,
        hashtags,
        links,
        to_int(metrics.get("like_count")),
        to_int(metrics.get("retweet_count")),
        to_int(metrics.get("reply_count")),
        to_int(metrics.get("impression_count")),
        raw=raw,
    )


def _lower(value: Any) -> str | None:
    text = opt_str(value)
    return text.lower() if text else None


def _has(d: Any, key: str) -> bool:
    return type(d) is dict and type(d.get(key)) is str and bool(d[key])


def _map_v2(record: Any, network: str) -> Mapped:
    if type(record) is not dict:
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    users: dict[str, dict[str, Any]] = {}
    includes: dict[str, dict[str, Any]] = {}
    if "data" in record or "includes" in record or "meta" in record or "errors" in record:
        data = record.get("data")
        items = data if type(data) is list else [data] if type(data) is dict else []
        inc = as_dict(record.get("includes"))
        for u in as_list(inc.get("users")):
            if type(u) is dict and u.get("id") is not None:
                users[str(u["id"])] = u
        for t in as_list(inc.get("tweets")):
            if type(t) is dict and t.get("id") is not None:
                includes[str(t["id"])] = t
        if data is None and not includes:
            if "errors" in record:
                raise RecordError(f"API error page: {str(record['errors'])[:300]}")
            return []
        where = "data"
    else:
        items = [record]
        where = ""
        for ref in as_list(record.get("referenced_tweets")):
            inner = ref.get("tweet") if type(ref) is dict else None
            if type(inner) is dict and inner.get("id") is not None:  # twarc2 flattened form
                includes[str(inner["id"])] = inner
    out: Mapped = []
    seen: set[str] = set()
    for i, tw in enumerate(items):
        if type(tw) is not dict:
            out.append(Bad(f"{where}[{i}]: expected a tweet object, got {type(tw).__name__}", tw))
            continue
        try:
            post = _v2_post(tw, users, includes, network, tw)
        except RecordError as exc:
            if not where:
                raise
            out.append(bad_item(f"{where}[{i}] (tweet {tw.get('id')})", exc, tw))
            continue
        seen.add(post.native_id)
        out.append(post)
    for tid, tw in includes.items():
        if tid in seen:
            continue
        try:
            out.append(_v2_post(tw, users, includes, network, None))
        except RecordError as exc:
            out.append(bad_item(f"includes.tweets (tweet {tid})", exc, tw))
    return out


def map_record_v2(record: Any) -> list[Post]:
    """The posts of one v2 page or tweet (raises ``RecordError`` if any item is bad)."""
    return only_posts(_map_v2(record, NETWORK))


def make_mapper_v2(network: str | None = None) -> Mapper:
    """The per-file twitter-v2 mapper."""
    net = network or NETWORK
    return lambda record: _map_v2(record, net)


# --- API v1.1 -----------------------------------------------------------------------------------


def _is_v1_status(d: Any) -> bool:
    return (
        type(d) is dict
        and ("id_str" in d or "id" in d)
        and type(d.get("user")) is dict
        and ("text" in d or "full_text" in d or "extended_tweet" in d)
    )


def detect_v1(record: Any) -> bool:
    """A v1.1 status (``user`` object, ``id_str``, ``text``/``full_text``) or ``{"statuses"}``."""
    if type(record) is dict and type(record.get("statuses")) is list:
        statuses = record["statuses"]
        return _is_v1_status(statuses[0]) if statuses else "search_metadata" in record
    return _is_v1_status(record)


def _v1_text(st: dict[str, Any]) -> str:
    ext = st.get("extended_tweet")
    if type(ext) is dict and type(ext.get("full_text")) is str:
        return str(ext["full_text"])
    for key in ("full_text", "text"):
        value = st.get(key)
        if type(value) is str:
            return value
    raise RecordError("field 'text' (or 'full_text') is missing")


def _v1_user(user: dict[str, Any], network: str) -> Author:
    handle = req_str(user, "screen_name", "user.screen_name")
    return Author(
        network,
        handle,
        opt_str(user.get("name")),
        to_int(user.get("followers_count")),
        to_int(user.get("friends_count")),
        opt_str(user.get("description")),
        to_bool(user.get("verified")),
        f"https://twitter.com/{handle}",
    )


def _v1_id(st: dict[str, Any], key_str: str, key_int: str) -> str | None:
    value = st.get(key_str)
    if type(value) is str and value:
        return value
    value = st.get(key_int)
    return str(value) if type(value) is int else None


def _v1_post(
    st: dict[str, Any], network: str, raw: dict[str, Any] | None, out: Mapped, depth: int = 0
) -> Post:
    native = _v1_id(st, "id_str", "id")
    if native is None:
        raise RecordError("field 'id_str' is missing")
    text = _v1_text(st)
    created_at = parse_date(st.get("created_at"), "created_at", TWITTER_HINT)
    user = st.get("user")
    if type(user) is not dict:
        raise RecordError(
            "field 'user' is missing" if user is None else "field 'user' is not an object"
        )
    author = _v1_user(user, network)
    reshare = quote = None
    original = st.get("retweeted_status")
    if type(original) is dict:
        reshare = _v1_id(original, "id_str", "id")
        orig_user = as_dict(original.get("user")).get("screen_name")
        if depth < 3:
            _secondary(original, network, out, depth)
        if orig_user:
            text = f"RT @{orig_user}: {_v1_text(original)}"
    quoted = st.get("quoted_status")
    quote = _v1_id(st, "quoted_status_id_str", "quoted_status_id")
    if type(quoted) is dict:
        quote = quote or _v1_id(quoted, "id_str", "id")
        if depth < 3:
            _secondary(quoted, network, out, depth)
    ext = st.get("extended_tweet")
    entities = ext.get("entities") if type(ext) is dict and ext.get("entities") else None
    if entities is None:
        entities = st.get("entities")
    if type(entities) is dict:
        hashtags = [tag(h["text"]) for h in as_list(entities.get("hashtags")) if _has(h, "text")]
        mentions = [
            m["screen_name"].lower()
            for m in as_list(entities.get("user_mentions"))
            if _has(m, "screen_name")
        ]
        links = [
            u.get("expanded_url") or u["url"]
            for u in as_list(entities.get("urls"))
            if _has(u, "url")
        ]
    else:
        hashtags, mentions, links = (
            hashtags_of(text),
            mentions_of(text),
            links_of(text),
        )
    parent = _v1_id(st, "in_reply_to_status_id_str", "in_reply_to_status_id")
    return Post(
        network,
        native,
        text,
        created_at,
        author,
        status_url(author.handle, native),
        lang_of(st.get("lang")),
        post_id(network, parent) if parent else None,
        None,
        post_id(network, reshare) if reshare else None,
        post_id(network, quote) if quote else None,
        _lower(st.get("in_reply_to_screen_name")) if parent else None,
        mentions,
        hashtags,
        links,
        to_int(st.get("favorite_count")),
        to_int(st.get("retweet_count")),
        to_int(st.get("reply_count")),
        None,
        raw=raw,
    )


def _secondary(st: dict[str, Any], network: str, out: Mapped, depth: int) -> None:
    """Map an embedded status (the retweeted or quoted one) into ``out``; a bad one is a Bad."""
    try:
        out.append(_v1_post(st, network, None, out, depth + 1))
    except RecordError as exc:
        out.append(bad_item(f"embedded status {st.get('id_str') or st.get('id')}", exc, st))


def _map_v1(record: Any, network: str) -> Mapped:
    if type(record) is not dict:
        raise RecordError(f"expected a JSON object, got {type(record).__name__}")
    out: Mapped = []
    if type(record.get("statuses")) is list:
        for i, st in enumerate(record["statuses"]):
            if type(st) is not dict:
                out.append(Bad(f"statuses[{i}]: expected an object", st))
                continue
            extra: Mapped = []
            try:
                out.append(_v1_post(st, network, st, extra))
            except RecordError as exc:
                out.append(bad_item(f"statuses[{i}] (status {st.get('id_str')})", exc, st))
                continue
            out.extend(extra)
        return out
    if "user" not in record and not _STREAM_NOTICES.isdisjoint(record):
        return []  # a streaming control message, not a status
    main = _v1_post(record, network, record, out)
    out.insert(0, main)
    return out


def map_record_v1(record: Any) -> list[Post]:
    """The posts of one v1.1 status (with its retweeted/quoted originals) or search page."""
    return only_posts(_map_v1(record, NETWORK))


def make_mapper_v1(network: str | None = None) -> Mapper:
    """The per-file twitter-v1 mapper."""
    net = network or NETWORK
    return lambda record: _map_v1(record, net)
