"""Shared request behaviour of the publishers: timeouts, retries that are safe, ``Retry-After``.

A publisher hands :func:`send` a function building its request (the same idempotency key or
record key every time) and gets back the first answer that is neither a 429 nor a 5xx:

* **429**: the request was refused before it did anything, so it is always safe to send again.
  The wait is ``Retry-After`` (seconds or an HTTP date), else the ``X-RateLimit-Reset`` /
  ``RateLimit-Reset`` time, else the backoff. A wait longer than ``max_wait`` (or a 429 on the
  last attempt) raises :class:`PublishRateLimited` carrying the wait instead of sleeping.
* **5xx, timeouts, dropped connections**: the request may have been carried out. Publishers only
  retry these because their requests are idempotent (Mastodon's ``Idempotency-Key``, Bluesky's
  fixed record key). ``recover`` (if given) runs before each such retry: it looks whether the
  first attempt succeeded after all and, if so, its result ends the loop.
* **Connection refused** (``httpx.ConnectError``): nothing reached the server; retried too.

When the attempts run out the error is :class:`PublishOutcomeUnknown` if any attempt may have
reached the server, else a plain :class:`PublishError` (nothing was sent).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from socialloop.errors import (
    ConfigError,
    PublishError,
    PublishOutcomeUnknown,
    PublishRateLimited,
)

T = TypeVar("T")

USER_AGENT = "socialloop (+https://github.com/socialloop)"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard a publisher tries. ``attempts`` counts the first try; ``backoff`` doubles after
    each failed attempt up to ``max_backoff``; ``max_wait`` is the longest ``Retry-After`` that is
    waited out; ``timeout`` applies to every request (connect, read, write)."""

    attempts: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_wait: float = 30.0
    timeout: float = 15.0

    @classmethod
    def from_section(cls, section: Mapping[str, Any], where: str) -> RetryPolicy:
        """Read ``attempts``, ``timeout`` and ``max_wait`` from a settings table."""
        values: dict[str, float] = {}
        for key, kind, low in (
            ("attempts", int, 1),
            ("timeout", float, 0.1),
            ("max_wait", float, 0),
        ):
            value = section.get(key)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"[{where}] {key} must be a number, not {value!r}")
            if kind is int and not isinstance(value, int):
                raise ConfigError(f"[{where}] {key} must be a whole number, not {value!r}")
            if value < low:
                raise ConfigError(f"[{where}] {key} must be at least {low}, not {value!r}")
            values[key] = value
        default = cls()
        return cls(
            attempts=int(values.get("attempts", default.attempts)),
            timeout=float(values.get("timeout", default.timeout)),
            max_wait=float(values.get("max_wait", default.max_wait)),
        )


@dataclass(frozen=True, slots=True)
class Http:
    """What a publisher needs to talk to a network: the transport (tests pass an
    ``httpx.MockTransport``), the retry policy, and the clock and sleep to use."""

    policy: RetryPolicy
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def client(self) -> httpx.Client:
        return httpx.Client(
            transport=self.transport,
            timeout=httpx.Timeout(self.policy.timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
            follow_redirects=False,
        )

    def request(self, method: str, url: str, **kw: Any) -> httpx.Request:
        """A request carrying the default headers and the policy's timeout (a request built
        outside ``Client.build_request`` would otherwise have no timeout at all)."""
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", **kw.pop("headers", {})}
        timeout = httpx.Timeout(self.policy.timeout).as_dict()
        return httpx.Request(method, url, headers=headers, extensions={"timeout": timeout}, **kw)


def retry_after(response: httpx.Response, now: datetime) -> float | None:
    """Seconds to wait before sending again, from the headers of a 429 (None if unsaid)."""
    value = response.headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            return max(0.0, (when - now).total_seconds())
    reset = response.headers.get("X-RateLimit-Reset")  # Mastodon: an ISO 8601 time
    if reset:
        try:
            when = datetime.fromisoformat(reset.strip().replace("Z", "+00:00"))
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            return max(0.0, (when - now).total_seconds())
        except ValueError:
            pass
    reset = response.headers.get("RateLimit-Reset")  # atproto: epoch seconds
    if reset:
        try:
            return max(0.0, float(reset) - now.timestamp())
        except ValueError:
            pass
    return None


def error_text(response: httpx.Response) -> str:
    """The server's own words: ``error`` + ``message`` (atproto), ``error`` +
    ``error_description`` (Mastodon / OAuth), or the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # OpenAI-style {"error": {"message": ...}}
            error = error.get("message")
        detail = body.get("message") or body.get("error_description")
        parts = [str(p) for p in (error, detail) if isinstance(p, str) and p]
        if parts:
            return ": ".join(parts)
    text = response.text.strip()
    return text[:200] if text else f"HTTP {response.status_code}"


def error_name(response: httpx.Response) -> str:
    """The ``error`` field of a JSON error body ('' when there is none)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) else ""


def json_object(response: httpx.Response, network: str, what: str) -> dict[str, Any]:
    """The JSON object of a 200 answer, or :class:`PublishOutcomeUnknown` (the request was
    carried out but its answer cannot be read)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise PublishOutcomeUnknown(
            f"{network}: {what} answered HTTP {response.status_code} with a body that is not "
            "a JSON object",
            network=network,
        )
    return body


def send(
    http: Http,
    client: httpx.Client,
    build: Callable[[], httpx.Request],
    *,
    network: str,
    what: str,
    recover: Callable[[], T | None] | None = None,
) -> httpx.Response | T:
    """Send ``build()`` until an answer that is not 429 / 5xx comes (see the module docs)."""
    policy = http.policy
    maybe_sent = False
    last = ""
    for attempt in range(1, policy.attempts + 1):
        if attempt > 1 and maybe_sent and recover is not None:
            found = recover()
            if found is not None:
                return found
        wait = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
        try:
            response = client.send(build())
        except httpx.ConnectError as exc:  # refused / DNS: nothing reached the server
            last = f"cannot connect ({exc})"
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            maybe_sent = True
            last = f"no answer ({type(exc).__name__}: {exc})"
        else:
            status = response.status_code
            if status == 429:
                asked = retry_after(response, http.now())
                wait = asked if asked is not None else wait
                if attempt == policy.attempts or wait > policy.max_wait:
                    said = f"; it asks to wait {wait:.0f} s" if asked is not None else ""
                    raise PublishRateLimited(
                        f"{network}: {what} was rate limited ({error_text(response)}){said}",
                        network=network,
                        retry_after=asked,
                    )
                http.sleep(wait)
                continue
            if status < 500:
                return response
            maybe_sent = True
            last = f"HTTP {status} ({error_text(response)})"
        if attempt < policy.attempts:
            http.sleep(wait)
    if maybe_sent:
        raise PublishOutcomeUnknown(
            f"{network}: {what} may or may not have gone through after {policy.attempts} "
            f"attempts (last: {last}); sending it again with the same key will not post twice",
            network=network,
        )
    raise PublishError(
        f"{network}: {what} was not sent after {policy.attempts} attempts: {last}",
        network=network,
    )


def require_str(section: Mapping[str, Any], key: str, where: str) -> str | None:
    """An optional string setting (``ConfigError`` when it is there but not a string)."""
    value = section.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"[{where}] {key} must be a string, not {value!r}")
    return value.strip() or None
