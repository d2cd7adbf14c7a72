"""The behaviour of the simulated crowd, as tables: intents and sentiment of each template
category, the intent mix of brand-related posts, how many replies a post draws and what they
say, how often brand teams answer and how customers react.

Tuning the simulation means editing these numbers; the generator only reads them.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

REPLY, BRAND, FOLLOW = 0, 1, 2

#: Intent and sentiment label of each template category.
CAT_INFO: dict[str, tuple[str, str]] = {
    "question": ("question", "neutral"),
    "complaint": ("complaint", "negative"),
    "praise": ("praise", "positive"),
    "purchase": ("purchase_intent", "neutral"),
    "reco_brand": ("recommendation_request", "neutral"),
    "reco": ("recommendation_request", "neutral"),
    "support": ("support_request", "negative"),
    "mention": ("chitchat", "neutral"),
    "chat": ("chitchat", "neutral"),
    "offtopic": ("chitchat", "neutral"),
    "announce": ("news", "positive"),
    "campaign": ("praise", "positive"),
    "campaign_ad": ("praise", "positive"),
    "campaign_brand": ("news", "positive"),
    "crisis": ("complaint", "negative"),
    "answer": ("answer", "neutral"),
    "recommend": ("answer", "positive"),
    "empathize": ("chitchat", "negative"),
    "agree": ("chitchat", "positive"),
    "banter": ("chitchat", "neutral"),
    "advice": ("answer", "neutral"),
    "thanks": ("chitchat", "positive"),
    "same": ("complaint", "negative"),
    "quote": ("chitchat", "neutral"),
    "br_question": ("answer", "neutral"),
    "br_complaint": ("answer", "neutral"),
    "br_support": ("answer", "neutral"),
    "br_praise": ("answer", "positive"),
    "br_purchase": ("answer", "positive"),
    "br_crisis": ("answer", "neutral"),
    "fu_thanks": ("praise", "positive"),
    "fu_unhappy": ("complaint", "negative"),
    "reshare": ("chitchat", "neutral"),
}

#: Intent mix of brand-related original posts, by brand kind.
BRAND_CATS: dict[str, tuple[tuple[str, float], ...]] = {
    "cafe": (
        ("question", 0.15),
        ("complaint", 0.16),
        ("praise", 0.17),
        ("purchase", 0.07),
        ("reco_brand", 0.07),
        ("support", 0.10),
        ("mention", 0.28),
    ),
    "retail": (
        ("question", 0.18),
        ("complaint", 0.16),
        ("praise", 0.12),
        ("purchase", 0.28),
        ("reco_brand", 0.03),
        ("support", 0.15),
        ("mention", 0.08),
    ),
}

#: Expected number of direct replies to a root of each category (before the author's reach).
REPLY_LAMBDA: dict[str, float] = {
    "question": 1.2,
    "complaint": 0.9,
    "praise": 0.45,
    "purchase": 0.9,
    "reco_brand": 1.3,
    "reco": 1.6,
    "support": 0.35,
    "mention": 0.3,
    "chat": 0.5,
    "offtopic": 0.4,
    "announce": 1.4,
    "campaign": 0.45,
    "campaign_ad": 1.0,
    "campaign_brand": 1.3,
    "crisis": 0.9,
    "quote": 0.35,
}

CHAT_MIX = (("banter", 0.7), ("agree", 0.3))
#: What a reply to a post of each category is.
REPLY_MIX: dict[str, tuple[tuple[str, float], ...]] = {
    "question": (("answer", 0.6), ("recommend", 0.15), ("banter", 0.25)),
    "reco_brand": (("recommend", 0.45), ("answer", 0.3), ("banter", 0.25)),
    "reco": (("recommend", 0.75), ("answer", 0.1), ("banter", 0.15)),
    "complaint": (("empathize", 0.4), ("same", 0.35), ("banter", 0.25)),
    "support": (("empathize", 0.5), ("same", 0.3), ("answer", 0.2)),
    "crisis": (("same", 0.6), ("empathize", 0.3), ("banter", 0.1)),
    "praise": (("agree", 0.6), ("banter", 0.4)),
    "campaign": (("agree", 0.6), ("banter", 0.4)),
    "campaign_ad": (("agree", 0.5), ("question", 0.2), ("banter", 0.3)),
    "purchase": (("advice", 0.7), ("banter", 0.3)),
    "announce": (("question", 0.3), ("praise", 0.3), ("complaint", 0.15), ("agree", 0.25)),
    "campaign_brand": (("praise", 0.4), ("question", 0.25), ("agree", 0.35)),
    "answer": (("thanks", 0.55), ("agree", 0.15), ("banter", 0.3)),
    "recommend": (("thanks", 0.5), ("agree", 0.2), ("banter", 0.3)),
    "advice": (("thanks", 0.55), ("agree", 0.15), ("banter", 0.3)),
    "same": (("same", 0.4), ("empathize", 0.3), ("banter", 0.3)),
    "fu_unhappy": (("same", 0.5), ("empathize", 0.5)),
}

#: How likely a brand team answers a post of each category (times the brand's reply rate).
BRAND_FACTOR: dict[str, float] = {
    "support": 1.0,
    "complaint": 0.85,
    "question": 0.8,
    "crisis": 0.6,
    "purchase": 0.6,
    "reco_brand": 0.5,
    "praise": 0.3,
    "same": 0.3,
    "fu_unhappy": 0.6,
    "campaign": 0.12,
    "campaign_ad": 0.05,
    "mention": 0.04,
}
BRAND_REPLY_CAT: dict[str, str] = {
    "support": "br_support",
    "complaint": "br_complaint",
    "same": "br_complaint",
    "fu_unhappy": "br_complaint",
    "question": "br_question",
    "reco_brand": "br_question",
    "crisis": "br_crisis",
    "purchase": "br_purchase",
    "praise": "br_praise",
    "campaign": "br_praise",
    "campaign_ad": "br_praise",
    "mention": "br_praise",
}
UNHAPPY: dict[str, float] = {
    "complaint": 0.4,
    "same": 0.4,
    "fu_unhappy": 0.5,
    "crisis": 0.45,
    "support": 0.3,
}
#: Chance that a reply at depth d gets a reply in turn.
CHILD_P = (0.0, 0.33, 0.22, 0.13, 0.08, 0.05, 0.0)

#: Shares of root slots that are reshares, quotes and brand announcements.
P_RESHARE, P_QUOTE, P_BRAND_POST = 0.15, 0.05, 0.012
REDDIT = "reddit"
MENTIONING = frozenset(("twitter", "mastodon"))


def cumulative(items: tuple[tuple[str, float], ...]) -> tuple[list[float], list[str]]:
    """Cumulative weights and names of a weighted table, for ``bisect``."""
    return list(accumulate(w for _, w in items)), [c for c, _ in items]


def ground_truth(
    kind: str,
    cat: str,
    brands: list[str],
    community: str,
    campaign: str | None,
    crisis: bool,
) -> dict[str, Any]:
    """What the simulator meant a post to be (``post.raw["simulated"]``): its kind, intent and
    sentiment (from its template category, :data:`CAT_INFO`), brands, community, campaign
    hashtag and whether it belongs to a crisis."""
    intent, sentiment = CAT_INFO[cat]
    return {
        "simulated": {
            "kind": kind,
            "intent": intent,
            "sentiment": sentiment,
            "brands": brands,
            "community": community,
            "campaign": campaign,
            "crisis": crisis,
        }
    }
