"""The simulator: reproducible, exact, realistic enough for the demo and the later features."""

from __future__ import annotations

import gzip
import itertools
import random
import re
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from socialloop.models import Post, interactions_of
from socialloop.simulate import (
    DEFAULT_END,
    LANGUAGES,
    NETWORKS,
    CommunitySpec,
    Market,
    default_market,
    simulate,
    write_jsonl,
)
from socialloop.simulate.generator import Simulation
from socialloop.simulate.lang import CATEGORIES, packs
from socialloop.simulate.text import F_B, compile_template, typo
from socialloop.textutil import extract_hashtags, extract_links, extract_mentions, tokens

N = 40_000
SEED = 11


@pytest.fixture(scope="module")
def posts() -> list[Post]:
    return list(simulate(N, seed=SEED))


@pytest.fixture(scope="module")
def market() -> Market:
    return default_market()


def _sim(post: Post) -> dict[str, object]:
    assert post.raw is not None
    label = post.raw["simulated"]
    assert isinstance(label, dict)
    return label


def _followers(post: Post) -> int:
    assert post.author is not None
    return post.author.followers or 0


def _kind(post: Post) -> str:
    return str(_sim(post)["kind"])


def _brands(post: Post) -> list[str]:
    names = _sim(post)["brands"]
    assert isinstance(names, list)
    return [str(n) for n in names]


# -- reproducibility and size ----------------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz", tmp_path / "c.jsonl.gz"
    assert write_jsonl(simulate(3000, seed=5), a) == 3000
    assert write_jsonl(simulate(3000, seed=5), b) == 3000
    assert write_jsonl(simulate(3000, seed=6), c) == 3000
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    plain = tmp_path / "a.jsonl"
    write_jsonl(simulate(3000, seed=5), plain)
    assert gzip.decompress(a.read_bytes()) == plain.read_bytes()


def test_different_seed_gives_different_posts() -> None:
    one = [p.text for p in simulate(500, seed=1)]
    two = [p.text for p in simulate(500, seed=2)]
    assert one != two


@pytest.mark.parametrize("n", [0, 1, 7, 2500])
def test_exactly_n_posts(n: int) -> None:
    assert sum(1 for _ in simulate(n, seed=3)) == n


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        simulate(-1)
    with pytest.raises(ValueError):
        simulate(10, days=0)


def test_custom_market_and_validation(market: Market) -> None:
    one = Market(
        name="one brand",
        brands=market.brands[:1],
        communities=[CommunitySpec("fans", "twitter", "en", 1.0, ("coffee",))],
    )
    sample = list(simulate(1000, seed=1, days=2, market=one))
    assert len(sample) == 1000
    assert {p.network for p in sample} == {"twitter"} and {p.lang for p in sample} == {"en"}
    swedish = [CommunitySpec("kaffe", "twitter", "sv", 1.0)]
    with pytest.raises(ValueError, match="sv"):
        simulate(5, market=Market("x", market.brands, swedish))
    with pytest.raises(ValueError, match="Brewhaven"):
        simulate(5, market=Market("x", market.brands[1:], market.communities, crises=market.crises))


def test_jsonl_lines_are_post_dicts(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    sample = list(simulate(200, seed=4))
    assert write_jsonl(sample, path, include_raw=True) == 200
    lines = path.read_bytes().splitlines()
    assert len(lines) == 200
    first = orjson.loads(lines[0])
    expected = sample[0].to_dict()
    assert {k: first[k] for k in expected} == expected
    assert first["raw"]["simulated"]["kind"] == "post"
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed


def test_write_to_stdout(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert write_jsonl(simulate(5, seed=1), "-") == 5
    assert len(capsysbinary.readouterr().out.splitlines()) == 5


# -- time ------------------------------------------------------------------------------------


def test_default_period_ends_at_default_end(posts: list[Post]) -> None:
    start = DEFAULT_END - timedelta(days=30)
    assert all(start <= p.created_at < DEFAULT_END for p in posts)
    assert posts[0].created_at < start + timedelta(days=1)
    assert posts[-1].created_at > DEFAULT_END - timedelta(days=1)
    assert all(a.created_at <= b.created_at for a, b in itertools.pairwise(posts))


def test_custom_start_and_days() -> None:
    start = datetime(2025, 3, 1, 12, 0)  # naive: UTC
    sample = list(simulate(2000, days=3, seed=2, start=start))
    low, high = start.replace(tzinfo=UTC), start.replace(tzinfo=UTC) + timedelta(days=3)
    assert all(low <= p.created_at < high for p in sample)
    assert all(p.created_at.tzinfo is not None for p in sample)


def test_daily_rhythm(posts: list[Post]) -> None:
    by_hour = Counter(p.created_at.hour for p in posts)
    night = sum(by_hour[h] for h in (2, 3, 4))
    day = sum(by_hour[h] for h in (9, 12, 19))
    assert day > 5 * night


# -- mix ---------------------------------------------------------------------------------------


def test_languages_and_networks(posts: list[Post]) -> None:
    langs = Counter(p.lang for p in posts)
    assert set(langs) == set(LANGUAGES)
    assert 0.45 < langs["en"] / N < 0.65
    for lang in ("es", "fr", "de", "fi"):
        assert langs[lang] / N > 0.05, lang
    nets = Counter(p.network for p in posts)
    assert set(nets) == set(NETWORKS)
    assert all(nets[net] / N > 0.08 for net in NETWORKS)


def test_post_kinds_and_intents(posts: list[Post]) -> None:
    kinds = Counter(_kind(p) for p in posts)
    assert 0.3 < kinds["reply"] / N < 0.6
    assert kinds["reshare"] > 0.03 * N
    assert kinds["quote"] > 0.005 * N
    assert kinds["brand_post"] > 0 and kinds["brand_reply"] > 0
    intents = Counter(str(_sim(p)["intent"]) for p in posts)
    for intent in (
        "question",
        "complaint",
        "praise",
        "purchase_intent",
        "recommendation_request",
        "support_request",
        "chitchat",
    ):
        assert intents[intent] > 0.005 * N, intent


def test_ids_are_unique_and_urls_plausible(posts: list[Post]) -> None:
    assert len({p.id for p in posts}) == N
    prefixes = {
        "twitter": "https://x.com/",
        "bluesky": "https://bsky.app/profile/",
        "reddit": "https://www.reddit.com/r/",
        "mastodon": "https://",
    }
    for p in posts[:5000]:
        assert p.url is not None and p.url.startswith(prefixes[p.network])
        assert p.author is not None
        if p.network in ("twitter", "mastodon", "bluesky"):
            assert p.url.endswith(p.native_id)


# -- text and entities -----------------------------------------------------------------------


def test_entities_equal_textutil_extraction(posts: list[Post]) -> None:
    for p in posts:
        assert p.hashtags == extract_hashtags(p.text), p.text
        assert p.mentions == extract_mentions(p.text), p.text
        assert p.links == extract_links(p.text), p.text
    assert sum(1 for p in posts if p.hashtags) > 0.1 * N
    assert sum(1 for p in posts if p.mentions) > 0.2 * N
    assert sum(1 for p in posts if p.links) > 0.01 * N


def test_emoji_and_links_to_sites(posts: list[Post]) -> None:
    assert sum(1 for p in posts if "☕" in p.text) > 0.01 * N
    hosts = Counter(link.split("/")[2] for p in posts for link in p.links)
    assert "www.brewhaven.example" in hosts
    assert "www.cuppingnotes.example" in hosts  # reviews
    assert "news.northwire.example" in hosts  # the crisis in the news
    assert "help.brewhaven.example" in hosts  # brand replies


def test_language_packs_are_complete_and_clean() -> None:
    brand_categories = ("question", "complaint", "praise", "purchase", "reco_brand", "support")
    for code, pack in packs().items():
        for cat in CATEGORIES:
            templates = pack.templates[cat]
            assert templates, (code, cat)
            for template in templates:
                _, flags = compile_template(template)  # raises on entities / unknown slots
                if cat in brand_categories:
                    assert flags & F_B, (code, cat, template)
        for topic_templates in pack.crisis.values():
            for template in topic_templates:
                assert compile_template(template)[1] & F_B
    rng = random.Random(1)
    variant = typo("Does anyone know if {b} still does the {p}?", rng)
    assert variant != "Does anyone know if {b} still does the {p}?"
    assert "{b}" in variant and "{p}" in variant
    with pytest.raises(ValueError):
        compile_template("follow us @somewhere")
    with pytest.raises(ValueError):
        compile_template("see {url}")


# -- brands and queries ----------------------------------------------------------------------

_TERM = re.compile(r'^(?:"[A-Za-z][A-Za-z ]*"|#[a-z0-9_]+|@[a-z0-9_]+)$')


def _matches(query: str, post: Post) -> bool:
    """A tiny stand-in for the query language: OR of phrases, #hashtags and @mentions."""
    toks = tokens(post.text)
    for term in query.split(" OR "):
        if term.startswith("#"):
            if term[1:] in post.hashtags:
                return True
        elif term.startswith("@"):
            if term[1:] in post.mentions:
                return True
        else:
            phrase = tokens(term.strip('"'))
            k = len(phrase)
            if any(toks[i : i + k] == phrase for i in range(len(toks) - k + 1)):
                return True
    return False


def test_brand_queries_are_simple(market: Market) -> None:
    for spec in market.brands:
        terms = spec.query.split(" OR ")
        assert len(terms) >= 2
        assert all(_TERM.match(term) for term in terms), spec.query
        assert f"@{spec.handle}" in terms and f"#{spec.hashtag}" in terms
        brand = spec.to_brand()
        assert brand.name == spec.name and brand.query == spec.query
    assert [b.name for b in market.brands if not b.competitor] == ["Brewhaven", "Kitchora"]


def test_brand_labels_agree_with_queries(posts: list[Post], market: Market) -> None:
    matched = Counter[str]()
    noise = 0
    for p in posts[:15000]:
        labelled = set(_brands(p))
        hits = {spec.name for spec in market.brands if _matches(spec.query, p)}
        assert hits == labelled, (p.text, labelled, hits)
        matched.update(hits)
        noise += not hits
    assert all(matched[spec.name] > 200 for spec in market.brands), matched
    assert noise > 3000  # plenty of posts no brand query catches
    several = sum(1 for p in posts if len(_brands(p)) >= 2)
    assert several > 0.005 * N


# -- threads -----------------------------------------------------------------------------------


def test_replies_follow_their_parents(posts: list[Post]) -> None:
    seen: dict[str, Post] = {}
    depth: dict[str, int] = {}
    for p in posts:
        if p.parent_id is not None:
            parent = seen[p.parent_id]  # the parent came earlier in the stream
            assert p.created_at > parent.created_at
            assert p.network == parent.network
            assert parent.author is not None
            assert p.reply_to_handle == parent.author.handle.lower()
            assert p.root_id == (parent.root_id or parent.id)
            assert p.root_id in seen and seen[p.root_id].parent_id is None
            depth[p.id] = depth[p.parent_id] + 1
        else:
            assert p.root_id is None
            depth[p.id] = 0
        for target in (p.reshare_of, p.quote_of):
            if target is not None:
                assert seen[target].created_at < p.created_at
        seen[p.id] = p
    levels = Counter(depth.values())
    assert levels[1] > 0.2 * N and levels[3] > 0 and levels[4] > 0


def test_reshares_and_quotes(posts: list[Post]) -> None:
    by_id = {p.id: p for p in posts}
    reshares = [p for p in posts if p.reshare_of]
    quotes = [p for p in posts if p.quote_of]
    assert reshares and quotes
    for p in reshares[:500]:
        original = by_id[p.reshare_of or ""]
        assert original.text in p.text
        assert p.author_id != original.author_id
    tweet_quotes = [p for p in quotes if p.network == "twitter"]
    assert all(by_id[p.quote_of or ""].url in p.links for p in tweet_quotes)
    kinds = Counter(i.kind for p in posts[:5000] for i in interactions_of(p))
    assert set(kinds) == {"reply", "mention", "reshare", "quote"}


def _brand_replies(posts: list[Post], market: Market) -> dict[str, list[tuple[Post, Post]]]:
    by_id = {p.id: p for p in posts}
    handles = {spec.handle: spec.name for spec in market.brands}
    out: dict[str, list[tuple[Post, Post]]] = defaultdict(list)
    for p in posts:
        if _kind(p) == "brand_reply":
            assert p.author is not None and p.author.handle in handles
            out[handles[p.author.handle]].append((by_id[p.parent_id or ""], p))
    return out


def test_brand_accounts_answer_with_plausible_delays(posts: list[Post], market: Market) -> None:
    answers = _brand_replies(posts, market)
    assert set(answers) == {spec.name for spec in market.brands}
    medians = {}
    for name, pairs in answers.items():
        minutes = sorted((r.created_at - q.created_at).total_seconds() / 60 for q, r in pairs)
        assert minutes[0] >= 1.0
        assert minutes[-1] < 5 * 24 * 60
        medians[name] = statistics.median(minutes)
    assert 5 < medians["Brewhaven"] < 180
    assert medians["Brewhaven"] < medians["Quillbean"] < medians["Cupworth"]
    assert medians["Cupworth"] < 36 * 60
    own = sorted((r.created_at - q.created_at) for q, r in answers["Brewhaven"])
    assert own[int(0.95 * len(own))] < timedelta(hours=24)
    assert own[-1] < timedelta(hours=32)
    # answers come mostly in business hours
    hours = Counter(r.created_at.hour for _, r in answers["Brewhaven"])
    assert sum(hours[h] for h in range(6, 21)) > 0.85 * sum(hours.values())


def test_some_questions_stay_unanswered(posts: list[Post], market: Market) -> None:
    answered = {q.id for pairs in _brand_replies(posts, market).values() for q, _ in pairs}
    rate: dict[str, float] = {}
    for spec in market.brands:
        asked = [
            p
            for p in posts
            if p.parent_id is None
            and _sim(p)["intent"] in ("question", "support_request", "complaint")
            and _brands(p)[:1] == [spec.name]
            and p.network in spec.networks
        ]
        assert asked, spec.name
        rate[spec.name] = sum(p.id in answered for p in asked) / len(asked)
        assert rate[spec.name] < 0.97, spec.name  # some are never answered
    assert rate["Brewhaven"] > 0.5
    assert rate["Brewhaven"] > rate["Quillbean"] > rate["Cupworth"]


def test_customers_follow_up_on_brand_answers(posts: list[Post], market: Market) -> None:
    handles = {spec.handle for spec in market.brands}
    by_id = {p.id: p for p in posts}
    follow_ups = [
        p
        for p in posts
        if p.parent_id in by_id
        and (by_id[p.parent_id].author_handle or "") in handles
        and _kind(by_id[p.parent_id]) == "brand_reply"
    ]
    assert len(follow_ups) > 50
    intents = Counter(str(_sim(p)["intent"]) for p in follow_ups)
    assert intents["praise"] > 0 and intents["complaint"] > 0


# -- people ------------------------------------------------------------------------------------


def test_followers_are_heavy_tailed(posts: list[Post]) -> None:
    followers: dict[str, int] = {}
    for p in posts:
        assert p.author is not None and p.author.followers is not None
        followers[p.author_id or ""] = p.author.followers
    values = sorted(followers.values())
    median = values[len(values) // 2]
    assert median < 200
    assert sum(v >= 100_000 for v in values) >= 5
    top = values[-max(1, len(values) // 100) :]
    assert sum(top) > 0.5 * sum(values)


def test_influencers_draw_more_engagement(posts: list[Post]) -> None:
    big = [p for p in posts if p.parent_id is None and _followers(p) >= 100_000]
    small = [p for p in posts if p.parent_id is None and _followers(p) < 1_000]
    assert big and small

    def mean(items: list[Post], attr: str) -> float:
        return statistics.fmean(getattr(p, attr) or 0 for p in items if not p.reshare_of)

    assert mean(big, "likes") > 20 * mean(small, "likes")
    assert mean(big, "replies") > 1.5 * mean(small, "replies")
    reshared = Counter(p.reshare_of for p in posts if p.reshare_of)
    by_id = {p.id: p for p in posts}
    top = [by_id[i] for i, _ in reshared.most_common(20)]
    assert sum(_followers(p) >= 10_000 for p in top) >= 10


def test_communities_talk_among_themselves(posts: list[Post]) -> None:
    home: dict[str, str] = {}
    for p in posts:
        if _kind(p) == "post" and p.author_id is not None:
            home.setdefault(p.author_id, str(_sim(p)["community"]))
    by_id = {p.id: p for p in posts}
    same = total = 0
    for p in posts:
        if _kind(p) != "reply" or p.parent_id not in by_id:
            continue
        a, b = home.get(p.author_id or ""), home.get(by_id[p.parent_id].author_id or "")
        if a and b:
            total += 1
            same += a == b
    assert total > 1000 and same / total > 0.6
    tags: defaultdict[str, Counter[str]] = defaultdict(Counter)
    for p in posts:
        tags[str(_sim(p)["community"])].update(p.hashtags)
    assert tags["kahvi-mastodon"]["kahvi"] > 0
    assert tags["kahvi-mastodon"]["latteart"] == 0


# -- spikes ------------------------------------------------------------------------------------


def test_crisis_and_campaign_spikes(posts: list[Post], market: Market) -> None:
    crisis = market.crises[0]
    per_day: Counter[datetime] = Counter()
    crisis_day: Counter[datetime] = Counter()
    campaign_day: Counter[datetime] = Counter()
    for p in posts:
        day = p.created_at.replace(hour=0, minute=0, second=0)
        if crisis.brand in _brands(p):
            per_day[day] += 1
        if _sim(p)["crisis"]:
            crisis_day[day] += 1
        if _sim(p)["campaign"] == market.campaigns[0].hashtag:
            campaign_day[day] += 1
    median = statistics.median(per_day.values())
    peak_day, peak = per_day.most_common(1)[0]
    assert peak > 2.5 * median
    assert crisis_day.most_common(1)[0][0] == peak_day
    assert len(campaign_day) >= market.campaigns[0].days
    top_campaign_days = [d for d, _ in campaign_day.most_common(market.campaigns[0].days)]
    assert all(per_day[d] > 1.5 * median for d in top_campaign_days)
    tag = market.campaigns[0].hashtag.lower()
    assert sum(tag in p.hashtags for p in posts) > 200


def test_memory_stays_bounded() -> None:
    market = default_market()
    start = DEFAULT_END - timedelta(days=30)
    sim = Simulation(60_000, days=30, seed=1, start=start, market=market, labels=False)
    peak = 0
    for i, post in enumerate(sim.run()):
        assert post.raw is None
        if i % 500 == 0:
            peak = max(peak, len(sim.heap))
    assert peak < 2000
    assert len(sim.recent) <= 4000


def test_brand_labels_agree_with_the_real_query_matcher() -> None:
    """The market's brand queries, parsed by the real query language, find exactly the brands
    the simulator meant each post to mention."""
    from socialloop.query import parse
    from socialloop.simulate import default_market, simulate

    market = default_market()
    queries = {b.name: parse(b.query) for b in market.brands}
    checked = 0
    for post in simulate(3000, seed=11, market=market):
        assert post.raw is not None
        expected = set(post.raw["simulated"]["brands"])
        got = {name for name, q in queries.items() if q.matches(post)}
        assert got == expected, post.text
        checked += 1
    assert checked == 3000
