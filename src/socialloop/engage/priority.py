"""The priority of an inbox item: an explainable sum of five components (0..100 in all).

    priority = intent + urgency + influence + sentiment + waiting

* intent (0..30): the weight of the item's weightiest intent (``INTENT_WEIGHTS``);
* urgency (0..20): 10 when the post is inside a negative spike of the brand, plus 10 when its
  text has an urgency cue (``URGENT``: "urgent", "asap", "still", "refund", "cancel", ...);
* influence (0..20): 20 x the author's influence (0..1);
* sentiment (0..15): 15 x the probability of negative sentiment toward the brand when it is
  negative, 5 when neutral, 0 when positive or unknown;
* waiting (0..15): grows linearly from 0 to 15 over the first 24 hours since the post was
  written, computed when the inbox is read (it is not stored).

Each component is kept with the item, so the inbox can show why an item sits where it does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

INTENT_WEIGHTS: Mapping[str, float] = {
    "complaint": 30.0,
    "support_request": 30.0,
    "question": 25.0,
    "purchase_intent": 25.0,
    "recommendation_request": 20.0,
    "praise": 5.0,
}
URGENT = re.compile(
    r"\b(urgent|urgently|asap|immediately|right now|emergency|still (?:not|no|waiting)|"
    r"refund|cancel(?:led|ing)?|broken|outage|scam|lawyer)\b",
    re.IGNORECASE,
)
WAITING_MAX = 15.0
WAITING_FULL_HOURS = 24.0
HIGH = 60.0
MEDIUM = 35.0


@dataclass(frozen=True, slots=True)
class Signals:
    """What the priority is computed from."""

    intents: Sequence[str]
    text: str
    influence: float
    sentiment: str | None
    sentiment_score: float | None
    in_spike: bool


def base_components(s: Signals) -> dict[str, float]:
    """The stored components (all but ``waiting``), rounded to 0.1."""
    intent = max((INTENT_WEIGHTS.get(i, 0.0) for i in s.intents), default=0.0)
    urgency = (10.0 if s.in_spike else 0.0) + (10.0 if URGENT.search(s.text) else 0.0)
    influence = 20.0 * min(1.0, max(0.0, s.influence))
    if s.sentiment == "negative":
        sentiment = 15.0 * (s.sentiment_score if s.sentiment_score is not None else 1.0)
    elif s.sentiment == "neutral":
        sentiment = 5.0
    else:
        sentiment = 0.0
    return {
        "intent": round(intent, 1),
        "urgency": round(urgency, 1),
        "influence": round(influence, 1),
        "sentiment": round(sentiment, 1),
    }


def waiting(posted_at: datetime, now: datetime) -> float:
    """The waiting component: 0 at posting, 15 after 24 hours and later."""
    hours = max(0.0, (now - posted_at).total_seconds() / 3600.0)
    return round(min(WAITING_MAX, WAITING_MAX * hours / WAITING_FULL_HOURS), 1)


def total(components: Mapping[str, float]) -> float:
    return round(sum(components.values()), 1)


def with_waiting(
    components: Mapping[str, float], posted_at: datetime, now: datetime
) -> dict[str, float]:
    """The stored components plus the waiting time at ``now``."""
    return {**components, "waiting": waiting(posted_at, now)}


def band(priority: float) -> str:
    """``high`` (>= 60), ``medium`` (>= 35) or ``low``: what SLA targets are set per."""
    if priority >= HIGH:
        return "high"
    if priority >= MEDIUM:
        return "medium"
    return "low"
