"""The simulated population: authors grouped into communities, influencers, brand accounts.

Each author belongs to one network and one community (a community lives on one network and
speaks one language). Followers follow a Pareto distribution (heavy tail) and every community
gets a few explicit influencers with 100k+ followers; how often an author posts is heavy-tailed
too. Handles are built from the language pack's names and are unique per network; they never
contain a brand's name, so a brand query cannot match an author by accident.
"""

from __future__ import annotations

import functools
import math
import random
from bisect import bisect
from dataclasses import dataclass, field
from itertools import accumulate

from socialloop.models import Author
from socialloop.simulate.lang import LangPack
from socialloop.simulate.market import BrandSpec, CommunitySpec, Market
from socialloop.textutil import fold

#: Mastodon instances of authors outside their community's home instance (fictional or
#: general-purpose; posts on them are invented).
GENERAL_INSTANCES: tuple[str, ...] = ("mastodon.social", "mstdn.social", "toot.community")


class Person:
    """An author plus what the generator needs to know about them."""

    __slots__ = (
        "author",
        "brand",
        "community",
        "followers",
        "key",
        "lang",
        "mention",
        "network",
        "reach",
        "url_prefix",
    )

    def __init__(
        self,
        author: Author,
        *,
        community: int,
        lang: str,
        mentionable: bool,
        url_prefix: str,
        brand: int = -1,
    ) -> None:
        self.author = author
        self.network = author.network
        self.key = author.handle.lower()
        self.mention = f"@{author.handle}" if mentionable else ""
        self.followers = author.followers or 0
        self.community = community
        self.lang = lang
        self.brand = brand
        self.url_prefix = url_prefix
        #: How much more engagement this author's posts draw than a small account's.
        self.reach = 1.0 + 0.6 * math.log10(1.0 + self.followers / 1000.0)


@dataclass
class Community:
    """A community at run time: its members and the weights used to pick who posts."""

    index: int
    spec: CommunitySpec
    members: list[Person] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)
    influencers: list[Person] = field(default_factory=list)
    hashtags: list[tuple[str, str]] = field(default_factory=list)

    def pick(self, u: float) -> Person:
        """The member at quantile ``u`` of the activity distribution (``u`` in [0, 1))."""
        return self.members[bisect(self.cum, u * self.cum[-1])]


@dataclass
class Pool:
    """Every non-brand author of one network, weighted by activity."""

    members: list[Person] = field(default_factory=list)
    cum: list[float] = field(default_factory=list)

    def pick(self, u: float) -> Person:
        return self.members[bisect(self.cum, u * self.cum[-1])]


@dataclass
class Population:
    """Communities, per-network pools and brand accounts (``accounts[brand][network]``)."""

    communities: list[Community]
    pools: dict[str, Pool]
    accounts: list[dict[str, Person]]
    influencers: list[Person]
    community_cum: list[float]
    by_network: dict[str, list[Community]]


@functools.cache
def _ascii(text: str) -> str:
    return "".join(ch for ch in fold(text) if ch.isascii() and (ch.isalnum() or ch == "_"))


def _url_prefix(network: str, handle: str, place: str) -> str:
    if network == "twitter":
        return f"https://x.com/{handle}/status/"
    if network == "bluesky":
        return f"https://bsky.app/profile/{handle}/post/"
    if network == "mastodon":
        local, _, instance = handle.partition("@")
        return f"https://{instance or place or GENERAL_INSTANCES[0]}/@{local}/"
    return ""  # reddit urls depend on the subreddit of the thread


def _profile_url(network: str, handle: str) -> str:
    if network == "twitter":
        return f"https://x.com/{handle}"
    if network == "bluesky":
        return f"https://bsky.app/profile/{handle}"
    if network == "mastodon":
        local, _, instance = handle.partition("@")
        return f"https://{instance or GENERAL_INSTANCES[0]}/@{local}"
    return f"https://www.reddit.com/user/{handle}"


class _Handles:
    """Unique handles per network, never containing a brand token."""

    def __init__(self, rng: random.Random, forbidden: tuple[str, ...]) -> None:
        self.rng = rng
        self.forbidden = forbidden
        self.used: dict[str, set[str]] = {}

    def make(self, network: str, first: str, last: str, place: str) -> str:
        rng = self.rng
        used = self.used.setdefault(network, set())
        f, la = _ascii(first), _ascii(last)
        for attempt in range(50):
            style = rng.randrange(6)
            if style == 0:
                local = f"{f}{la}"
            elif style == 1:
                local = f"{f}_{la[:1]}"
            elif style == 2:
                local = f"{f}{rng.randrange(10, 99)}"
            elif style == 3:
                local = f"{la}{f[:1]}"
            elif style == 4:
                local = f"{f}_{la}"
            else:
                local = f"the{f}{la[:2]}"
            if attempt > 3:
                local = f"{local}{rng.randrange(100, 9999)}"
            local = local[:15]
            if any(tok in local for tok in self.forbidden):
                continue
            if network == "mastodon":
                instance = place if place and rng.random() < 0.75 else rng.choice(GENERAL_INSTANCES)
                handle = f"{local}@{instance}"
            elif network == "bluesky":
                handle = f"{local}.bsky.social"
            else:
                handle = local
            if handle not in used:
                used.add(handle)
                return handle
        raise RuntimeError("could not make a unique handle")  # pragma: no cover


def _followers(rng: random.Random) -> int:
    """Pareto(alpha=1.15, x_min=12): median ~22, a long tail into the hundreds of thousands."""
    u = 1.0 - rng.random()
    return min(int(12.0 / u ** (1.0 / 1.15)), 3_000_000)


def build_population(
    market: Market, packs: dict[str, LangPack], n_authors: int, rng: random.Random
) -> Population:
    """Create about ``n_authors`` authors spread over the market's communities."""
    forbidden = tuple(
        tok for spec in market.brands for tok in (_ascii(spec.name), _ascii(spec.handle))
    )
    handles = _Handles(rng, forbidden)
    total_share = sum(c.share for c in market.communities) or 1.0
    communities: list[Community] = []
    influencers: list[Person] = []
    for index, spec in enumerate(market.communities):
        pack = packs[spec.lang]
        comm = Community(index, spec)
        comm.hashtags = [(f"#{tag}", fold(tag)) for tag in spec.hashtags]
        size = max(20, round(n_authors * spec.share / total_share))
        weights: list[float] = []
        for i in range(size):
            first = rng.choice(pack.first_names)
            last = rng.choice(pack.last_names)
            handle = handles.make(spec.network, first, last, spec.place)
            star = i < spec.influencers
            if star:
                followers = int(math.exp(rng.uniform(math.log(100_000), math.log(2_500_000))))
            else:
                followers = _followers(rng)
            author = Author(
                network=spec.network,
                handle=handle,
                name=f"{first} {last}",
                followers=followers,
                following=int(40 + rng.random() * 600 + followers * 0.002),
                bio=rng.choice(pack.bios),
                verified=followers >= 50_000 and rng.random() < 0.6,
                url=_profile_url(spec.network, handle),
            )
            person = Person(
                author,
                community=index,
                lang=spec.lang,
                mentionable=spec.network in ("twitter", "mastodon"),
                url_prefix=_url_prefix(spec.network, handle, spec.place),
            )
            comm.members.append(person)
            activity = (1.0 - rng.random()) ** (-1.0 / 1.6) * (
                1.0 + 0.3 * math.log10(1 + followers)
            )
            weights.append(activity * (4.0 if star else 1.0))
            if followers >= 50_000:
                comm.influencers.append(person)
        comm.cum = list(accumulate(weights))
        if not comm.influencers:
            comm.influencers = comm.members[:1]
        influencers.extend(comm.influencers)
        communities.append(comm)

    pools: dict[str, Pool] = {}
    by_network: dict[str, list[Community]] = {}
    for comm in communities:
        pool = pools.setdefault(comm.spec.network, Pool())
        by_network.setdefault(comm.spec.network, []).append(comm)
        prev = pool.cum[-1] if pool.cum else 0.0
        for person, c in zip(comm.members, comm.cum, strict=True):
            pool.members.append(person)
            pool.cum.append(prev + c)
    accounts = [_brand_accounts(bi, spec) for bi, spec in enumerate(market.brands)]
    community_cum = list(accumulate(c.share for c in market.communities))
    return Population(communities, pools, accounts, influencers, community_cum, by_network)


def _brand_accounts(bi: int, spec: BrandSpec) -> dict[str, Person]:
    out: dict[str, Person] = {}
    for network in spec.networks:
        author = Author(
            network=network,
            handle=spec.handle,
            name=spec.name,
            followers=spec.followers,
            following=300,
            bio=spec.values,
            verified=True,
            url=_profile_url(network, spec.handle),
        )
        out[network] = Person(
            author,
            community=-1,
            lang="",
            mentionable=network != "reddit",
            url_prefix=_url_prefix(network, spec.handle, ""),
            brand=bi,
        )
    return out
