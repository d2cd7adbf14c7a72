"""``socialloop report``, ``alerts check | list``, ``spikes`` and ``sov``: the ADAPT reports."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import open_workspace, parse_span, parse_when, workspace_option
from socialloop.cli.output import clean


def _dump(doc: object) -> str:
    from socialloop.adapt.scope import jsonable

    return orjson.dumps(jsonable(doc), option=orjson.OPT_INDENT_2).decode()


@click.command("report")
@click.option("--brand", "-b", default=None, help="Focus brand (default: the first own brand).")
@click.option("--since", default=None, help="From this ISO date or datetime (UTC).")
@click.option("--until", default=None, help="Up to this ISO date (inclusive) or datetime.")
@click.option(
    "--unit",
    type=click.Choice(["day", "hour"]),
    default="day",
    show_default=True,
    help="Time bucket of the charts.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write one self-contained HTML file (works offline).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@workspace_option
def report_cmd(
    brand: str | None,
    since: str | None,
    until: str | None,
    unit: str,
    html_path: Path | None,
    as_json: bool,
    workspace: Path | None,
) -> None:
    """Build the report: share of voice, volume / sentiment / emotion over time, topics, what
    drives negative sentiment, spikes, perception gap, brand alignment, content roadmap,
    touch points and return on experience (definitions: docs/reports.md). Write it with
    --html FILE or print it with --json (one of the two)."""
    if (html_path is None) == (not as_json):
        raise click.UsageError("give exactly one of --html FILE or --json")
    from socialloop.adapt.report import build_report

    start, stop = parse_span(since, until)
    with open_workspace(workspace) as ws:
        rep = build_report(ws, brand=brand, since=start, until=stop, unit=unit)
    if as_json:
        click.echo(orjson.dumps(rep.to_dict(), option=orjson.OPT_INDENT_2).decode())
        return
    from socialloop.adapt.report_html import render_html
    from socialloop.errors import ExportError

    assert html_path is not None
    try:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(render_html(rep), encoding="utf-8")
    except OSError as exc:
        raise ExportError(f"cannot write {html_path}: {exc.strerror or exc}") from None
    click.echo(f"Wrote the report for {rep.brand or 'all brands'} to {html_path}")


@click.group("alerts")
def alerts_group() -> None:
    """Spike alerts to webhooks (Slack-compatible) and e-mail, set in [alerts] of
    socialloop.toml (docs/reports.md)."""


@alerts_group.command("check")
@click.option("--dry-run", is_flag=True, help="Say what would be sent; send and store nothing.")
@click.option(
    "--at", "at", default=None, help="Judge the window ending here (default: newest post)."
)
@workspace_option
def alerts_check(dry_run: bool, at: str | None, workspace: Path | None) -> None:
    """Detect spikes and alert each new one once (re-running does not resend)."""
    from socialloop.adapt.alerts import alert_settings, check_alerts

    with open_workspace(workspace) as ws:
        cfg = alert_settings(ws.settings)
        outcomes = check_alerts(ws, dry_run=dry_run, now=parse_when(at, option="--at"), config=cfg)
    if not outcomes:
        click.echo("No spikes: nothing to alert.")
        return
    # where a dry run's alerts would go: the configured channels, or nowhere (only recorded)
    targets = [f"webhook:{urlsplit(u).netloc}" for u in cfg.webhooks]
    targets += ["email"] if cfg.email is not None else []
    planned = ", ".join(targets) or "no channel in [alerts]: it would only be recorded"
    for o in outcomes:
        status = o.status.replace("_", " ")
        channels = ", ".join(
            f"{d.channel} {'ok' if d.ok else 'failed: ' + clean(d.error or '')}"
            for d in o.deliveries
        )
        if o.status == "would_send":
            channels = planned
        line = f"{status:<10} {clean(o.key)}  observed {o.spike.observed} > {o.spike.threshold:g}"
        click.echo(line + (f"  ({channels})" if channels else ""))


@alerts_group.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def alerts_list(limit: int, as_json: bool, workspace: Path | None) -> None:
    """Alerts already sent or recorded, newest first."""
    from socialloop.adapt.alerts import list_alerts

    with open_workspace(workspace) as ws:
        rows = list_alerts(ws, limit=limit)
    if as_json:
        click.echo(_dump(rows))
        return
    if not rows:
        click.echo("No alerts yet. Run `socialloop alerts check`.")
        return
    table = Table()
    for col in ("when (UTC)", "brand", "metric", "observed", "threshold", "status"):
        table.add_column(col)
    for a in rows:
        table.add_row(
            a.created_at.strftime("%Y-%m-%d %H:%M"),
            Text(clean(a.brand)),
            Text(a.metric),
            str(a.observed),
            f"{a.threshold:g}",
            a.status,
        )
    Console(highlight=False).print(table)


@click.command("spikes")
@click.option("--brand", "-b", "brands", multiple=True, help="Only this brand (repeatable).")
@click.option(
    "--at", "at", default=None, help="Judge the window ending here (default: newest post)."
)
@click.option("--all", "show_all", is_flag=True, help="Every series judged, not only spikes.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_option
def spikes_cmd(
    brands: tuple[str, ...], at: str | None, show_all: bool, as_json: bool, workspace: Path | None
) -> None:
    """Spikes per brand, sentiment and topic with the rule of [alerts] in socialloop.toml."""
    from socialloop.adapt.alerts import alert_settings
    from socialloop.adapt.spikes import detect_spikes

    with open_workspace(workspace) as ws:
        rule = alert_settings(ws.settings).rule
        chosen = [ws.store.get_brand(b) for b in brands] if brands else None
        found = detect_spikes(
            ws,
            brands=chosen,
            rule=rule,
            now=parse_when(at, option="--at"),
            only_spikes=not show_all,
        )
    if as_json:
        click.echo(_dump({"rule": rule.describe(), "spikes": found}))
        return
    click.echo(f"Rule: {rule.describe()}")
    if not found:
        click.echo("No spikes.")
    for s in found:
        mark = "SPIKE" if s.is_spike else "     "
        click.echo(f"{mark} {clean(s.explanation)}")


@click.command("sov")
@click.option("--since", default=None, help="From this ISO date or datetime (UTC).")
@click.option("--until", default=None, help="Up to this ISO date (inclusive) or datetime.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_option
def sov_cmd(since: str | None, until: str | None, as_json: bool, workspace: Path | None) -> None:
    """Share of voice of every brand: by mentions, by engagement and by positive mentions."""
    from socialloop.adapt.metrics import share_of_voice
    from socialloop.adapt.scope import Scope

    with open_workspace(workspace) as ws:
        sov = share_of_voice(ws, Scope(None, *parse_span(since, until)))
    if as_json:
        click.echo(_dump(sov))
        return
    if not sov.brands:
        click.echo("No brands yet. Add one with `socialloop brand add NAME --query QUERY`.")
        return
    table = Table()
    for col in ("brand", "mentions", "share", "engagement", "share", "positive", "share"):
        table.add_column(col, justify="left" if col == "brand" else "right")
    for v in sov.brands:
        table.add_row(
            Text(clean(v.brand) + (" (competitor)" if v.competitor else "")),
            f"{v.mentions:,}",
            f"{v.mentions_share:.1%}",
            f"{v.engagement:,}",
            f"{v.engagement_share:.1%}",
            f"{v.positive:,}",
            f"{v.positive_share:.1%}",
        )
    Console(highlight=False).print(table)
