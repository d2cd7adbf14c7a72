"""Compiled text pools: templates with their slot flags and typo variants, brand mention forms,
links and emoji.

Everything is prepared once per run so that composing a post is a few list look-ups and one
``str.format`` call, with no regular expression. Templates hold no entities; the
:class:`Composer` (brand mentions, hashtags, ``cc`` mentions) and the generator (reply
prefixes, links) record every hashtag, mention and link as they insert it, in text order.
"""

from __future__ import annotations

import random
import string
from bisect import bisect
from collections.abc import Callable

from socialloop.simulate.lang import CATEGORIES, SLOTS, LangPack
from socialloop.simulate.market import Market
from socialloop.simulate.people import Community, Person
from socialloop.textutil import fold, tokens

F_B, F_B2, F_P, F_G, F_C, F_I, F_N, F_B2FIRST = 1, 2, 4, 8, 16, 32, 64, 128
_FLAG = {"b": F_B, "b2": F_B2, "p": F_P, "g": F_G, "c": F_C, "i": F_I, "n": F_N}

#: A compiled template: the format string and its slot flags.
Tpl = tuple[str, int]
#: Plain templates and, index for index, their variants with a typo.
Pool = tuple[list[Tpl], list[Tpl]]

TYPO_RATE = 0.05

EMOJI: dict[str, tuple[str, ...]] = {
    "positive": ("☕", "😍", "🙌", "👌", "✨", "❤️", "🔥", "😊", "☕☕", "🥰"),
    "negative": ("😡", "🙄", "😤", "💸", "😞", "👎", "🤬", "😩"),
    "neutral": ("☕", "🤔", "👀", "😅", "🙃", "😂"),
}

_FORMATTER = string.Formatter()


def compile_template(fmt: str) -> Tpl:
    """Flags of a template; ValueError when it has an entity of its own or an unknown slot."""
    if "#" in fmt or "@" in fmt or "://" in fmt:
        raise ValueError(f"template must not contain hashtags, mentions or links: {fmt!r}")
    flags = 0
    for _, name, spec, conv in _FORMATTER.parse(fmt):
        if name is None:
            continue
        if name not in SLOTS or spec or conv:
            raise ValueError(f"unknown slot {{{name}}} in template {fmt!r}")
        flags |= _FLAG[name]
    if flags & F_B2 and not flags & F_B:
        raise ValueError(f"template uses {{b2}} without {{b}}: {fmt!r}")
    if flags & F_B and flags & F_B2 and fmt.index("{b2}") < fmt.index("{b}"):
        flags |= F_B2FIRST
    return fmt, flags


def typo(fmt: str, rng: random.Random) -> str:
    """``fmt`` with one plausible typo (swapped, dropped or doubled letter) in a plain word."""
    words = fmt.split(" ")
    candidates = [
        i
        for i, w in enumerate(words)
        if len(w) >= 4 and w.isalpha() and "{" not in w and "}" not in w
    ]
    if not candidates:
        return fmt.lower() if rng.random() < 0.5 else fmt
    i = rng.choice(candidates)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:j] + w[j + 1] + w[j] + w[j + 2 :]
    elif kind == 1:
        w = w[:j] + w[j + 1 :]
    else:
        w = w[:j] + w[j] + w[j:]
    words[i] = w
    out = " ".join(words)
    return out.lower() if rng.random() < 0.3 else out


def _pool(templates: tuple[str, ...], rng: random.Random) -> Pool:
    plain = [compile_template(t) for t in templates]
    typos = [compile_template(typo(t, rng)) for t in templates]
    return plain, typos


class LangKit:
    """The compiled vocabulary of one language for one market."""

    def __init__(self, pack: LangPack, market: Market, rng: random.Random) -> None:
        self.code = pack.code
        self.cats: dict[str, Pool] = {}
        for cat in CATEGORIES:
            templates = pack.templates.get(cat, ())
            if not templates:
                raise ValueError(f"language pack {pack.code!r} has no {cat!r} templates")
            self.cats[cat] = _pool(templates, rng)
        self.crisis: dict[str, Pool] = {k: _pool(v, rng) for k, v in pack.crisis.items()}
        own = market.own.name
        own_index = market.brands.index(market.own)
        self.products = pack.products
        self.goods = pack.goods
        #: Retail items and the brand index they name (-1: none).
        self.retail: tuple[tuple[str, int], ...] = tuple(
            (item.replace("{own}", own), own_index if "{own}" in item else -1)
            for item in pack.retail
        )
        self.retail_goods: tuple[tuple[str, int], ...] = tuple(
            (item.replace("{own}", own), own_index if "{own}" in item else -1)
            for item in pack.retail_goods
        )
        self.cities = pack.cities
        self.issues = pack.issues
        self.ad_tag = (f"#{pack.ad_tag}", fold(pack.ad_tag))
        self.extra = self.cats["extra"][0]


class BrandKit:
    """Mention forms and links of one brand."""

    def __init__(self, index: int, market: Market) -> None:
        spec = market.brands[index]
        self.index = index
        self.spec = spec
        self.retail = spec.kind == "retail"
        names = spec.name_forms or (spec.name,)
        tag = spec.hashtag
        tag_forms = (f"#{tag}", f"#{tag[:1].upper()}{tag[1:]}")
        #: The brand hashtag as (display, folded key).
        self.tag = (tag_forms[0], fold(tag))
        #: Per network: (cumulative threshold, display, kind, key) with kind 0 name,
        #: 1 mention, 2 hashtag.
        self.forms: dict[str, tuple[tuple[float, str, int, str], ...]] = {}
        for network in ("twitter", "mastodon", "bluesky", "reddit"):
            forms: list[tuple[float, str, int, str]] = []
            if network == "reddit":
                for i, name in enumerate(names):
                    forms.append(((i + 1) / len(names), name, 0, ""))
            else:
                has_account = network in spec.networks
                p_name = 0.55 if has_account else 0.8
                for i, name in enumerate(names):
                    forms.append((p_name * (i + 1) / len(names), name, 0, ""))
                if has_account:
                    forms.append((0.85, f"@{spec.handle}", 1, spec.handle.lower()))
                forms.append((0.93, tag_forms[0], 2, fold(tag)))
                forms.append((1.01, tag_forms[1], 2, fold(tag)))
            self.forms[network] = tuple(forms)
        #: Whether a URL with the handle in it (a quoted tweet) contains a name of the brand.
        handle_tokens = tokens(spec.handle)
        self.name_in_handle = any(
            _contains(handle_tokens, tokens(name)) for name in (*names, spec.name)
        )
        site = f"https://www.{spec.site}"
        slug = spec.name.lower().replace(" ", "-")
        self.site_links = (
            f"{site}/menu",
            f"{site}/app",
            f"{site}/stores",
            f"{site}/offers",
            f"{site}/stores/near-me?ref=social",
            f"{site}/blog/new-season",
        )
        self.help_links = tuple(f"https://help.{spec.site}/articles/{n}" for n in (101, 214, 388))
        review = f"https://www.{market.review_site}/reviews/{slug}"
        self.review_links = (review, f"{review}-app", f"{review}/compare", f"{review}-2026")

    def ref(self, network: str, u: float) -> tuple[float, str, int, str]:
        """The mention form at quantile ``u``."""
        for form in self.forms[network]:
            if u < form[0]:
                return form
        return self.forms[network][-1]


def _contains(haystack: list[str], needle: list[str]) -> bool:
    k = len(needle)
    return k > 0 and any(haystack[i : i + k] == needle for i in range(len(haystack) - k + 1))


class TextKit:
    """All compiled pools of a run: one :class:`LangKit` per language, one
    :class:`BrandKit` per brand, links and campaign/crisis hashtags."""

    def __init__(self, market: Market, packs: dict[str, LangPack]) -> None:
        rng = random.Random(20261101)  # the pools are the same for every seed
        self.langs = {code: LangKit(pack, market, rng) for code, pack in packs.items()}
        self.brands = [BrandKit(i, market) for i in range(len(market.brands))]
        #: Brand index by folded brand hashtag (a hashtag the brand's query catches).
        self.brand_by_tag = {fold(spec.hashtag): i for i, spec in enumerate(market.brands)}
        self.blog_links = tuple(
            f"https://www.{market.blog_site}/{path}"
            for path in (
                "guides/pour-over-ratio",
                "guides/dialling-in-espresso",
                "reviews/best-grinders-2026",
                "stories/why-light-roasts",
                "guides/oat-milk-foam",
            )
        )
        self.campaign_tags = [(f"#{c.hashtag}", fold(c.hashtag)) for c in market.campaigns]
        self.campaign_links = [
            f"https://www.{market.brand(c.brand).site}/{c.hashtag.lower()}"
            for c in market.campaigns
        ]
        self.crisis_tags = [
            (f"#{c.hashtag}", fold(c.hashtag)) if c.hashtag else ("", "") for c in market.crises
        ]
        self.news_links = [
            (
                f"https://{market.news_site}/{c.news_path}",
                f"https://{market.news_site}/{c.news_path}?utm_source=social",
            )
            for c in market.crises
        ]


def pick(pool: Pool, rnd: Callable[[], float], typo_rate: float = TYPO_RATE) -> Tpl:
    """A random template of ``pool``; now and then (``typo_rate``) the variant with a typo."""
    plain, typos = pool
    k = int(rnd() * len(plain))
    return typos[k] if rnd() < typo_rate else plain[k]


class Composer:
    """Fills templates and decorates bodies, recording every entity it inserts, in text order.

    ``rnd`` is the run's ``random.random``; ``brand_cum`` the cumulative brand shares.
    """

    def __init__(self, kit: TextKit, rnd: Callable[[], float], brand_cum: list[float]) -> None:
        self.kit = kit
        self.rnd = rnd
        self.brand_cum = brand_cum

    def brand(self) -> int:
        cum = self.brand_cum
        return bisect(cum, self.rnd() * cum[-1])

    def other_brand(self, bi: int) -> int:
        nb = len(self.brand_cum)
        j = self.brand()
        if j == bi and nb > 1:
            j = (bi + 1 + int(self.rnd() * (nb - 1))) % nb
        return j

    def fill(
        self,
        tpl: Tpl,
        lk: LangKit,
        bi: int,
        net: str,
        ments: list[str],
        tags: list[str],
        brands: list[int],
    ) -> str:
        """Format a template, recording the entities and brands it inserts in text order."""
        fmt, fl = tpl
        if not fl:
            return fmt
        rnd = self.rnd
        b = b2 = p = g = c = i = n = ""
        if fl & F_B and bi < 0:
            bi = self.brand()
        retail = bi >= 0 and self.kit.brands[bi].retail
        if fl & F_B:
            form = self.kit.brands[bi].ref(net, rnd())
            b = form[1]
            if fl & F_B2:
                bj = self.other_brand(bi)
                form2 = self.kit.brands[bj].ref(net, rnd())
                b2 = form2[1]
                first, second = (form2, form) if fl & F_B2FIRST else (form, form2)
                _record(first, ments, tags)
                _record(second, ments, tags)
                if bj not in brands:
                    brands.append(bj)
            else:
                _record(form, ments, tags)
            if bi not in brands:
                brands.append(bi)
        if fl & (F_P | F_G):
            if retail:
                if fl & F_P:
                    items = lk.retail
                    p, own = items[int(rnd() * len(items))]
                    if own >= 0 and own not in brands:
                        brands.append(own)
                if fl & F_G:
                    items = lk.retail_goods
                    g, own = items[int(rnd() * len(items))]
                    if own >= 0 and own not in brands:
                        brands.append(own)
            else:
                if fl & F_P:
                    p = lk.products[int(rnd() * len(lk.products))]
                if fl & F_G:
                    g = lk.goods[int(rnd() * len(lk.goods))]
        if fl & F_C:
            c = lk.cities[int(rnd() * len(lk.cities))]
        if fl & F_I:
            i = lk.issues[int(rnd() * len(lk.issues))]
        if fl & F_N:
            n = str(8 + int(rnd() * 40))
        return fmt.format(b=b, b2=b2, p=p, g=g, c=c, i=i, n=n)

    def decorate(
        self,
        body: str,
        person: Person,
        comm: Community,
        sentiment: str,
        ments: list[str],
        tags: list[str],
        forced: list[tuple[str, str]],
        tag_p: float,
        emoji_p: float,
    ) -> str:
        """Append emoji, a ``cc`` mention and hashtags to a body (not on reddit)."""
        rnd = self.rnd
        parts = [body]
        if rnd() < emoji_p:
            pool = EMOJI[sentiment]
            parts.append(pool[int(rnd() * len(pool))])
        if person.mention and rnd() < 0.03:
            friend = comm.influencers[int(rnd() * len(comm.influencers))]
            if rnd() < 0.5:
                friend = comm.pick(rnd())
            if friend is not person and friend.mention:
                parts.append("cc " + friend.mention)
                if friend.key not in ments:
                    ments.append(friend.key)
        for display, key in forced:
            parts.append(display)
            if key not in tags:
                tags.append(key)
        if comm.hashtags and rnd() < tag_p:
            count = 2 if rnd() < 0.3 and len(comm.hashtags) > 1 else 1
            start = int(rnd() * len(comm.hashtags))
            for k in range(count):
                display, key = comm.hashtags[(start + k) % len(comm.hashtags)]
                parts.append(display)
                if key not in tags:
                    tags.append(key)
        return " ".join(parts)


def _record(form: tuple[float, str, int, str], ments: list[str], tags: list[str]) -> None:
    kind = form[2]
    if kind == 1:
        if form[3] not in ments:
            ments.append(form[3])
    elif kind == 2 and form[3] not in tags:
        tags.append(form[3])
