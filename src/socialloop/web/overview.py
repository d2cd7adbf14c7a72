"""The overview's per-brand cards (posts, net sentiment, a daily chart), built from the daily
rollups (``web.rollups``) that every ingest and enrichment keeps up to date: a page request
reads a few hundred rows and draws the charts, it never scans posts."""

from __future__ import annotations

from typing import Any

from socialloop.web.render import line_chart
from socialloop.web.rollups import read_overview
from socialloop.workspace import Workspace


def brand_cards(ws: Workspace) -> list[dict[str, Any]]:
    """Per brand: its definition, post count, sentiment summary, daily chart and when its
    numbers were last refreshed."""
    cards: list[dict[str, Any]] = []
    for view in read_overview(ws):
        days = view.days
        chart = line_chart(
            {
                "posts": [float(d.posts) for d in days],
                "negative": [float(d.negative) for d in days],
                "positive": [float(d.positive) for d in days],
            },
            [d.day.strftime("%m-%d") for d in days],
            f"{view.brand.name}: posts per day",
        )
        summary = {"sentiment": view.sentiment, "net_sentiment": view.net_sentiment}
        cards.append(
            {
                **view.brand.to_dict(),
                "posts": view.posts,
                "summary": summary,
                "chart": chart,
                "refreshed_at": view.refreshed_at,
            }
        )
    return cards
