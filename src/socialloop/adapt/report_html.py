"""The report as ONE self-contained HTML file: inline CSS, charts as inline SVG (``adapt.svg``),
no script, no external stylesheet, font or image, so it opens offline and can be mailed.

Post text, author names, brand names, topic labels, assumptions and values are hostile input:
every one goes through ``html.escape``; links to posts are written only for http(s) URLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import urlsplit

from socialloop.adapt.report import Report
from socialloop.adapt.scope import PostRef
from socialloop.adapt.svg import bar_chart, line_chart

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#111827;
background:#f9fafb}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:2px solid
#e5e7eb;padding-bottom:4px}h3{font-size:15px;margin:16px 0 6px}
.meta{color:#6b7280}.headline{background:#fef3c7;border-left:4px solid #d97706;padding:8px 12px}
table{border-collapse:collapse;width:100%;margin:8px 0;background:#fff}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.post{background:#fff;border:1px solid #e5e7eb;border-radius:6px;padding:6px 10px;margin:6px 0}
.post .who{color:#374151;font-size:12px}.post .text{white-space:pre-wrap;overflow-wrap:anywhere}
.ok{color:#15803d}.bad{color:#b91c1c}.muted{color:#6b7280}
svg.chart{background:#fff;border:1px solid #e5e7eb;max-width:100%;height:auto}
"""


def e(value: object) -> str:
    """Escaped text for HTML (quotes too)."""
    return escape("" if value is None else str(value), quote=True)


def pct(x: float) -> str:
    return f"{x:.1%}"


def when(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC") if dt else "—"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], numeric: set[int]) -> str:
    """A table of escaped cells; column indexes in ``numeric`` are right-aligned."""
    head = "".join(
        f"<th{' class=n' if i in numeric else ''}>{e(h)}</th>" for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=n' if i in numeric else ''}>{e(c)}</td>" for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def post_html(p: PostRef) -> str:
    who = f"@{p.author}" if p.author else "(unknown author)"
    name = f" ({p.author_name})" if p.author_name else ""
    link = ""
    if p.url and urlsplit(p.url).scheme in ("http", "https"):
        link = f' · <a href="{e(p.url)}" rel="noopener noreferrer nofollow">open</a>'
    return (
        f'<div class="post"><div class="who">{e(who)}{e(name)} · {e(p.network)} · '
        f"{e(when(p.created_at))} · {p.engagement:,} engagements{link}</div>"
        f'<div class="text">{e(p.text)}</div></div>'
    )


def posts_html(items: Sequence[PostRef]) -> str:
    return "".join(post_html(p) for p in items)


def _summary(r: Report) -> str:
    s = r.summary
    sent = s["sentiment"]
    return table(
        ["posts", "engagement", "positive", "neutral", "negative", "net sentiment"],
        [
            [
                f"{s['posts']:,}",
                f"{s['engagement']:,}",
                sent["positive"],
                sent["neutral"],
                sent["negative"],
                f"{s['net_sentiment']:+.2f}",
            ]
        ],
        {0, 1, 2, 3, 4, 5},
    )


def _sov(r: Report) -> str:
    v = r.share_of_voice.brands
    rows = [
        [
            b.brand + (" (competitor)" if b.competitor else ""),
            f"{b.mentions:,}",
            pct(b.mentions_share),
            f"{b.engagement:,}",
            pct(b.engagement_share),
            b.positive,
            pct(b.positive_share),
            pct(b.positive_rate),
        ]
        for b in v
    ]
    return bar_chart(
        [(b.brand, b.mentions_share) for b in v], title="share of voice", percent=True
    ) + table(
        ["brand", "mentions", "share", "engagement", "share", "positive", "share", "positive rate"],
        rows,
        {1, 2, 3, 4, 5, 6, 7},
    )


def _timeseries(r: Report) -> str:
    starts = sorted({b.start for ts in r.timeseries for b in ts.buckets})
    if not starts:
        return '<p class="muted">No posts in the period.</p>'
    fmt = "%Y-%m-%d" if (r.timeseries and r.timeseries[0].unit == "day") else "%m-%d %H:00"
    labels = [s.strftime(fmt) for s in starts]
    volume = {}
    for ts in r.timeseries:
        by = {b.start: b.posts for b in ts.buckets}
        volume[ts.brand or "all"] = [float(by.get(s, 0)) for s in starts]
    out = line_chart(volume, labels, title="posts per brand")
    focus = next((ts for ts in r.timeseries if ts.brand == r.brand), None)
    if focus is not None and focus.buckets:
        buckets = {b.start: b for b in focus.buckets}
        sent = {
            k: [float(buckets[s].sentiment[k]) if s in buckets else 0.0 for s in starts]
            for k in ("positive", "negative")
        }
        out += f"<h3>Sentiment toward {e(r.brand)}</h3>" + line_chart(
            sent, labels, title="sentiment over time"
        )
        emotions: dict[str, int] = {}
        for b in focus.buckets:
            for k, n in b.emotions.items():
                emotions[k] = emotions.get(k, 0) + n
        if emotions:
            top = sorted(emotions.items(), key=lambda kv: -kv[1])[:8]
            out += "<h3>Emotions</h3>" + bar_chart(
                [(k, float(n)) for k, n in top], title="emotions"
            )
    return out


def _topics(r: Report) -> str:
    if not r.top_topics:
        return '<p class="muted">No topics: run <code>socialloop topics --build</code>.</p>'
    return bar_chart(
        [(t.label, t.share) for t in r.top_topics], title="topics", percent=True
    ) + table(
        ["topic", "posts", "share", "negative share", "engagement"],
        [
            [t.label, t.posts, pct(t.share), pct(t.negative_share), f"{t.engagement:,}"]
            for t in r.top_topics
        ],
        {1, 2, 3, 4},
    )


def _drivers(r: Report) -> str:
    d = r.negative_drivers
    head = (
        f'<p class="meta">{d.negative_total:,} negative of {d.total:,} labelled posts; lift = '
        "share among negative posts / share among all posts.</p>"
    )
    rows = [
        [x.kind, x.label, x.negative, x.count, pct(x.negative_rate), f"{x.lift:.2f}"]
        for x in d.topics + d.terms
    ]
    if not rows:
        return head + '<p class="muted">Nothing is over-represented in negative posts.</p>'
    return head + table(
        ["kind", "topic / term", "negative", "all", "negative rate", "lift"], rows, {2, 3, 4, 5}
    )


def _spikes(r: Report) -> str:
    out = f'<p class="meta">Rule: {e(r.spike_rule)}.</p>'
    if not r.spikes:
        return out + '<p class="ok">No spike in the last window.</p>'
    for s in r.spikes:
        out += (
            f"<h3>{e(s.brand)}: {e(s.label)} — {s.observed:,} posts (z {s.z:.1f})</h3>"
            f"<p>{e(s.explanation)}</p>"
            + table(
                [
                    "window",
                    "observed",
                    "baseline mean",
                    "sigma used",
                    "threshold",
                    "baseline windows",
                ],
                [
                    [
                        f"{when(s.window_start)} – {when(s.window_end)}",
                        s.observed,
                        s.mean,
                        s.sigma_used,
                        s.threshold,
                        ", ".join(str(x) for x in s.baseline),
                    ]
                ],
                {1, 2, 3, 4},
            )
            + posts_html(s.posts)
        )
    return out


def _perception(r: Report) -> str:
    p = r.perception
    if p is None:
        return '<p class="muted">No brand.</p>'
    out = f'<p class="headline">{e(p.headline)}</p>'
    rows = [
        [
            c.assumption,
            c.topic.label if c.topic else "—",
            c.rank or "—",
            pct(c.share),
            pct(c.negative_share),
            ", ".join(f"{k} {v}" for k, v in c.intents.items()) or "—",
            pct(c.keyword_share),
            c.verdict,
        ]
        for c in p.assumptions
    ]
    out += table(
        [
            "assumption",
            "closest topic",
            "rank",
            "share",
            "negative",
            "intents",
            "posts using its words",
            "verdict",
        ],
        rows,
        {2, 3, 4, 6},
    )
    for c in p.assumptions:
        out += f"<h3>{e(c.assumption)}</h3><p>{e(c.finding)}</p>" + posts_html(c.evidence)
    if p.blind_spots:
        out += (
            "<h3>What customers discuss that no assumption covers</h3>"
            + table(
                ["topic", "posts", "share"],
                [[t.label, t.posts, pct(t.share)] for t in p.blind_spots],
                {1, 2},
            )
            + posts_html(p.top_evidence)
        )
    return out


def _alignment(r: Report) -> str:
    a = r.alignment
    if a is None:
        return '<p class="muted">No brand.</p>'
    out = f'<p class="headline">{e(a.headline)}</p>'
    if a.topics:
        out += table(
            ["topic", "closest value", "closeness", "positive", "negative", "status"],
            [
                [
                    t.topic.label,
                    t.value,
                    f"{t.score:.2f}",
                    pct(t.positive_share),
                    pct(t.negative_share),
                    t.status,
                ]
                for t in a.topics
            ],
            {2, 3, 4},
        )
        for t in a.topics:
            if t.evidence:
                out += f"<h3>Contradicting: {e(t.topic.label)}</h3>" + posts_html(t.evidence)
    return out


def _roadmap(r: Report) -> str:
    m = r.roadmap
    out = f'<p class="meta">{m.unanswered:,} of {m.needs:,} questions and needs got no reply.</p>'
    for i, item in enumerate(m.items, 1):
        out += (
            f"<h3>{i}. {e(item.topic)} · {e(item.stage)} — {item.unanswered} unanswered of "
            f"{item.needs} (demand {item.demand:.1f})</h3>" + posts_html(item.examples)
        )
    return out


def _touchpoints(r: Report) -> str:
    if not r.touchpoints:
        return '<p class="muted">No posts.</p>'
    return table(
        [
            "stage",
            "network",
            "posts",
            "net sentiment",
            "need an answer",
            "unanswered",
            "unanswered share",
        ],
        [
            [
                t.stage,
                t.network,
                t.posts,
                f"{t.net_sentiment:+.2f}",
                t.needs_answer,
                t.unanswered,
                pct(t.unanswered_share),
            ]
            for t in r.touchpoints
        ],
        {2, 3, 4, 5, 6},
    )


def _rox(r: Report) -> str:
    x = r.rox
    if x is None:
        return '<p class="muted">No brand.</p>'
    g = [("engaged", x.engaged), ("comparable", x.comparable)]
    out = table(
        ["authors", "n", "sentiment before", "after", "advocacy before", "after"],
        [
            [
                name,
                c.authors,
                c.sentiment_before,
                c.sentiment_after,
                pct(c.advocacy_before),
                pct(c.advocacy_after),
            ]
            for name, c in g
        ],
        {1, 2, 3, 4, 5},
    )
    did_s = "—" if x.did_sentiment is None else f"{x.did_sentiment:+.2f}"
    did_a = "—" if x.did_advocacy is None else f"{x.did_advocacy:+.1%}"
    cls = "ok" if x.reliable else "bad"
    out += (
        f"<p>Difference in differences (matched: {x.matched_engaged} engaged, "
        f"{x.matched_comparable} comparable): sentiment {e(did_s)}, advocacy {e(did_a)}.</p>"
        f'<p class="{cls}">{e(x.note)}</p>'
    )
    return out


def _alerts(r: Report) -> str:
    if not r.alerts:
        return '<p class="muted">No alerts recorded.</p>'
    return table(
        ["when", "brand", "metric", "observed", "threshold", "status"],
        [
            [when(a.created_at), a.brand, a.metric, a.observed, a.threshold, a.status]
            for a in r.alerts
        ],
        {3, 4},
    )


def render_html(report: Report) -> str:
    """The whole report as one HTML document (see the module doc)."""
    period = f"{when(report.since)} – {when(report.until)}"
    sections: list[tuple[str, str]] = [
        ("Summary", _summary(report)),
        ("Share of voice", _sov(report)),
        ("Volume, sentiment and emotion over time", _timeseries(report)),
        ("Top topics", _topics(report)),
        ("What drives negative sentiment", _drivers(report)),
        ("Spikes", _spikes(report)),
        ("Perception gap", _perception(report)),
        ("Brand alignment", _alignment(report)),
        ("Content roadmap: unanswered questions and needs", _roadmap(report)),
        ("Touch points: journey stage × channel", _touchpoints(report)),
        ("Return on experience", _rox(report)),
        ("Alerts", _alerts(report)),
    ]
    body = "".join(f"<section><h2>{e(t)}</h2>{html}</section>" for t, html in sections)
    title = f"socialloop report: {report.brand or report.workspace}"
    head: dict[str, Any] = {
        "workspace": report.workspace,
        "brand": report.brand or "all brands",
        "period": period,
        "generated": when(report.generated_at),
    }
    meta = " · ".join(f"{k}: {e(v)}" for k, v in head.items())
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        f"<title>{e(title)}</title><style>{CSS}</style></head><body><main>"
        f'<h1>{e(title)}</h1><p class="meta">{meta}</p>{body}'
        f'<p class="muted">socialloop {e(report.version)}</p></main></body></html>\n'
    )
