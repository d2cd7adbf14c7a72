"""The simulated market: brands (own, competitors, a retail partner), communities, campaigns
and a crisis.

Everything here is invented for the demo: the brand names, handles and sites (all sites use the
reserved ``.example`` top-level domain) are not real companies. A :class:`Market` is plain
frozen data; :func:`default_market` builds the coffee-chain market used by
``socialloop simulate``.

Times of campaigns and crises are given as fractions of the simulated period so that the same
market works for ``--days 3`` and ``--days 90``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

from socialloop.models import Brand

NETWORKS: tuple[str, ...] = ("twitter", "mastodon", "bluesky", "reddit")
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de", "fi")


@dataclass(frozen=True)
class BrandSpec:
    """A brand of the simulated market and how its customers and its social team behave.

    ``query`` is a socialloop boolean query that catches every simulated mention of the brand:
    its name (``name_forms``), its hashtag and its account handle. ``kind`` is ``"cafe"`` (a
    coffee chain) or ``"retail"`` (a shop that sells the own brand's beans and machines).
    ``reply_rate`` is the chance the brand's team answers a support request; questions,
    complaints and praise are answered less often (see the generator). ``reply_median_minutes``
    is the median answer delay during business hours (``business_hours``, UTC, [start, end)).
    """

    name: str
    query: str
    competitor: bool
    values: str
    assumptions: list[str]
    handle: str
    hashtag: str
    site: str
    kind: str = "cafe"
    name_forms: tuple[str, ...] = ()
    networks: tuple[str, ...] = NETWORKS
    share: float = 0.25
    reply_rate: float = 0.5
    reply_median_minutes: float = 120.0
    business_hours: tuple[int, int] = (7, 19)
    weekend_support: bool = True
    followers: int = 50_000

    def to_brand(self) -> Brand:
        """The :class:`socialloop.models.Brand` to register in a workspace."""
        return Brand(
            name=self.name,
            query=self.query,
            competitor=self.competitor,
            values=self.values,
            assumptions=list(self.assumptions),
            accounts=[self.handle.lower()],
        )

    def account_id(self, network: str) -> str:
        """The store author id of the brand's account on ``network`` (same handle everywhere)."""
        return f"{network}:{self.handle.lower()}"


@dataclass(frozen=True)
class CommunitySpec:
    """A group of authors on one network who talk mostly with each other.

    ``cohesion`` is the chance that a reply to a member comes from another member. ``place`` is
    the subreddit (reddit) or the home instance (mastodon). ``offtopic`` is the share of the
    community's own posts that are about something else than coffee.
    """

    name: str
    network: str
    lang: str
    share: float
    hashtags: tuple[str, ...] = ()
    cohesion: float = 0.7
    place: str = ""
    offtopic: float = 0.15
    influencers: int = 2


@dataclass(frozen=True)
class Campaign:
    """A hashtag campaign of one brand: extra volume on ``days`` days from ``start_frac``.

    ``weight`` is the extra volume per campaign day as a fraction of an average day's volume.
    """

    brand: str
    hashtag: str
    start_frac: float
    days: int = 3
    weight: float = 0.45


@dataclass(frozen=True)
class Crisis:
    """A burst of complaints about one ``topic`` for one brand.

    It starts at ``start_frac`` of the period (moved to ``onset_hour`` UTC that day), ramps up
    for two hours and decays with a time constant of ``decay_hours``. ``weight`` is its total
    volume as a fraction of an average day's volume. ``topic`` names the template set in the
    language packs (``crisis``); ``news_path`` is the path of the news article linked to.
    """

    brand: str
    topic: str
    start_frac: float
    hashtag: str = ""
    onset_hour: int = 8
    decay_hours: float = 9.0
    weight: float = 0.9
    news_path: str = ""


@dataclass(frozen=True)
class Market:
    """Brands, communities, campaigns and crises of one simulated market."""

    name: str
    brands: list[BrandSpec]
    communities: list[CommunitySpec]
    campaigns: list[Campaign] = field(default_factory=list)
    crises: list[Crisis] = field(default_factory=list)
    review_site: str = "cuppingnotes.example"
    news_site: str = "news.northwire.example"
    blog_site: str = "brewjournal.example"

    def brand(self, name: str) -> BrandSpec:
        """The brand called ``name`` (KeyError when there is none)."""
        for spec in self.brands:
            if spec.name == name:
                return spec
        raise KeyError(name)

    @property
    def own(self) -> BrandSpec:
        """The team's own brand: the first brand that is not a competitor."""
        for spec in self.brands:
            if not spec.competitor:
                return spec
        return self.brands[0]


def default_market() -> Market:
    """The demo market: Brewhaven (own coffee chain), two competitor chains (Quillbean,
    Cupworth) and Kitchora, a homeware retailer that sells Brewhaven beans and machines.

    Brewhaven runs the ``#HavenHarvest`` campaign around a quarter into the period and has an
    app crisis (customers charged twice) at about two thirds; Quillbean runs
    ``#QuillbeanCupClub`` a little after the middle.
    """
    brands = [
        BrandSpec(
            name="Brewhaven",
            query='"Brewhaven" OR #brewhaven OR @brewhaven',
            competitor=False,
            values=(
                "Ethically sourced coffee roasted fresh every week, every cup traceable to the "
                "farm; fast, friendly service; a welcoming third place for the neighbourhood."
            ),
            assumptions=[
                "Customers care most about coffee quality and origin",
                "Regulars accept higher prices for better coffee",
                "The mobile app is a convenience, not a core touch point",
                "Seasonal drinks bring people back",
            ],
            handle="brewhaven",
            hashtag="brewhaven",
            site="brewhaven.example",
            name_forms=("Brewhaven",),
            share=0.36,
            reply_rate=0.85,
            reply_median_minutes=35.0,
            business_hours=(6, 20),
            followers=184_000,
        ),
        BrandSpec(
            name="Quillbean",
            query='"Quillbean" OR #quillbean OR @quillbeancafe',
            competitor=True,
            values="Affordable everyday coffee with the biggest loyalty programme in town.",
            assumptions=["Our customers want speed and price", "Loyalty points drive visits"],
            handle="quillbeancafe",
            hashtag="quillbean",
            site="quillbean.example",
            name_forms=("Quillbean", "Quillbean Cafe"),
            networks=("twitter", "mastodon", "bluesky"),
            share=0.28,
            reply_rate=0.55,
            reply_median_minutes=150.0,
            business_hours=(8, 18),
            followers=126_000,
        ),
        BrandSpec(
            name="Cupworth",
            query='"Cupworth" OR #cupworth OR @cupworth',
            competitor=True,
            values="Nordic-style light roasts and design-led cafes.",
            assumptions=["Design and atmosphere matter more than price"],
            handle="cupworth",
            hashtag="cupworth",
            site="cupworth.example",
            name_forms=("Cupworth",),
            networks=("twitter", "reddit", "bluesky"),
            share=0.20,
            reply_rate=0.25,
            reply_median_minutes=300.0,
            business_hours=(9, 17),
            weekend_support=False,
            followers=41_000,
        ),
        BrandSpec(
            name="Kitchora",
            query='"Kitchora" OR #kitchora OR @kitchora_shop',
            competitor=False,
            values="Homeware retailer; official stockist of Brewhaven beans and machines.",
            assumptions=["Shoppers compare machine prices online before buying"],
            handle="kitchora_shop",
            hashtag="kitchora",
            site="kitchora.example",
            kind="retail",
            name_forms=("Kitchora",),
            networks=("twitter", "bluesky", "reddit"),
            share=0.16,
            reply_rate=0.6,
            reply_median_minutes=90.0,
            business_hours=(8, 20),
            followers=73_000,
        ),
    ]
    communities = [
        CommunitySpec(
            "coffee-twitter", "twitter", "en", 0.17, ("coffee", "coffeetime", "caffeine"), 0.55
        ),
        CommunitySpec("home-baristas", "reddit", "en", 0.09, (), 0.8, "r/homebaristas", 0.05),
        CommunitySpec(
            "latte-art", "bluesky", "en", 0.07, ("latteart", "baristalife", "flatwhite"), 0.8
        ),
        CommunitySpec(
            "remote-workers", "twitter", "en", 0.07, ("remotework", "wfh", "laptoplife"), 0.7
        ),
        CommunitySpec(
            "specialty-coffee",
            "mastodon",
            "en",
            0.05,
            ("specialtycoffee", "pourover", "coffeebeans"),
            0.85,
            "brew.social",
        ),
        CommunitySpec("deal-hunters", "reddit", "en", 0.05, (), 0.75, "r/kitchendeals", 0.1),
        CommunitySpec(
            "everyday-bsky", "bluesky", "en", 0.05, ("goodmorning", "weekend"), 0.5, "", 0.45
        ),
        CommunitySpec("cafe-madrid", "twitter", "es", 0.09, ("café", "cafeteria", "madrid"), 0.75),
        CommunitySpec("cafe-latam", "bluesky", "es", 0.06, ("cafédeespecialidad", "baristas"), 0.8),
        CommunitySpec("cafe-paris", "twitter", "fr", 0.06, ("café", "paris", "pausecafé"), 0.75),
        CommunitySpec(
            "slow-coffee-fr",
            "mastodon",
            "fr",
            0.04,
            ("cafédespécialité", "slowcoffee"),
            0.85,
            "piaille.social",
        ),
        CommunitySpec(
            "kaffee-berlin", "twitter", "de", 0.05, ("kaffee", "berlin", "kaffeeliebe"), 0.75
        ),
        CommunitySpec(
            "siebtraeger", "mastodon", "de", 0.03, ("siebträger", "kaffee"), 0.85, "kaffee.social"
        ),
        CommunitySpec("kaffee-reddit", "reddit", "de", 0.02, (), 0.8, "r/kaffeeklatsch", 0.1),
        CommunitySpec(
            "kahvi-mastodon",
            "mastodon",
            "fi",
            0.05,
            ("kahvi", "aamukahvi", "helsinki"),
            0.85,
            "kahvi.social",
        ),
        CommunitySpec("kahvi-twitter", "twitter", "fi", 0.03, ("kahvi", "tampere"), 0.75),
        CommunitySpec("kahvi-bsky", "bluesky", "fi", 0.02, ("kahvi", "kahvila"), 0.8),
    ]
    campaigns = [
        Campaign("Brewhaven", "HavenHarvest", 0.25, days=3, weight=0.35),
        Campaign("Quillbean", "QuillbeanCupClub", 0.55, days=2, weight=0.25),
    ]
    crises = [
        Crisis(
            "Brewhaven",
            "app_double_charge",
            0.65,
            hashtag="BrewhavenApp",
            weight=0.9,
            news_path="business/brewhaven-app-charges-customers-twice",
        )
    ]
    return Market(
        name="Coffee chains (demo)",
        brands=brands,
        communities=communities,
        campaigns=campaigns,
        crises=crises,
    )


def check_market(market: Market, languages: Collection[str]) -> None:
    """ValueError when ``market`` cannot be simulated with language packs for ``languages``."""
    if not market.brands or not market.communities:
        raise ValueError("a market needs at least one brand and one community")
    missing = sorted({c.lang for c in market.communities} - set(languages))
    if missing:
        raise ValueError(f"no language pack for {missing}")
    names = {b.name for b in market.brands}
    for spec in market.brands:
        if spec.kind not in ("cafe", "retail"):
            raise ValueError(f"brand {spec.name!r}: kind must be 'cafe' or 'retail'")
    for what, brand in [("campaign", c.brand) for c in market.campaigns] + [
        ("crisis", k.brand) for k in market.crises
    ]:
        if brand not in names:
            raise ValueError(f"{what} of unknown brand {brand!r}")
