"""The ``mastodon`` format: Mastodon API ``Status`` entities (and other ActivityPub servers'
Mastodon-compatible APIs).

Records are statuses (one per line, or a JSON array as the timelines return them), a status
context (``{"ancestors": [...], "descendants": [...]}``) or search results (``{"statuses"}``).

Identity (one status is seen under different local ids on every instance that knows it):

* ``native_id`` is ``"{origin host}/{origin id}"`` taken from the status ``uri`` (the
  ActivityPub id, the same on every instance): ``https://mastodon.social/users/ann/statuses/42``
  gives ``mastodon.social/42``. A boost's uri ends in ``/activity``, which is dropped. Without a
  ``uri`` the ``url`` host and the status ``id`` are used.
* handles are the full ``user@instance`` (``acct`` of remote accounts; local accounts get the
  host of their profile ``url``), so one person has one author id whatever instance served them.
* ``in_reply_to_id`` is an id local to the instance that served the file. The parent is
  ``"{host}/{in_reply_to_id}"`` with the host of the replied-to account (found in
  ``mentions``, or the status's own when it replies to itself). That is exact whenever the
  parent was posted on the serving instance (the usual case for threads, contexts and an
  account's own timeline); otherwise the reply edge and its author are right but the parent id
  may not match the parent's own import.

``content`` is HTML: it becomes plain text (tags stripped, entities unescaped, ``<p>``/``<br>``
kept as line breaks), a content warning (``spoiler_text``) is put before it. A boost is a
reshare whose text is the boosted status's; the boosted status becomes a post too.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

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
    only_posts,
    opt_str,
    parse_date,
    to_int,
    unique,
)
from ._html import html_to_text
from .twitter import tag

NAME = "mastodon"
NETWORK = "mastodon"


def _is_status(d: Any) -> bool:
    return (
        type(d) is dict
        and type(d.get("account")) is dict
        and "content" in d
        and ("uri" in d or "url" in d)
        and "created_at" in d
    )


def detect(record: Any) -> bool:
    """A Status entity, a context (``ancestors``/``descendants``) or ``{"statuses": [...]}``."""
    if type(record) is not dict:
        return False
    if "ancestors" in record and "descendants" in record:
        return True
    statuses = record.get("statuses")
    if type(statuses) is list and statuses and "accounts" in record:
        return _is_status(statuses[0])
    return _is_status(record)


def _host(url: Any) -> str | None:
    if type(url) is not str or not url:
        return None
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return host.lower() if host else None


def origin_id(status: dict[str, Any]) -> str:
    """``"{host}/{id}"`` of the status at its origin (see the module docs)."""
    uri = status.get("uri")
    host = _host(uri)
    if host:
        path = urlsplit(str(uri)).path.rstrip("/")
        if path.endswith("/activity"):
            path = path[: -len("/activity")]
        last = path.rsplit("/", 1)[-1]
        if last:
            return f"{host}/{last}"
    host = _host(status.get("url"))
    local = opt_str(status.get("id"))
    if host and local:
        return f"{host}/{local}"
    raise RecordError("field 'uri' is missing (and no 'url' + 'id' to identify the status)")


def full_acct(account: dict[str, Any], fallback_host: str | None = None) -> str:
    """``user@instance`` for an account or mention object."""
    acct = opt_str(account.get("acct")) or opt_str(account.get("username"))
    if not acct:
        raise RecordError("field 'account.acct' is missing")
    acct = acct.lstrip("@")
    if "@" in acct:
        return acct
    host = _host(account.get("url")) or fallback_host
    return f"{acct}@{host}" if host else acct


@lru_cache(maxsize=4096)
def _bio(note: str) -> str | None:
    """An account's ``note`` as text (cached: the same accounts post again and again)."""
    return html_to_text(note)[0] or None


def _author(account: dict[str, Any], network: str, host: str | None) -> Author:
    bio = opt_str(account.get("note"))
    return Author(
        network,
        full_acct(account, host),
        opt_str(account.get("display_name")),
        to_int(account.get("followers_count")),
        to_int(account.get("following_count")),
        _bio(bio) if bio else None,
        None,
        opt_str(account.get("url")),
    )


def _text(status: dict[str, Any]) -> tuple[str, list[str]]:
    content = status.get("content")
    if type(content) is not str:
        if content is None:
            raise RecordError("field 'content' is missing")
        raise RecordError(f"field 'content' is not a string ({type(content).__name__})")
    text, links = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if type(spoiler) is str and spoiler:
        text = f"{spoiler}\n\n{text}" if text else spoiler
    return text, links


def _status_post(
    status: dict[str, Any], network: str, raw: dict[str, Any] | None, out: Mapped
) -> Post:
    native = origin_id(status)
    origin_host = native.split("/", 1)[0]
    created_at = parse_date(status.get("created_at"), "created_at", ISO_HINT)
    account = status.get("account")
    if type(account) is not dict:
        raise RecordError("field 'account' is missing")
    author = _author(account, network, origin_host)
    boosted = status.get("reblog")
    reshare_of = None
    if type(boosted) is dict:
        try:
            inner = _status_post(boosted, network, None, out)
        except RecordError as exc:
            raise RecordError(f"boosted status: {exc}") from exc
        out.append(inner)
        reshare_of = inner.id
        text, links = inner.text, list(inner.links)
        mentions, hashtags, lang = list(inner.mentions), list(inner.hashtags), inner.lang
    else:
        text, links = _text(status)
        mentions = unique(
            _mention(m, origin_host) for m in as_list(status.get("mentions")) if type(m) is dict
        )
        hashtags = unique(
            tag(t["name"]) for t in as_list(status.get("tags")) if _has_str(t, "name")
        )
        card_url = opt_str(as_dict(status.get("card")).get("url"))
        if card_url and card_url not in links:
            links.append(card_url)
        lang = opt_str(status.get("language"))
    parent_id = reply_to = None
    parent_local = opt_str(status.get("in_reply_to_id"))
    if parent_local:
        parent_host, reply_to = _replied_account(status, account, author.handle, origin_host)
        parent_id = post_id(network, f"{parent_host}/{parent_local}")
    quote = as_dict(status.get("quote"))
    quoted = as_dict(quote.get("quoted_status")) or quote  # Mastodon 4.4 quotes
    quote_of = None
    if _is_status(quoted):
        try:
            quoted_post = _status_post(quoted, network, None, out)
            out.append(quoted_post)
            quote_of = quoted_post.id
        except RecordError as exc:
            out.append(bad_item("quoted status", exc, quoted))
    return Post(
        network,
        native,
        text,
        created_at,
        author,
        opt_str(status.get("url")),
        lang,
        parent_id,
        None,
        reshare_of,
        quote_of,
        reply_to,
        mentions,
        hashtags,
        links,
        to_int(status.get("favourites_count")),
        to_int(status.get("reblogs_count")),
        to_int(status.get("replies_count")),
        None,
        raw=raw,
    )


def _has_str(d: Any, key: str) -> bool:
    return type(d) is dict and type(d.get(key)) is str and bool(d[key])


def _mention(mention: dict[str, Any], host: str) -> str | None:
    try:
        return full_acct(mention, host).lower()
    except RecordError:
        return None


def _replied_account(
    status: dict[str, Any], account: dict[str, Any], handle: str, origin_host: str
) -> tuple[str, str | None]:
    """The host the parent lives on and the handle of its author (see the module docs)."""
    target = opt_str(status.get("in_reply_to_account_id"))
    if target is None or target == opt_str(account.get("id")):
        return origin_host, handle.lower() if target is not None else None
    for mention in as_list(status.get("mentions")):
        if type(mention) is dict and opt_str(mention.get("id")) == target:
            acct = _mention(mention, origin_host)
            return _host(mention.get("url")) or origin_host, acct
    return origin_host, None


def _map(record: Any, network: str) -> Mapped:
    if type(record) is not dict:
        raise RecordError(f"expected a status object, got {type(record).__name__}")
    if "ancestors" in record and "descendants" in record:
        items = [
            (f"{key}[{i}]", s)
            for key in ("ancestors", "descendants")
            for i, s in enumerate(as_list(record.get(key)))
        ]
    elif type(record.get("statuses")) is list and "accounts" in record:
        items = [(f"statuses[{i}]", s) for i, s in enumerate(record["statuses"])]
    else:
        out: Mapped = []
        out.insert(0, _status_post(record, network, record, out))
        return out
    result: Mapped = []
    for where, status in items:
        if not _is_status(status):
            result.append(Bad(f"{where}: not a status object", status))
            continue
        extra: Mapped = []
        try:
            result.append(_status_post(status, network, status, extra))
        except RecordError as exc:
            result.append(bad_item(f"{where} (status {status.get('id')})", exc, status))
            continue
        result.extend(extra)
    return result


def map_record(record: Any) -> list[Post]:
    """The posts of one status (a boost gives the boost and the boosted status)."""
    return only_posts(_map(record, NETWORK))


def make_mapper(network: str | None = None) -> Mapper:
    """The per-file mastodon mapper."""
    net = network or NETWORK
    return lambda record: _map(record, net)


__all__ = ["NAME", "NETWORK", "detect", "full_acct", "make_mapper", "map_record", "origin_id"]
