"""Publishing replies to Bluesky through a fake PDS behind httpx.MockTransport.

The fake answers the XRPC calls the publisher uses with the documented shapes
(com.atproto.server.createSession / refreshSession, com.atproto.repo.createRecord / getRecord,
app.bsky.feed.getPosts, error bodies ``{"error": ..., "message": ...}``) and keeps state:
sessions, expired tokens, the records of the repo. Targets come from the real importer
(listen.formats.bluesky) reading postViews.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialloop.config import load_settings, write_default_config
from socialloop.engage.publish import Published, ReplyTarget, publisher_for
from socialloop.engage.publish.bluesky import (
    TID_RE,
    BlueskyPublisher,
    facets_of,
    grapheme_count,
    tid_from_key,
)
from socialloop.errors import (
    PublishAuthError,
    PublishNotAllowed,
    PublishOutcomeUnknown,
    PublishRateLimited,
)
from socialloop.listen.formats.bluesky import map_record

SERVICE = "https://pds.example"
DID = "did:plc:brandbrandbrandbrand00"
HANDLE = "brand.example"
PASSWORD = "abcd-efgh-ijkl-mnop"
ANN = "did:plc:annannannannannann0000"
ROOT = {
    "uri": f"at://{ANN}/app.bsky.feed.post/3lbqzx4r2kc2a",
    "cid": "bafyreiaqz3rootrootrootrootrootrootrootrootrootrootroot",
}


def cid_of(value: Any) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:52]


def post_view(rkey: str, text: str, *, reply: dict[str, Any] | None = None) -> dict[str, Any]:
    """An app.bsky.feed.defs#postView."""
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "createdAt": "2026-05-01T12:00:00.000Z",
        "langs": ["en"],
        "text": text,
    }
    if reply is not None:
        record["reply"] = reply
    return {
        "uri": f"at://{ANN}/app.bsky.feed.post/{rkey}",
        "cid": cid_of(record),
        "author": {
            "did": ANN,
            "handle": "ann.bsky.social",
            "displayName": "Ann",
            "avatar": "https://cdn.bsky.app/img/avatar/plain/x/y@jpeg",
            "labels": [],
            "createdAt": "2023-05-01T00:00:00.000Z",
        },
        "record": record,
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 1,
        "quoteCount": 0,
        "indexedAt": "2026-05-01T12:00:01.000Z",
        "labels": [],
    }


IN_THREAD = post_view(
    "3lbqzx7mmbk2b", "@brand where is my parcel?", reply={"root": ROOT, "parent": ROOT}
)
TOP = post_view("3lbqzy2aaa22c", "does brand ship to Finland?")


def err(status: int, error: str, message: str, **kw: Any) -> httpx.Response:
    return httpx.Response(status, json={"error": error, "message": message}, **kw)


class FakePDS:
    """``faults`` are consumed one per createRecord: ``"lost"`` writes the record then answers
    502, ``"down"`` answers 503 without writing, ``"expired"`` answers ExpiredToken (and marks
    the access token expired), ``("429", headers)`` rate limits. ``duplicate`` is how a taken
    rkey is answered: the reference PDS answers 500 (bluesky-social/indigo#873), newer ones
    409 RecordAlreadyExists."""

    def __init__(self, duplicate: str = "500") -> None:
        self.requests: list[httpx.Request] = []
        self.records: dict[str, dict[str, Any]] = {}
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.counter = 0
        self.faults: list[Any] = []
        self.duplicate = duplicate
        self.refresh_works = True
        self.appview = {v["uri"]: v for v in (IN_THREAD, TOP)}

    def calls(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/xrpc/{method}"]

    def _tokens(self) -> dict[str, Any]:
        self.counter += 1
        access, refresh = f"access-{self.counter}", f"refresh-{self.counter}"
        self.access.add(access)
        self.refresh.add(refresh)
        return {"did": DID, "handle": HANDLE, "accessJwt": access, "refreshJwt": refresh}

    def _authed(self, request: httpx.Request) -> httpx.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token.startswith("access-") and token not in self.access:
            return err(400, "ExpiredToken", "Token has expired")
        if token not in self.access:
            return err(401, "AuthenticationRequired", "Authentication Required")
        return None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        method = request.url.path.removeprefix("/xrpc/")
        if method == "com.atproto.server.createSession":
            body = json.loads(request.content)
            if body != {"identifier": HANDLE, "password": PASSWORD}:
                return err(401, "AuthenticationRequired", "Invalid identifier or password")
            return httpx.Response(
                200,
                json={
                    **self._tokens(),
                    "email": "care@brand.example",
                    "emailConfirmed": True,
                    "emailAuthFactor": False,
                    "active": True,
                    "didDoc": {"@context": ["https://www.w3.org/ns/did/v1"], "id": DID},
                },
            )
        if method == "com.atproto.server.refreshSession":
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if not self.refresh_works or token not in self.refresh:
                return err(400, "ExpiredToken", "Token has expired")
            self.refresh.discard(token)
            return httpx.Response(200, json={**self._tokens(), "active": True})
        denied = self._authed(request)
        if denied is not None:
            return denied
        if method == "com.atproto.repo.createRecord":
            return self._create(request)
        if method == "com.atproto.repo.getRecord":
            rkey = request.url.params["rkey"]
            if rkey not in self.records:
                uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
                return err(400, "RecordNotFound", f"Could not locate record: {uri}")
            return httpx.Response(200, json=self.records[rkey])
        if method == "app.bsky.feed.getPosts":
            uris = request.url.params.get_list("uris")
            return httpx.Response(
                200, json={"posts": [self.appview[u] for u in uris if u in self.appview]}
            )
        return err(501, "MethodNotImplemented", "Method Not Implemented")

    def _create(self, request: httpx.Request) -> httpx.Response:
        fault = self.faults.pop(0) if self.faults else None
        if fault == "expired":
            self.access.discard(request.headers["Authorization"].removeprefix("Bearer "))
            return err(400, "ExpiredToken", "Token has expired")
        if fault == "down":
            return httpx.Response(503, text="Service Unavailable")
        if isinstance(fault, tuple):
            return err(429, "RateLimitExceeded", "Rate Limit Exceeded", headers=fault[1])
        body = json.loads(request.content)
        assert body["repo"] == DID and body["collection"] == "app.bsky.feed.post"
        rkey = body.get("rkey")
        if rkey in self.records:
            if self.duplicate == "409":
                return err(409, "RecordAlreadyExists", "Record already exists")
            return err(500, "InternalServerError", "Internal Server Error")
        uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
        cid = cid_of(body["record"])
        self.records[rkey] = {"uri": uri, "cid": cid, "value": body["record"]}
        if fault == "lost":
            return httpx.Response(502, text="Bad Gateway")
        return httpx.Response(
            200,
            json={
                "uri": uri,
                "cid": cid,
                "commit": {"cid": "bafyreicommit", "rev": "3lbr2commitr2"},
                "validationStatus": "valid",
            },
        )


def make(
    tmp_path: Path, fake: FakePDS, *, password: str = PASSWORD, handle: str | None = HANDLE
) -> tuple[BlueskyPublisher, list[float]]:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    path = write_default_config(root, name="t")
    extra = f'\n[publish.bluesky]\nservice = "{SERVICE}"\n'
    if handle:
        extra += f'handle = "{handle}"\n'
    path.write_text(path.read_text() + extra)
    settings = load_settings(root, {"SOCIALLOOP_BLUESKY_PASSWORD": password} if password else {})
    slept: list[float] = []
    pub = publisher_for(
        "bluesky", settings, transport=httpx.MockTransport(fake), sleep=slept.append
    )
    assert isinstance(pub, BlueskyPublisher)
    return pub, slept


def target(view: dict[str, Any]) -> ReplyTarget:
    return ReplyTarget.from_post(map_record(view)[0])


def created_record(fake: FakePDS) -> dict[str, Any]:
    return dict(json.loads(fake.calls("com.atproto.repo.createRecord")[-1].content))


def test_reply_in_a_thread_sends_session_then_record_with_refs(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    out = pub.publish(target(IN_THREAD), "Sorry Ann! DM us your order number.", key="r-1")

    session, create = fake.requests
    assert str(session.url) == f"{SERVICE}/xrpc/com.atproto.server.createSession"
    assert json.loads(session.content) == {"identifier": HANDLE, "password": PASSWORD}
    assert str(create.url) == f"{SERVICE}/xrpc/com.atproto.repo.createRecord"
    assert create.headers["Authorization"] == "Bearer access-1"
    assert session.extensions["timeout"]["read"] == create.extensions["timeout"]["read"] == 15.0
    body = json.loads(create.content)
    rkey = tid_from_key("r-1")
    assert body["repo"] == DID and body["collection"] == "app.bsky.feed.post"
    assert body["rkey"] == rkey and TID_RE.match(rkey)
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == "Sorry Ann! DM us your order number."
    assert record["createdAt"].endswith("Z") and len(record["createdAt"]) == 24
    assert record["reply"] == {
        "root": ROOT,
        "parent": {"uri": IN_THREAD["uri"], "cid": IN_THREAD["cid"]},
    }
    assert "facets" not in record
    uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert out == Published("bluesky", uri, f"https://bsky.app/profile/{HANDLE}/post/{rkey}")


def test_top_level_post_is_its_own_root(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    pub.publish(target(TOP), "Yes, we do!", key="r-2")
    reply = created_record(fake)["record"]["reply"]
    assert reply["root"] == reply["parent"] == {"uri": TOP["uri"], "cid": TOP["cid"]}


def test_feed_item_root_comes_from_the_item(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    view = post_view("3lbqzz5bbb22d", "still waiting")  # record without reply refs
    item = {
        "post": view,
        "reply": {
            "root": {**post_view("3lbqzx4r2kc2a", "root"), **ROOT},
            "parent": {**post_view("3lbqzx4r2kc2a", "root"), **ROOT},
        },
    }
    t = ReplyTarget("bluesky", view["uri"], f"bluesky:{view['uri']}", "ann.bsky.social", None, item)
    pub.publish(t, "On its way!", key="r-3")
    assert created_record(fake)["record"]["reply"]["root"] == ROOT


def test_target_without_cid_is_looked_up(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    bare = ReplyTarget("bluesky", IN_THREAD["uri"], "bluesky:x", None, None, None)
    pub.publish(bare, "hello", key="r-4")
    (lookup,) = fake.calls("app.bsky.feed.getPosts")
    assert lookup.url.params["uris"] == IN_THREAD["uri"]
    assert created_record(fake)["record"]["reply"]["root"] == ROOT
    gone = ReplyTarget(
        "bluesky", f"at://{ANN}/app.bsky.feed.post/3lbqzzzzzzz2z", "b:y", None, None, None
    )
    with pytest.raises(PublishNotAllowed, match="not found"):
        pub.publish(gone, "hello", key="r-5")


def test_lost_answer_is_recovered_without_a_second_record(tmp_path: Path) -> None:
    fake = FakePDS()
    fake.faults = ["lost"]
    pub, slept = make(tmp_path, fake)
    out = pub.publish(target(IN_THREAD), "hi", key="r-6")
    assert len(fake.records) == 1
    assert len(fake.calls("com.atproto.repo.createRecord")) == 1
    (check,) = fake.calls("com.atproto.repo.getRecord")
    assert check.url.params["rkey"] == tid_from_key("r-6")
    assert out.native_id == f"at://{DID}/app.bsky.feed.post/{tid_from_key('r-6')}"
    assert slept == [0.5]


@pytest.mark.parametrize("duplicate", ["500", "409"])
def test_publishing_again_with_the_same_key_never_double_posts(
    tmp_path: Path, duplicate: str
) -> None:
    fake = FakePDS(duplicate)
    first, _ = make(tmp_path, fake)
    a = first.publish(target(IN_THREAD), "hi", key="r-7")
    again, _ = make(tmp_path, fake)  # a later run: new publisher, new session
    b = again.publish(target(IN_THREAD), "hi", key="r-7")
    assert a == b and len(fake.records) == 1


def test_same_key_for_another_post_is_refused(tmp_path: Path) -> None:
    fake = FakePDS("409")
    pub, _ = make(tmp_path, fake)
    pub.publish(target(IN_THREAD), "hi", key="r-8")
    with pytest.raises(PublishNotAllowed, match="another post"):
        pub.publish(target(TOP), "hi", key="r-8")
    assert len(fake.records) == 1


def test_expired_token_refreshes_the_session_once(tmp_path: Path) -> None:
    fake = FakePDS()
    fake.faults = ["expired"]
    pub, _ = make(tmp_path, fake)
    pub.publish(target(IN_THREAD), "hi", key="r-9")
    (refresh,) = fake.calls("com.atproto.server.refreshSession")
    assert refresh.headers["Authorization"] == "Bearer refresh-1"
    creates = fake.calls("com.atproto.repo.createRecord")
    assert [c.headers["Authorization"] for c in creates] == ["Bearer access-1", "Bearer access-2"]
    assert len(fake.records) == 1
    # the session is kept: a second reply signs in no more
    pub.publish(target(TOP), "hi", key="r-10")
    assert len(fake.calls("com.atproto.server.createSession")) == 1


def test_expired_refresh_token_signs_in_again(tmp_path: Path) -> None:
    fake = FakePDS()
    fake.faults = ["expired"]
    fake.refresh_works = False
    pub, _ = make(tmp_path, fake)
    pub.publish(target(IN_THREAD), "hi", key="r-11")
    assert len(fake.calls("com.atproto.server.createSession")) == 2
    assert len(fake.records) == 1


def test_bad_password_is_an_auth_error(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, slept = make(tmp_path, fake, password="wrong")
    with pytest.raises(PublishAuthError, match="Invalid identifier or password") as info:
        pub.publish(target(IN_THREAD), "hi", key="r")
    assert info.value.setting == "SOCIALLOOP_BLUESKY_PASSWORD"
    assert len(fake.requests) == 1 and slept == [] and fake.records == {}


def test_missing_credentials_name_the_setting(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake, password="")
    with pytest.raises(PublishAuthError) as info:
        pub.publish(target(IN_THREAD), "hi", key="r", dry_run=True)
    assert info.value.setting == "SOCIALLOOP_BLUESKY_PASSWORD"
    nohandle, _ = make(tmp_path, fake, handle=None)
    with pytest.raises(PublishAuthError) as info:
        nohandle.publish(target(IN_THREAD), "hi", key="r")
    assert info.value.setting == "publish.bluesky.handle"
    assert fake.requests == []


def test_rate_limit_with_retry_after(tmp_path: Path) -> None:
    fake = FakePDS()
    fake.faults = [("429", {"Retry-After": "3", "RateLimit-Limit": "5000"})]
    pub, slept = make(tmp_path, fake)
    pub.publish(target(IN_THREAD), "hi", key="r-12")
    assert slept == [3.0] and len(fake.records) == 1
    fake.faults = [("429", {"RateLimit-Reset": "4102444800"})]  # 2100-01-01
    with pytest.raises(PublishRateLimited) as info:
        pub.publish(target(TOP), "hi", key="r-13")
    assert info.value.retry_after is not None and info.value.retry_after > 30
    assert len(fake.records) == 1


def test_server_down_for_every_attempt_is_unknown(tmp_path: Path) -> None:
    fake = FakePDS()
    fake.faults = ["down", "down", "down"]
    pub, _ = make(tmp_path, fake)
    with pytest.raises(PublishOutcomeUnknown):
        pub.publish(target(IN_THREAD), "hi", key="r-14")
    # between attempts the record key was checked: nothing there, so it was sent again
    assert len(fake.calls("com.atproto.repo.createRecord")) == 3
    assert len(fake.calls("com.atproto.repo.getRecord")) == 2
    assert fake.records == {}


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    out = pub.publish(target(IN_THREAD), "hi", key="r", dry_run=True)
    assert out == Published("bluesky", "", None) and out.dry_run
    bare = ReplyTarget("bluesky", IN_THREAD["uri"], "bluesky:x", None, None, None)
    assert pub.publish(bare, "hi", key="r", dry_run=True).dry_run
    assert fake.requests == []


def test_text_checks_and_non_posts(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    with pytest.raises(PublishNotAllowed, match="300"):
        pub.publish(target(TOP), "a" * 301, key="r", dry_run=True)
    pub.publish(target(TOP), "é" * 300, key="r-ok", dry_run=True)
    repost = ReplyTarget("bluesky", "repost:did:plc:x:at://y", "bluesky:z", None, None, None)
    with pytest.raises(PublishNotAllowed, match="only posts"):
        pub.publish(repost, "hi", key="r", dry_run=True)
    assert fake.requests == []


def test_links_and_tags_become_facets_with_byte_ranges(tmp_path: Path) -> None:
    text = "Ça va? See https://brand.example/help. #support"
    facets = facets_of(text)
    encoded = text.encode()
    spans = [encoded[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in facets]
    assert spans == ["https://brand.example/help", "#support"]
    assert facets[0]["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://brand.example/help"}
    ]
    assert facets[1]["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "support"}]
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    pub.publish(target(TOP), text, key="r-f")
    assert created_record(fake)["record"]["facets"] == facets


def test_tid_from_key_is_deterministic_valid_and_spread() -> None:
    keys = [f"reply-{i}" for i in range(2000)]
    tids = [tid_from_key(k) for k in keys]
    assert all(TID_RE.match(t) for t in tids)
    assert len(set(tids)) == len(tids)
    assert tid_from_key("reply-1") == tids[1]
    assert grapheme_count("👍🏽 ok") == 4  # thumbs up + skin tone is one
    assert grapheme_count("🇫🇮") == 1
    assert grapheme_count("e\u0301") == 1
    assert grapheme_count("👩\u200d💻") == 1


def test_check_signs_in(tmp_path: Path) -> None:
    fake = FakePDS()
    pub, _ = make(tmp_path, fake)
    assert pub.check() == f"{HANDLE} ({DID})"
    bad, _ = make(tmp_path, fake, password="nope")
    with pytest.raises(PublishAuthError):
        bad.check()
