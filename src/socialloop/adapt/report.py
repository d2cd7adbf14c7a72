"""The report: every ADAPT section for one scope in one object (``build_report``), as JSON
(``Report.to_dict``) or as one self-contained HTML file (``adapt.report_html``).

The *focus brand* (the ``brand`` argument, else the first own brand, else the first brand) gets
the brand sections (perception gap, alignment, roadmap, touch points, return on experience);
share of voice, volume over time and spikes cover every brand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from socialloop import __version__
from socialloop.adapt.alerts import AlertRecord, alert_settings, list_alerts
from socialloop.adapt.alignment import Alignment, brand_alignment
from socialloop.adapt.metrics import (
    NegativeDrivers,
    ShareOfVoice,
    TimeSeries,
    TopicStat,
    negative_drivers,
    share_of_voice,
    summary,
    timeseries,
    topic_stats,
)
from socialloop.adapt.perception import PerceptionGap, perception_gap
from socialloop.adapt.roadmap import Roadmap, content_roadmap
from socialloop.adapt.rox import ReturnOnExperience, return_on_experience
from socialloop.adapt.scope import Scope, aware, jsonable
from socialloop.adapt.spikes import Spike, detect_spikes
from socialloop.adapt.touchpoints import TouchPoint, touchpoints
from socialloop.models import Brand
from socialloop.workspace import Workspace

SECTIONS = (
    "summary",
    "share_of_voice",
    "timeseries",
    "top_topics",
    "negative_drivers",
    "spikes",
    "perception",
    "alignment",
    "roadmap",
    "touchpoints",
    "rox",
    "alerts",
)


@dataclass(frozen=True, slots=True)
class Report:
    generated_at: datetime
    version: str
    workspace: str
    since: datetime | None
    until: datetime | None
    brand: str | None  # the focus brand
    brands: list[dict[str, Any]]
    summary: dict[str, Any]
    share_of_voice: ShareOfVoice
    timeseries: list[TimeSeries]
    top_topics: list[TopicStat]
    negative_drivers: NegativeDrivers
    spike_rule: str
    spikes: list[Spike]
    perception: PerceptionGap | None
    alignment: Alignment | None
    roadmap: Roadmap
    touchpoints: list[TouchPoint]
    rox: ReturnOnExperience | None
    alerts: list[AlertRecord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (datetimes ISO 8601 UTC)."""
        doc: dict[str, Any] = jsonable(self)
        return doc


def focus_brand(ws: Workspace, name: str | None) -> Brand | None:
    if name:
        return ws.store.get_brand(name)
    brands = ws.store.list_brands()
    own = [b for b in brands if not b.competitor]
    chosen = own or brands
    return chosen[0] if chosen else None


def build_report(
    ws: Workspace,
    *,
    brand: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    unit: str = "day",
    now: datetime | None = None,
) -> Report:
    """Every section for the scope (see the module doc)."""
    focus = focus_brand(ws, brand)
    since, until = aware(since), aware(until)
    scope = Scope(focus, since, until)
    everything = Scope(None, since, until)
    brands = ws.store.list_brands()
    rule = alert_settings(ws.settings).rule
    topics = topic_stats(ws, scope)
    return Report(
        generated_at=aware(now) or datetime.now(UTC),
        version=__version__,
        workspace=ws.settings.name,
        since=since,
        until=until,
        brand=focus.name if focus else None,
        brands=[b.to_dict() for b in brands],
        summary=summary(ws, scope),
        share_of_voice=share_of_voice(ws, everything, brands),
        timeseries=[timeseries(ws, everything.for_brand(b), unit) for b in brands],
        top_topics=topics[:10],
        negative_drivers=negative_drivers(ws, scope),
        spike_rule=rule.describe(),
        spikes=detect_spikes(ws, brands=brands, rule=rule, now=until),
        perception=perception_gap(ws, scope, topics=topics) if focus else None,
        alignment=brand_alignment(ws, scope, topics=topics) if focus else None,
        roadmap=content_roadmap(ws, scope),
        touchpoints=touchpoints(ws, scope),
        rox=return_on_experience(ws, scope) if focus else None,
        alerts=list_alerts(ws, limit=20),
    )
