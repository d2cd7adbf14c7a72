"""The report: JSON with every section, one self-contained offline HTML file in which hostile
post text and author names render inert, the CLI, and a full build on simulated data enriched
by the real LEARN pipeline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from socialloop.adapt.report import SECTIONS, build_report
from socialloop.adapt.report_html import render_html
from socialloop.adapt.spikes import detect_spikes
from socialloop.adapt.svg import bar_chart, line_chart
from socialloop.cli.main import cli
from socialloop.learn.pipeline import Pipeline
from socialloop.learn.steps import build_steps
from socialloop.learn.topics import build_topics
from socialloop.listen.importer import import_posts
from socialloop.simulate import default_market, simulate
from socialloop.workspace import Workspace
from tests._adapt_data import add_topics, at, label, load
from tests.conftest import make_post

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def _hostile(ws: Workspace) -> None:
    ws.add_brand(
        "Acme",
        "acme",
        accounts=["acme"],
        assumptions=[f"Customers care most about {SCRIPT}"],
        values=f"Honest {IMG} coffee.",
    )
    ws.add_brand("Rival", "rival", competitor=True)
    bad = make_post(
        "x1",
        f"acme how do I {SCRIPT}?",
        handle="mallory",
        when=at(3),
        likes=9,
        url="javascript:alert(1)",
    )
    assert bad.author is not None
    bad.author.name = IMG
    items = (
        [bad]
        + [
            make_post(f"p{i}", f"acme coffee {i}", when=at(1 + i % 3), handle=f"u{i}")
            for i in range(6)
        ]
        + [make_post("r1", "rival rocks", when=at(2))]
    )
    items.append(
        make_post("x2", "acme where?", when=at(3), url="https://social.example/p/2?a=1&b=2")
    )
    pks = load(ws, items)
    rows = [("x1", "intent", "question"), ("x1", "sentiment", "negative"), ("x1", "topic", "1")]
    rows += [("x2", "intent", "question"), ("x2", "topic", "1")]
    rows += [(f"p{i}", "sentiment", "positive") for i in range(6)]
    label(ws, pks, rows)
    add_topics(ws, {1: "coffee taste script"})


def test_html_is_self_contained_and_hostile_text_inert(ws: Workspace) -> None:
    _hostile(ws)
    html = render_html(build_report(ws))
    assert SCRIPT not in html and "<script" not in html.lower()
    assert IMG not in html and "<img" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the question, in the roadmap
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the author's name
    assert "javascript:" not in html  # a non-http post url is not linked
    # nothing is fetched: no script, stylesheet, image, font or frame; the only links are
    # anchors to the posts themselves (http(s) only, escaped)
    assert not re.search(r"<[a-z][^>]*\ssrc\s*=", html, re.I)
    assert "<link" not in html.lower() and "@import" not in html and "url(" not in html
    assert "<iframe" not in html.lower() and "<object" not in html.lower()
    hrefs = re.findall(r"<(\w+)[^>]*\shref=\"([^\"]*)\"", html)
    assert set(hrefs) == {("a", "https://social.example/p/2?a=1&amp;b=2")}
    assert 'rel="noopener noreferrer nofollow"' in html
    assert html.count("<svg") >= 3 and "default-src 'none'" in html


def test_report_json_has_every_section(ws: Workspace) -> None:
    _hostile(ws)
    doc = orjson.loads(orjson.dumps(build_report(ws).to_dict()))
    assert set(SECTIONS) <= set(doc)
    assert doc["brand"] == "Acme"
    assert [b["brand"] for b in doc["share_of_voice"]["brands"]] == ["Acme", "Rival"]
    assert doc["roadmap"]["items"][0]["examples"][0]["text"] == f"acme how do I {SCRIPT}?"
    assert doc["roadmap"]["items"][0]["examples"][0]["author_name"] == IMG
    assert doc["perception"]["assumptions"][0]["assumption"].endswith(SCRIPT)


def test_cli_report(ws: Workspace, tmp_path: Path) -> None:
    _hostile(ws)
    root = str(ws.settings.root)
    runner = CliRunner()
    res = runner.invoke(cli, ["report", "--json", "--brand", "rival", "-w", root])
    assert res.exit_code == 0, res.output
    doc = orjson.loads(res.output)
    assert doc["brand"] == "Rival" and doc["summary"]["posts"] == 1
    out = tmp_path / "r.html"
    res = runner.invoke(
        cli,
        [
            "report",
            "--html",
            str(out),
            "--since",
            "2026-05-02",
            "--until",
            "2026-05-02",
            "-w",
            root,
        ],
    )
    assert res.exit_code == 0, res.output
    assert out.read_text().startswith("<!doctype html>")
    doc = orjson.loads(
        runner.invoke(
            cli, ["report", "--json", "--since", "2026-05-02", "--until", "2026-05-02", "-w", root]
        ).output
    )
    assert (
        doc["since"] == "2026-05-02T00:00:00+00:00" and doc["until"] == "2026-05-03T00:00:00+00:00"
    )
    assert doc["summary"]["posts"] == 2  # p1 and p4 on May 2nd
    res = runner.invoke(cli, ["report", "-w", root])
    assert res.exit_code == 2 and "exactly one of --html FILE or --json" in res.output
    res = runner.invoke(cli, ["report", "--json", "--brand", "nope", "-w", root])
    assert res.exit_code == 1 and "no brand named 'nope'" in res.output
    res = runner.invoke(cli, ["sov", "--json", "-w", root])
    assert [b["mentions"] for b in orjson.loads(res.output)["brands"]] == [8, 1]
    res = runner.invoke(cli, ["spikes", "--json", "--all", "-w", root])
    assert orjson.loads(res.output)["rule"].startswith("last 24 h")


def test_svg_escapes_labels() -> None:
    svg = bar_chart([(SCRIPT, 1.0)], title=IMG)
    assert "<script" not in svg and "&lt;script&gt;" in svg and "&lt;img" in svg
    line = line_chart({IMG: [1.0, 2.0]}, ["a", SCRIPT])
    assert "<img" not in line and "<script" not in line and "<polyline" in line
    assert "no data" in line_chart({}, [])


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path_factory.mktemp("sim") / "ws")
    market = default_market()
    for spec in market.brands:
        b = spec.to_brand()
        ws.add_brand(
            b.name,
            b.query,
            competitor=b.competitor,
            values=b.values,
            assumptions=b.assumptions,
            accounts=b.accounts,
        )
    import_posts(ws, simulate(2500, days=14, seed=3, market=market))
    Pipeline(build_steps(ws.settings, None, ws.store)).run(ws.store)
    assert build_topics(ws.store, k=8, min_posts=100)
    try:
        yield ws
    finally:
        ws.close()


def test_report_builds_every_section_on_simulated_data(
    simulated: Workspace, tmp_path: Path
) -> None:
    ws = simulated
    rep = build_report(ws)
    own = next(b for b in default_market().brands if not b.competitor)
    assert rep.brand == own.name
    assert len(rep.share_of_voice.brands) == len(default_market().brands)
    assert all(v.mentions > 0 for v in rep.share_of_voice.brands)
    assert sum(v.mentions_share for v in rep.share_of_voice.brands) == pytest.approx(1.0, abs=1e-3)
    assert all(len(ts.buckets) >= 10 for ts in rep.timeseries)
    assert rep.summary["posts"] > 0 and sum(rep.summary["sentiment"].values()) > 0
    assert rep.top_topics and rep.negative_drivers.negative_total > 0
    assert rep.perception is not None and len(rep.perception.assumptions) == len(own.assumptions)
    assert rep.perception.headline
    assert rep.alignment is not None and rep.alignment.topics
    assert rep.roadmap.items and rep.roadmap.unanswered > 0
    assert rep.touchpoints and {t.network for t in rep.touchpoints} >= {"twitter", "reddit"}
    assert rep.rox is not None and rep.rox.engaged_authors > 0
    # every volume series' observed count is the brand's posts in the window (a cross-check of
    # the hourly GROUP BY against a plain count)
    judged = [s for s in detect_spikes(ws, only_spikes=False) if s.metric == "volume"]
    assert len(judged) == len(default_market().brands)
    for s in judged:
        assert len(s.baseline) == 7 and s.window_end - s.window_start == timedelta(hours=24)
        assert s.observed == ws.count(None, brand=s.brand, since=s.window_start, until=s.window_end)
    html = render_html(rep)
    assert "<script" not in html.lower() and html.count("<section>") == len(SECTIONS)
    doc = orjson.loads(orjson.dumps(rep.to_dict()))
    assert set(SECTIONS) <= set(doc)


def test_a_single_day_chart_still_shows_its_point() -> None:
    from socialloop.adapt.svg import line_chart

    svg = line_chart({"<b>Acme</b>": [4.0]}, ["2026-05-01"])
    assert svg.count("<circle") == 1 and "&lt;b&gt;Acme&lt;/b&gt;" in svg and "<b>" not in svg
