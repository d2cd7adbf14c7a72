"""The one HTTP client every connector uses: timeouts, retries, rate limits, clear errors.

``HttpClient`` wraps an ``httpx.Client``:

* every request has a timeout (connect / read / write / pool) and a ``User-Agent``;
* network errors (connection refused, timeouts, ...) and HTTP 5xx are retried with exponential
  backoff and full jitter (``backoff * 2**attempt``, capped at ``max_backoff``), up to
  ``retries`` times, then raise :class:`ConnectorUnavailable`;
* HTTP 429 waits for ``Retry-After`` (seconds or an HTTP date; the backoff when absent) and
  tries again; a wait beyond ``max_wait`` or too many 429s raise :class:`RateLimited`;
* a per-source rate budget (``per_minute`` requests) spaces requests evenly;
* 401 / 403 raise :class:`BadCredentials`, 404 / 410 :class:`EndpointGone`, other 4xx a plain
  :class:`ConnectorError` naming the status and the start of the body;
* 304 Not Modified is returned to the caller (conditional GET of feeds).

The transport, the sleep function, the clock and the jitter's random source are injectable so
tests run instantly and deterministically (``httpx.MockTransport``).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson

from socialloop import __version__
from socialloop.errors import (
    BadCredentials,
    ConnectorError,
    ConnectorUnavailable,
    EndpointGone,
    PayloadChanged,
    RateLimited,
)

__all__ = ["USER_AGENT", "HttpClient", "HttpSettings", "parse_retry_after"]

USER_AGENT = f"socialloop/{__version__} (+https://github.com/socialloop/socialloop)"
"""Sent with every request (Reddit and others ask for a descriptive one)."""


@dataclass(slots=True)
class HttpSettings:
    """How one source's client behaves; every field can come from the source's config."""

    timeout: float = 20.0
    retries: int = 4
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_wait: float = 300.0  # longest Retry-After honoured before giving up
    per_minute: float | None = None  # rate budget: at most this many requests a minute
    user_agent: str = USER_AGENT
    headers: dict[str, str] = field(default_factory=dict)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date)."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.HTTPError):
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class HttpClient:
    """A rate-limited, retrying HTTP client for one source (see the module docs)."""

    def __init__(
        self,
        source: str | None = None,
        settings: HttpSettings | None = None,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.source = source
        self.settings = settings or HttpSettings()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.requests = 0  # how many requests went out (retries included)
        self.waited = 0.0  # seconds spent waiting (backoff, Retry-After, rate budget)
        self._next_slot = 0.0
        s = self.settings
        self._client = httpx.Client(
            transport=transport,
            timeout=httpx.Timeout(s.timeout),
            headers={"User-Agent": s.user_agent, **s.headers},
            follow_redirects=True,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ----------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        return self.request("GET", url, params=params, headers=headers)

    def get_json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        return self.json(self.get(url, params=params, headers=headers))

    def json(self, response: httpx.Response) -> Any:
        """The response body as JSON, or :class:`PayloadChanged` saying what came instead."""
        try:
            return orjson.loads(response.content)
        except orjson.JSONDecodeError:
            kind = response.headers.get("content-type", "unknown content type")
            raise PayloadChanged(
                f"expected JSON from {response.request.url}, got {kind}: {_snippet(response)!r}",
                source=self.source,
                url=str(response.request.url),
            ) from None

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        json: Any = None,
        auth: tuple[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request, retrying as the module docs say; returns a 2xx or 304 response."""
        s = self.settings
        attempt = 0
        limited = 0
        while True:
            self._take_slot()
            self.requests += 1
            try:
                response = self._client.request(
                    method,
                    url,
                    params=_clean(params),
                    headers=dict(headers) if headers else None,
                    data=dict(data) if data else None,
                    json=json,
                    auth=auth,
                )
            except httpx.TransportError as exc:
                if attempt >= s.retries:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                    raise ConnectorUnavailable(
                        f"{method} {url} {kind} after {attempt + 1} attempts: {exc!r}",
                        source=self.source,
                        url=url,
                    ) from exc
                self._wait(self._backoff(attempt))
                attempt += 1
                continue
            status = response.status_code
            if status < 300 or status == 304:
                return response
            if status == 429:
                limited += 1
                after = parse_retry_after(response.headers.get("retry-after"), self.clock())
                wait = after if after is not None else self._backoff(limited - 1)
                if wait > s.max_wait or limited > s.retries + 1:
                    raise RateLimited(
                        f"rate limited by {response.request.url.host} (HTTP 429, "
                        f"Retry-After {response.headers.get('retry-after', 'not given')}) "
                        f"after {limited} tries",
                        source=self.source,
                        url=str(response.request.url),
                        retry_after=after,
                    )
                self._wait(wait)
                continue
            if status >= 500:
                if attempt >= s.retries:
                    raise ConnectorUnavailable(
                        f"{method} {response.request.url} answered HTTP {status} "
                        f"{attempt + 1} times: {_snippet(response)!r}",
                        source=self.source,
                        url=str(response.request.url),
                    )
                self._wait(self._backoff(attempt))
                attempt += 1
                continue
            raise self._client_error(response)

    def _client_error(self, response: httpx.Response) -> ConnectorError:
        status = response.status_code
        where = str(response.request.url)
        body = _snippet(response)
        if status in (401, 403):
            return BadCredentials(
                f"HTTP {status} from {where}: the credentials are missing, wrong or lack the "
                f"scope this endpoint needs ({body!r})",
                source=self.source,
                url=where,
            )
        if status in (404, 410):
            return EndpointGone(
                f"HTTP {status} from {where}: no such endpoint, account, tag or feed ({body!r})",
                source=self.source,
                url=where,
            )
        return ConnectorError(
            f"HTTP {status} from {where}: {body!r}", source=self.source, url=where
        )

    # -- waiting -----------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        s = self.settings
        ceiling = min(s.max_backoff, s.backoff * (2**attempt))
        return self.rng.uniform(ceiling / 2, ceiling)

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)

    def _take_slot(self) -> None:
        """Space requests to the per-minute budget."""
        per_minute = self.settings.per_minute
        if not per_minute:
            return
        now = self.clock()
        if self._next_slot > now:
            self._wait(self._next_slot - now)
            now = self._next_slot
        self._next_slot = now + 60.0 / per_minute


def _clean(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Query parameters without the ``None`` values."""
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}


def http_date(ts: float) -> str:
    """An HTTP date (for tests and ``If-Modified-Since``)."""
    return email.utils.format_datetime(datetime.fromtimestamp(ts, UTC), usegmt=True)
