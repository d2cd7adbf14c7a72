"""When posts happen: an hourly intensity over the simulated period.

The intensity is the sum of a base rhythm (quiet nights, a morning and an evening peak, calmer
weekends, a little day-to-day noise), campaign bumps and crisis bursts. ``n`` post times are
drawn from it already sorted and without storing them: the order statistics of ``n`` uniform
numbers are generated one after the other (``y <- y * u ** (1 / remaining)``) and mapped
through the intensity's cumulative distribution. The stream is therefore in ``created_at``
order, which a live stream would be too.

Times are float seconds since the epoch (UTC) throughout; the generator turns them into
datetimes once per post.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import NormalDist

from socialloop.simulate.market import Market

#: The default end of the simulated period; ``start`` defaults to ``days`` before it.
DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)

#: Relative activity per UTC hour (audience mostly in Europe).
HOURLY: tuple[float, ...] = (
    0.22, 0.14, 0.09, 0.07, 0.08, 0.16, 0.38, 0.72, 0.98, 1.0, 0.9, 0.88,
    0.98, 0.92, 0.82, 0.8, 0.86, 0.96, 1.05, 1.1, 1.02, 0.86, 0.62, 0.38,
)  # fmt: skip

#: Component kinds of an hour's intensity.
BASE, CAMPAIGN, CRISIS = 0, 1, 2


@dataclass(frozen=True)
class Special:
    """A campaign or crisis share of one hour: pick it when ``u < threshold``."""

    threshold: float
    kind: int
    index: int


class Timeline:
    """The hourly intensity of one run and the components (campaign, crisis) of each hour."""

    def __init__(self, start_ts: float, days: int, market: Market, rng: random.Random) -> None:
        self.start_ts = start_ts
        self.hours = hours = max(1, days * 24)
        start_day = int(start_ts // 86400)
        base = [0.0] * hours
        day_factor = 1.0
        for h in range(hours):
            if h % 24 == 0:
                weekday = (start_day + h // 24 + 3) % 7  # 1970-01-01 was a Thursday
                day_factor = (0.82 if weekday >= 5 else 1.0) * (0.88 + 0.24 * rng.random())
            base[h] = HOURLY[(int(start_ts // 3600) + h) % 24] * day_factor
        mean_day = sum(base) / (hours / 24.0)
        comps: list[list[tuple[int, int, float]]] = [[] for _ in range(hours)]
        hourly_sum = sum(HOURLY)
        for ci, camp in enumerate(market.campaigns):
            first = int(camp.start_frac * days) * 24
            for h in range(first, min(hours, first + camp.days * 24)):
                share = HOURLY[(int(start_ts // 3600) + h) % 24] / hourly_sum
                comps[h].append((CAMPAIGN, ci, camp.weight * mean_day * share))
        for ki, crisis in enumerate(market.crises):
            onset = int(crisis.start_frac * days) * 24 + crisis.onset_hour
            shape = []
            for k in range(72):
                ramp = (k + 1) / 3.0 if k < 2 else math.exp(-(k - 2) / crisis.decay_hours)
                shape.append(ramp)
            total = sum(shape)
            for k, s in enumerate(shape):
                h = onset + k
                if 0 <= h < hours:
                    comps[h].append((CRISIS, ki, crisis.weight * mean_day * s / total))
        self.weight = weight = [0.0] * hours
        self.special: list[tuple[Special, ...]] = [()] * hours
        for h in range(hours):
            extra = sum(w for _, _, w in comps[h])
            weight[h] = total_h = base[h] + extra
            if comps[h]:
                acc = 0.0
                items = []
                for kind, index, w in comps[h]:
                    acc += w / total_h
                    items.append(Special(acc, kind, index))
                self.special[h] = tuple(items)
        self.cum = cum = [0.0] * (hours + 1)
        for h in range(hours):
            cum[h + 1] = cum[h] + weight[h]
        self.total = cum[hours]


def weekday_of(ts: float) -> int:
    """Monday = 0 ... Sunday = 6 of a UTC timestamp."""
    return (int(ts // 86400) + 3) % 7


def answer_time(
    ts: float,
    delay_s: float,
    hours: tuple[int, int],
    weekend: bool,
    rng: random.Random,
) -> float:
    """When a brand team answers a post of ``ts`` after a working delay of ``delay_s``.

    Answers that would fall outside business hours (UTC ``hours``) mostly wait for the next
    opening, plus a short queue; a few come from an on-call agent. Teams without weekend
    support wait for Monday.
    """
    due = ts + delay_s
    open_h, close_h = hours
    hour = (due % 86400) / 3600.0
    off_day = not weekend and weekday_of(due) >= 5
    if (off_day or hour < open_h or hour >= close_h) and rng.random() < 0.85:
        day_start = due - (due % 86400)
        nxt = day_start + open_h * 3600.0
        if hour >= open_h:
            nxt += 86400.0
        if not weekend:
            while weekday_of(nxt) >= 5:
                nxt += 86400.0
        due = nxt + rng.expovariate(1.0 / 2400.0)
    return due


#: Resolution of the delay tables: delays are drawn as one of this many quantiles.
QUANTILES = 4096


def lognormal_table(
    mu: float, sigma: float, *, scale: float = 1.0, offset: float = 0.0, cap: float = math.inf
) -> list[float]:
    """``QUANTILES`` evenly spaced quantiles of ``offset + scale * exp(mu + sigma * Z)``: a
    delay distribution drawn from with one random index (reply and answer delays)."""
    normal = NormalDist()
    return [
        min(offset + scale * math.exp(mu + sigma * normal.inv_cdf((i + 0.5) / QUANTILES)), cap)
        for i in range(QUANTILES)
    ]
