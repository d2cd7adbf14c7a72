"""The shared HTTP client: retries with backoff and jitter on 5xx and network errors, 429 and
Retry-After (seconds and HTTP date), the rate budget, clear errors per status, User-Agent."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from socialloop.errors import (
    BadCredentials,
    ConnectorError,
    ConnectorUnavailable,
    EndpointGone,
    PayloadChanged,
    RateLimited,
)
from socialloop.listen.connectors.http import (
    HttpClient,
    HttpSettings,
    http_date,
    parse_retry_after,
)

URL = "https://api.example/x"


class Clock:
    """A fake clock that sleeping advances."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(
    responses: list[httpx.Response | Exception] | Callable[[httpx.Request], httpx.Response],
    clock: Clock,
    **settings: object,
) -> tuple[HttpClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if callable(responses):
            return responses(request)
        item = responses.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    http = HttpClient(
        "src",
        HttpSettings(**settings),  # type: ignore[arg-type]
        transport=httpx.MockTransport(handler),
        sleep=clock.sleep,
        clock=clock,
        rng=random.Random(7),
    )
    return http, seen


def ok(body: bytes = b"[]") -> httpx.Response:
    return httpx.Response(200, content=body, headers={"content-type": "application/json"})


def test_429_with_retry_after_seconds_waits_that_long() -> None:
    clock = Clock()
    http, seen = client([httpx.Response(429, headers={"Retry-After": "7"}), ok()], clock)
    assert http.get_json(URL) == []
    assert clock.sleeps == [7.0] and len(seen) == 2


def test_429_with_retry_after_http_date() -> None:
    clock = Clock()
    when = http_date(clock.now + 12)
    http, _ = client([httpx.Response(429, headers={"Retry-After": when}), ok()], clock)
    http.get(URL)
    assert clock.sleeps == [pytest.approx(12.0, abs=1.0)]


def test_429_asking_too_long_or_forever_raises_rate_limited() -> None:
    clock = Clock()
    http, _ = client([httpx.Response(429, headers={"Retry-After": "3600"})], clock, max_wait=300)
    with pytest.raises(RateLimited) as info:
        http.get(URL)
    assert info.value.retry_after == 3600 and "429" in str(info.value)
    assert clock.sleeps == []

    http, seen = client(
        lambda r: httpx.Response(429, headers={"Retry-After": "1"}), Clock(), retries=2
    )
    with pytest.raises(RateLimited, match="after 4 tries"):
        http.get(URL)
    assert len(seen) == 4


def test_5xx_then_success_backs_off_exponentially_with_jitter() -> None:
    clock = Clock()
    http, seen = client(
        [httpx.Response(503), httpx.Response(502), httpx.Response(500), ok(b'{"a": 1}')],
        clock,
        backoff=1.0,
    )
    assert http.get_json(URL) == {"a": 1}
    assert len(seen) == 4
    # full jitter within [ceiling / 2, ceiling], ceiling = backoff * 2**attempt
    for wait, ceiling in zip(clock.sleeps, (1, 2, 4), strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_5xx_every_time_raises_unavailable_after_the_retries() -> None:
    http, seen = client(lambda r: httpx.Response(500, text="boom"), Clock(), retries=3)
    with pytest.raises(ConnectorUnavailable, match="HTTP 500 4 times"):
        http.get(URL)
    assert len(seen) == 4


def test_timeouts_and_network_errors_are_retried() -> None:
    clock = Clock()
    http, seen = client(
        [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), ok()], clock, retries=3
    )
    http.get(URL)
    assert len(seen) == 3 and len(clock.sleeps) == 2

    def always(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    http, seen = client(always, Clock(), retries=2)
    with pytest.raises(ConnectorUnavailable, match="timed out after 3 attempts"):
        http.get(URL)


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, BadCredentials), (403, BadCredentials), (404, EndpointGone), (410, EndpointGone)],
)
def test_client_errors_map_to_clear_classes(status: int, error: type[Exception]) -> None:
    http, seen = client([httpx.Response(status, text='{"error":"nope"}')], Clock())
    with pytest.raises(error) as info:
        http.get(URL)
    assert f"HTTP {status}" in str(info.value) and "source 'src'" in str(info.value)
    assert len(seen) == 1  # never retried


def test_other_4xx_and_non_json() -> None:
    http, _ = client([httpx.Response(400, text="bad param q")], Clock())
    with pytest.raises(ConnectorError, match=r"HTTP 400.*bad param q"):
        http.get(URL)
    http, _ = client([httpx.Response(200, text="<html>hi</html>",
                                     headers={"content-type": "text/html"})], Clock())  # fmt: skip
    with pytest.raises(PayloadChanged, match=r"expected JSON.*text/html"):
        http.get_json(URL)


def test_rate_budget_spaces_requests() -> None:
    clock = Clock()
    http, _ = client(lambda r: ok(), clock, per_minute=30)
    for _ in range(4):
        http.get(URL)
    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert http.waited == 6.0 and http.requests == 4


def test_user_agent_and_304_pass_through() -> None:
    http, seen = client([httpx.Response(304)], Clock(), user_agent="test-agent/1")
    assert http.get(URL, params={"a": 1, "b": None}).status_code == 304
    assert seen[0].headers["user-agent"] == "test-agent/1"
    assert seen[0].url.params.get("a") == "1" and "b" not in seen[0].url.params


def test_parse_retry_after() -> None:
    assert parse_retry_after("5", 0) == 5.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == 60.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 500.0) == 0.0
    assert parse_retry_after("soon", 0) is None and parse_retry_after(None, 0) is None
