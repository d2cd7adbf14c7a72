"""Connectors to open networks (one subpackage each) and the registry that builds them.

``open_connector(name, config, ...)`` validates a source's config against the connector's
spec and returns the connector with its own :class:`HttpClient` (transport, sleep and clock
injectable for tests). See docs/connectors.md.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from socialloop.errors import InvalidValue

from .base import Connector, Page, Spec
from .bluesky import BlueskyConnector
from .hackernews import HackerNewsConnector
from .http import HttpClient, HttpSettings
from .mastodon import MastodonConnector
from .reddit import RedditConnector
from .rss import RssConnector

__all__ = [
    "CONNECTORS",
    "Connector",
    "ConnectorClass",
    "HttpClient",
    "Page",
    "Spec",
    "open_connector",
    "validate_config",
]


class ConnectorClass(Protocol):
    """A connector class: its spec, its HTTP settings and its constructor."""

    name: str
    spec: Spec

    def settings_of(self, config: Mapping[str, Any]) -> HttpSettings: ...

    def __call__(
        self, config: Mapping[str, Any], http: HttpClient, environ: Mapping[str, str]
    ) -> Connector: ...


CONNECTORS: dict[str, Any] = {
    c.name: c
    for c in (
        MastodonConnector,
        BlueskyConnector,
        RedditConnector,
        HackerNewsConnector,
        RssConnector,
    )
}


def _class(name: str) -> Any:
    try:
        return CONNECTORS[name]
    except KeyError:
        raise InvalidValue(
            f"unknown connector {name!r}; available: {', '.join(CONNECTORS)}"
        ) from None


def validate_config(name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """The connector's validated config (``InvalidValue`` naming the bad option)."""
    spec: Spec = _class(name).spec
    return spec.validate(config)


def open_connector(
    name: str,
    config: Mapping[str, Any],
    *,
    source: str | None = None,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    rng: random.Random | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[Connector, HttpClient]:
    """The connector for a source and its HTTP client (close the client when done)."""
    cls = _class(name)
    valid = cls.spec.validate(config)
    http = HttpClient(
        source, cls.settings_of(valid), transport=transport, sleep=sleep, clock=clock, rng=rng
    )
    try:
        connector = cls(valid, http, os.environ if environ is None else environ)
    except BaseException:
        http.close()
        raise
    return connector, http
