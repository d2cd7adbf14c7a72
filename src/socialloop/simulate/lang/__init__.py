"""Per-language vocabularies for the simulator: templates by category, products, places, names.

Every text the simulator produces comes from these packs (written for socialloop, not taken
from any data set). Templates are ``str.format`` strings with these slots, all optional:

``{b}`` a brand mention (name, ``@handle`` or ``#hashtag``), ``{b2}`` another brand,
``{p}`` a product of that brand (a drink at a cafe, an item at the retailer), ``{g}`` goods to
buy (subscription, beans, machines), ``{c}`` a place, ``{i}`` an issue (complaints),
``{n}`` a number.

Templates never contain ``#``, ``@`` or URLs themselves: the generator adds hashtags, mentions
and links and records them as it goes, so ``Post.hashtags``/``mentions``/``links`` equal what
``socialloop.textutil`` would extract. ``tests/test_simulate.py`` checks every pack.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Categories every pack defines (root posts, replies, brand replies, follow-ups, quotes).
CATEGORIES: tuple[str, ...] = (
    "question",
    "complaint",
    "praise",
    "purchase",
    "reco_brand",
    "reco",
    "support",
    "mention",
    "chat",
    "offtopic",
    "announce",
    "campaign",
    "campaign_ad",
    "campaign_brand",
    "answer",
    "recommend",
    "empathize",
    "agree",
    "banter",
    "advice",
    "thanks",
    "same",
    "quote",
    "br_question",
    "br_complaint",
    "br_support",
    "br_praise",
    "br_purchase",
    "br_crisis",
    "fu_thanks",
    "fu_unhappy",
    "extra",
)

SLOTS: tuple[str, ...] = ("b", "b2", "p", "g", "c", "i", "n")


@dataclass(frozen=True)
class LangPack:
    """The vocabulary of one language.

    ``retail`` (bare nouns, for ``{p}``) and ``retail_goods`` (with an article, for ``{g}``)
    are what the retailer sells; they may contain ``{own}`` (the own brand's name: the retailer
    sells its beans and machines). ``cities`` are written as the templates of the language use
    them (Finnish: in the inessive/adessive case). ``crisis`` maps a crisis topic to its
    complaint templates.
    """

    code: str
    templates: dict[str, tuple[str, ...]]
    crisis: dict[str, tuple[str, ...]]
    products: tuple[str, ...]
    goods: tuple[str, ...]
    retail: tuple[str, ...]
    retail_goods: tuple[str, ...]
    cities: tuple[str, ...]
    issues: tuple[str, ...]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    bios: tuple[str, ...]
    ad_tag: str
    signoff: str = ""


def packs() -> dict[str, LangPack]:
    """All language packs by language code."""
    from socialloop.simulate.lang import de, en, es, fi, fr

    return {p.code: p for p in (en.PACK, es.PACK, fr.PACK, de.PACK, fi.PACK)}
