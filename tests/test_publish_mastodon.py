"""Publishing replies to Mastodon through a fake instance behind httpx.MockTransport.

The fake answers like Mastodon does (Status / Account entities and error bodies as documented on
docs.joinmastodon.org) and keeps state: statuses created, Idempotency-Keys seen, remote statuses
it can resolve. Targets are built by the real importer (listen.formats.mastodon) from Status JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialloop.config import load_settings, write_default_config
from socialloop.engage.publish import Published, ReplyTarget, publisher_for
from socialloop.engage.publish.mastodon import MastodonPublisher, with_mention
from socialloop.errors import (
    ConfigError,
    PublishAuthError,
    PublishError,
    PublishNotAllowed,
    PublishOutcomeUnknown,
    PublishRateLimited,
)
from socialloop.listen.formats.mastodon import map_record

HOST = "social.example"
TOKEN = "tok-7f3a9c"


def account(acct: str, host: str, account_id: str) -> dict[str, Any]:
    username = acct.split("@")[0]
    return {
        "id": account_id,
        "username": username,
        "acct": acct,
        "display_name": username.title(),
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2022-11-01T00:00:00.000Z",
        "note": "<p>hello</p>",
        "url": f"https://{host}/@{username}",
        "avatar": f"https://{host}/avatars/original/missing.png",
        "avatar_static": f"https://{host}/avatars/original/missing.png",
        "header": f"https://{host}/headers/original/missing.png",
        "header_static": f"https://{host}/headers/original/missing.png",
        "followers_count": 12,
        "following_count": 3,
        "statuses_count": 40,
        "last_status_at": "2026-05-01",
        "emojis": [],
        "fields": [],
    }


def status(
    status_id: str,
    *,
    origin: str,
    username: str,
    acct: str | None = None,
    content: str = "<p>Is the store open on Sunday?</p>",
    in_reply_to_id: str | None = None,
    origin_id: str | None = None,
    visibility: str = "public",
) -> dict[str, Any]:
    """A Status entity as the API returns it (docs.joinmastodon.org/entities/Status)."""
    oid = origin_id or status_id
    return {
        "id": status_id,
        "created_at": "2026-05-01T12:00:00.000Z",
        "in_reply_to_id": in_reply_to_id,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": visibility,
        "language": "en",
        "uri": f"https://{origin}/users/{username}/statuses/{oid}",
        "url": f"https://{origin}/@{username}/{oid}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": None,
        "favourited": False,
        "reblogged": False,
        "muted": False,
        "bookmarked": False,
        "content": content,
        "filtered": [],
        "reblog": None,
        "application": {"name": "socialloop", "website": None},
        "account": account(acct or username, origin, "1090"),
        "media_attachments": [],
        "mentions": [],
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }


class FakeInstance:
    """A Mastodon instance at HOST. ``faults`` are consumed one per POST /api/v1/statuses:
    ``"lost"`` creates the status then answers 503 (the answer got lost), ``"timeout"`` creates
    it then raises a read timeout, an int answers that status code without creating anything,
    ``("429", headers)`` answers Too Many Requests with those headers."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.created: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        self.remote: dict[str, dict[str, Any]] = {}  # uri or url -> status as known locally
        self.faults: list[Any] = []
        self.next_id = 110_000_000_000_000_000
        self.scopes = {"read", "write"}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"error": "The access token is invalid"})
        path = request.url.path
        if path == "/api/v2/search" and request.method == "GET":
            hit = self.remote.get(request.url.params.get("q", ""))
            resolve = request.url.params.get("resolve") == "true"
            statuses = [hit] if hit is not None and resolve else []
            return httpx.Response(200, json={"accounts": [], "statuses": statuses, "hashtags": []})
        if path == "/api/v1/accounts/verify_credentials":
            return httpx.Response(200, json=account("brand", HOST, "77"))
        if path == "/api/v1/statuses" and request.method == "POST":
            return self._post(request)
        return httpx.Response(404, json={"error": "Record not found"})

    def _post(self, request: httpx.Request) -> httpx.Response:
        if "write" not in self.scopes:
            return httpx.Response(
                403, json={"error": "This action is outside the authorized scopes"}
            )
        fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, int):
            return httpx.Response(fault, json={"error": "Something went wrong"})
        if isinstance(fault, tuple):
            return httpx.Response(429, headers=fault[1], json={"error": "Too many requests"})
        body = json.loads(request.content)
        if not body.get("status", "").strip():
            return httpx.Response(422, json={"error": "Validation failed: Text can't be blank"})
        key = request.headers.get("Idempotency-Key")
        if key and key in self.by_key:  # Mastodon answers with the status made first
            made = self.created[self.by_key[key]]
        else:
            new_id = str(self.next_id)
            self.next_id += 1
            made = status(
                new_id,
                origin=HOST,
                username="brand",
                content=f"<p>{body['status']}</p>",
                in_reply_to_id=body.get("in_reply_to_id"),
                visibility=body.get("visibility", "public"),
            )
            self.created[new_id] = made
            if key:
                self.by_key[key] = new_id
        if fault == "lost":
            return httpx.Response(503, text="<html>503 Service Unavailable</html>")
        if fault == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(200, json=made)

    def posts(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == "/api/v1/statuses"]


def settings_for(tmp_path: Path, extra: str = "", env: dict[str, str] | None = None) -> Any:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    path = write_default_config(root, name="t")
    toml = f'\n[publish.mastodon]\ninstance = "https://{HOST}/"\n{extra}\n'
    path.write_text(path.read_text() + toml)
    environ = {"SOCIALLOOP_MASTODON_TOKEN": TOKEN} if env is None else env
    return load_settings(root, environ)


def publisher(
    tmp_path: Path, fake: FakeInstance, extra: str = "", env: dict[str, str] | None = None
) -> tuple[MastodonPublisher, list[float]]:
    slept: list[float] = []
    pub = publisher_for(
        "mastodon",
        settings_for(tmp_path, extra, env),
        transport=httpx.MockTransport(fake),
        sleep=slept.append,
    )
    assert isinstance(pub, MastodonPublisher)
    return pub, slept


def target_of(raw: dict[str, Any]) -> ReplyTarget:
    return ReplyTarget.from_post(map_record(raw)[0])


LOCAL = status("109000000000000001", origin=HOST, username="ann")
REMOTE = status(
    "9f8e7d",  # the id on the instance the status was imported from
    origin="other.example",
    username="bob",
    acct="bob@other.example",
    origin_id="112233",
)


def test_reply_to_a_local_status_has_the_documented_request_shape(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake)
    target = target_of(LOCAL)
    assert target.native_id == f"{HOST}/109000000000000001"

    out = pub.publish(target, "Yes, 9 to 17 on Sundays.", key="reply-41")

    (post,) = fake.requests
    assert post.method == "POST"
    assert str(post.url) == f"https://{HOST}/api/v1/statuses"
    assert post.headers["Authorization"] == f"Bearer {TOKEN}"
    assert post.headers["Idempotency-Key"] == "reply-41"
    assert post.extensions["timeout"]["read"] == 15.0  # every request has a timeout
    body = json.loads(post.content)
    assert body == {
        "status": "@ann Yes, 9 to 17 on Sundays.",
        "in_reply_to_id": "109000000000000001",
        "visibility": "public",
    }
    (created,) = fake.created.values()
    assert out == Published("mastodon", f"{HOST}/{created['id']}", created["url"])
    # the reply's id is the one the importer would give the same status
    assert map_record(created)[0].native_id == out.native_id
    assert not out.dry_run


def test_remote_status_is_resolved_on_the_publishing_instance(tmp_path: Path) -> None:
    fake = FakeInstance()
    local_copy = status(
        "109555",
        origin="other.example",
        username="bob",
        acct="bob@other.example",
        origin_id="112233",
    )
    fake.remote[REMOTE["uri"]] = local_copy
    pub, _ = publisher(tmp_path, fake)

    pub.publish(target_of(REMOTE), "Thanks Bob!", key="k-remote")

    search, post = fake.requests
    assert search.method == "GET" and search.url.path == "/api/v2/search"
    assert search.url.params["q"] == REMOTE["uri"]
    assert search.url.params["resolve"] == "true"
    assert search.url.params["type"] == "statuses"
    assert search.headers["Authorization"] == f"Bearer {TOKEN}"
    body = json.loads(post.content)
    # the id local to the publishing instance, not the imported file's "9f8e7d" nor "112233"
    assert body["in_reply_to_id"] == "109555"
    assert body["status"] == "@bob@other.example Thanks Bob!"


def test_unresolvable_remote_status_is_not_allowed_and_nothing_is_posted(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake)
    with pytest.raises(PublishNotAllowed, match="could not find"):
        pub.publish(target_of(REMOTE), "Thanks!", key="k")
    assert fake.posts() == [] and fake.created == {}


def test_existing_mention_is_kept_and_visibility_comes_from_settings(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake, 'visibility = "unlisted"\ntimeout = 4')
    pub.publish(target_of(LOCAL), "Hi @Ann, we open at 9.", key="k1")
    assert fake.posts()[0].extensions["timeout"]["connect"] == 4.0
    body = json.loads(fake.posts()[0].content)
    assert body["status"] == "Hi @Ann, we open at 9."
    assert body["visibility"] == "unlisted"


def test_with_mention_rules() -> None:
    assert with_mention("ok", "bob@other.example", HOST) == "@bob@other.example ok"
    assert with_mention("ok", f"ann@{HOST}", HOST) == "@ann ok"
    assert with_mention("@bob@other.example ok", "bob@other.example", HOST).count("@bob") == 1
    # @bobby is someone else: the mention is still added
    assert with_mention("@bobby ok", f"bob@{HOST}", HOST) == "@bob @bobby ok"
    # a local-looking @bob does not mention the remote bob@other.example
    assert with_mention("@bob ok", "bob@other.example", HOST).startswith("@bob@other.example ")
    assert with_mention("ok", None, HOST) == "ok"


def test_bad_token_is_an_auth_error_naming_the_variable_and_not_retried(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, slept = publisher(tmp_path, fake, env={"SOCIALLOOP_MASTODON_TOKEN": "wrong"})
    with pytest.raises(PublishAuthError) as info:
        pub.publish(target_of(LOCAL), "hi", key="k")
    assert info.value.setting == "SOCIALLOOP_MASTODON_TOKEN"
    assert "The access token is invalid" in str(info.value)
    assert len(fake.requests) == 1 and slept == []


def test_missing_scope_is_an_auth_error(tmp_path: Path) -> None:
    fake = FakeInstance()
    fake.scopes = {"read"}
    pub, _ = publisher(tmp_path, fake)
    with pytest.raises(PublishAuthError, match="write:statuses"):
        pub.publish(target_of(LOCAL), "hi", key="k")


def test_missing_credentials_say_which_setting(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake, 'token_env = "BRAND_TOKEN"', env={})
    with pytest.raises(PublishAuthError, match="BRAND_TOKEN") as info:
        pub.publish(target_of(LOCAL), "hi", key="k", dry_run=True)
    assert info.value.setting == "BRAND_TOKEN"
    root = tmp_path / "bare"
    root.mkdir()
    write_default_config(root, name="t")
    bare = publisher_for("mastodon", load_settings(root, {}), transport=httpx.MockTransport(fake))
    assert bare is not None
    with pytest.raises(PublishAuthError) as info:
        bare.publish(target_of(LOCAL), "hi", key="k")
    assert info.value.setting == "publish.mastodon.instance"
    assert fake.requests == []


def test_rate_limit_within_bounds_is_waited_out(tmp_path: Path) -> None:
    fake = FakeInstance()
    fake.faults = [("429", {"Retry-After": "7"})]
    pub, slept = publisher(tmp_path, fake)
    out = pub.publish(target_of(LOCAL), "hi", key="k")
    assert slept == [7.0]
    assert len(fake.posts()) == 2 and len(fake.created) == 1
    assert out.native_id.startswith(f"{HOST}/")


def test_long_rate_limit_raises_with_the_wait(tmp_path: Path) -> None:
    fake = FakeInstance()
    fake.faults = [("429", {"X-RateLimit-Reset": "2099-01-01T00:00:00.000Z"})]
    pub, slept = publisher(tmp_path, fake, "max_wait = 60")
    with pytest.raises(PublishRateLimited) as info:
        pub.publish(target_of(LOCAL), "hi", key="k")
    assert info.value.retry_after is not None and info.value.retry_after > 60
    assert slept == [] and fake.created == {} and len(fake.posts()) == 1


def test_lost_answer_is_retried_with_the_same_key_and_posts_once(tmp_path: Path) -> None:
    fake = FakeInstance()
    fake.faults = ["lost", "timeout"]
    pub, slept = publisher(tmp_path, fake)
    out = pub.publish(target_of(LOCAL), "hi", key="reply-9")
    posts = fake.posts()
    assert len(posts) == 3
    assert {p.headers["Idempotency-Key"] for p in posts} == {"reply-9"}
    assert len(fake.created) == 1
    (created,) = fake.created.values()
    assert out.native_id == f"{HOST}/{created['id']}"
    assert slept == [0.5, 1.0]  # backoff between attempts


def test_publishing_again_later_with_the_same_key_returns_the_same_status(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake)
    first = pub.publish(target_of(LOCAL), "hi", key="same")
    second = pub.publish(target_of(LOCAL), "hi", key="same")
    assert first == second and len(fake.created) == 1


def test_server_errors_to_the_end_leave_the_outcome_unknown(tmp_path: Path) -> None:
    fake = FakeInstance()
    fake.faults = [502, 502, 502]
    pub, _ = publisher(tmp_path, fake)
    with pytest.raises(PublishOutcomeUnknown, match="same key"):
        pub.publish(target_of(LOCAL), "hi", key="k")
    assert len(fake.posts()) == 3


def test_unreachable_instance_is_a_plain_error_nothing_sent(tmp_path: Path) -> None:
    calls: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ConnectError("connection refused", request=request)

    settings = settings_for(tmp_path)
    pub = publisher_for(
        "mastodon", settings, transport=httpx.MockTransport(refuse), sleep=lambda s: None
    )
    assert pub is not None
    with pytest.raises(PublishError) as info:
        pub.publish(target_of(LOCAL), "hi", key="k")
    assert not isinstance(info.value, PublishOutcomeUnknown)
    assert "not sent" in str(info.value) and len(calls) == 3


def test_validation_failure_is_not_allowed_with_the_server_message(tmp_path: Path) -> None:
    fake = FakeInstance()
    fake.faults = [422]
    pub, _ = publisher(tmp_path, fake)
    with pytest.raises(PublishNotAllowed, match="Something went wrong"):
        pub.publish(target_of(LOCAL), "hi", key="k")
    with pytest.raises(PublishNotAllowed, match="empty"):
        pub.publish(target_of(LOCAL), "   ", key="k")


def test_dry_run_sends_nothing(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake)
    out = pub.publish(target_of(REMOTE), "hi", key="k", dry_run=True)
    assert out == Published("mastodon", "", None) and out.dry_run
    assert fake.requests == []
    reply = pub.prepare(target_of(LOCAL), "hi", "k")
    request = pub.request(reply, "109000000000000001")
    assert request.headers["Idempotency-Key"] == "k"
    assert json.loads(request.content)["in_reply_to_id"] == "109000000000000001"


def test_target_without_any_link_cannot_be_answered(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake)
    bare = ReplyTarget("mastodon", "other.example/1", "mastodon:other.example/1", None, None, None)
    with pytest.raises(PublishNotAllowed, match="no status uri or url"):
        pub.publish(bare, "hi", key="k", dry_run=True)


def test_publisher_for_networks_and_settings(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    for network in ("twitter", "x", "reddit", "youtube", "tiktok"):
        assert publisher_for(network, settings) is None
    assert isinstance(publisher_for("Mastodon", settings), MastodonPublisher)
    with pytest.raises(ConfigError, match="visibility"):
        publisher_for("mastodon", settings_for(tmp_path, 'visibility = "everyone"'))
    with pytest.raises(ConfigError, match="attempts"):
        publisher_for("mastodon", settings_for(tmp_path, 'attempts = "three"'))


def test_check_verifies_the_token(tmp_path: Path) -> None:
    fake = FakeInstance()
    pub, _ = publisher(tmp_path, fake)
    assert pub.check() == f"brand@{HOST}"
    assert fake.requests[0].url.path == "/api/v1/accounts/verify_credentials"
    bad, _ = publisher(tmp_path, fake, env={"SOCIALLOOP_MASTODON_TOKEN": "nope"})
    with pytest.raises(PublishAuthError):
        bad.check()
