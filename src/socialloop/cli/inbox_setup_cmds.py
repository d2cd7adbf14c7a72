"""``socialloop saved-reply``, ``sla`` and ``agent``: setting the inbox up (saved replies,
SLA policies, the team's agents). The actor is taken as in ``inbox_cmds``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.text import Text

from socialloop.cli.app import open_workspace, workspace_option
from socialloop.cli.inbox_cmds import _console, _json, actor_option, who
from socialloop.cli.output import clean
from socialloop.engage.inbox import Inbox
from socialloop.engage.replies import Replies

# -- saved replies, SLA, agents ---------------------------------------------------------------


@click.group("saved-reply")
def saved_reply_group() -> None:
    """Saved replies with {variables}: {author}, {handle}, {brand}, {agent}, {network}, {url},
    {post_id}."""


@saved_reply_group.command("add")
@click.argument("name")
@click.argument("text")
@click.option("--lang", default="en", show_default=True, help="The reply's language (ISO 639-1).")
@click.option("--replace", is_flag=True, help="Replace the saved reply of that name and language.")
@actor_option
@workspace_option
def saved_reply_add(
    name: str, text: str, lang: str, replace: bool, actor: str | None, workspace: Path | None
) -> None:
    """Save reply NAME (one text per language)."""
    with open_workspace(workspace) as ws:
        saved = Replies(Inbox(ws)).save(name, text, lang=lang, actor=who(actor), replace=replace)
        click.echo(f"Saved reply {saved.name!r} ({saved.lang}).")


@saved_reply_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def saved_reply_list(as_json: bool, workspace: Path | None) -> None:
    """List saved replies."""
    with open_workspace(workspace) as ws:
        found = Replies(Inbox(ws)).saved()
        if as_json:
            _json([s.to_dict() for s in found])
            return
        for s in found:
            _console().print(Text(f"{s.name} ({s.lang}): {clean(s.text)}"))


@click.group("sla")
def sla_group() -> None:
    """SLA policies: business hours, time zone and first-response targets."""


@sla_group.command("set")
@click.option("--brand", default=None, help="The brand's own policy [default: the default policy].")
@click.option("--timezone", "tz", default=None, help="IANA time zone, e.g. Europe/Helsinki.")
@click.option("--hours", default=None, help="'mon-fri 09:00-17:00, sat 10:00-14:00' or '24/7'.")
@click.option(
    "--target", "targets", multiple=True, help="KEY=DURATION: high=1h, question=4h (repeatable)."
)
@click.option(
    "--at-risk", type=float, default=None, help="At risk when this fraction of the target is left."
)
@actor_option
@workspace_option
def sla_set(
    brand: str | None,
    tz: str | None,
    hours: str | None,
    targets: tuple[str, ...],
    at_risk: float | None,
    actor: str | None,
    workspace: Path | None,
) -> None:
    """Create or change an SLA policy; open items get new due times."""
    from dataclasses import replace

    from socialloop.engage import sla

    with open_workspace(workspace) as ws:
        name = ws.store.get_brand(brand).name if brand else "default"
        current = {p.name: p for p in sla.list_policies(ws.store)}.get(name, sla.SlaPolicy(name))
        changes: dict[str, Any] = {}
        if tz is not None:
            changes["timezone"] = sla.check_timezone(tz)
        if hours is not None:
            changes["hours"] = sla.parse_hours(hours)
        if targets:
            changes["targets"] = {**current.targets, **dict(sla.parse_target(t) for t in targets)}
        if at_risk is not None:
            changes["at_risk"] = at_risk
        policy = replace(current, **changes)
        inbox = Inbox(ws)
        sla.save_policy(ws.store, policy, inbox.clock())
        changed = inbox.refresh_due(actor=who(actor))
        click.echo(f"SLA policy {name!r} saved; {changed} open items got new due times.")


@sla_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def sla_show(as_json: bool, workspace: Path | None) -> None:
    """Show the SLA policies (the built-in one when none is set)."""
    from socialloop.engage import sla

    with open_workspace(workspace) as ws:
        policies = sla.list_policies(ws.store) or [sla.BUILTIN]
        if as_json:
            _json([p.to_dict() for p in policies])
            return
        for p in policies:
            d = p.to_dict()
            hours = ", ".join(f"{k} {v}" for k, v in d["hours"].items()) or "24/7"
            targets = ", ".join(f"{k}={v}min" for k, v in d["targets"].items())
            _console().print(
                Text(f"{p.name}: {p.timezone}; {hours}; {targets}; at risk <= {p.at_risk:.0%}")
            )


@click.group("agent")
def agent_group() -> None:
    """The team's agents: languages, skills, capacity and role."""


@agent_group.command("add")
@click.argument("name")
@click.option("--languages", default="", help="Comma-separated ISO 639-1 codes [default: any].")
@click.option("--skills", default="", help="Comma-separated intents, topics or tags it handles.")
@click.option(
    "--capacity", type=int, default=20, show_default=True, help="Most open items at once."
)
@click.option(
    "--role", type=click.Choice(["agent", "approver"]), default="agent", show_default=True
)
@click.option("--needs-approval", is_flag=True, help="Its replies wait for an approver.")
@actor_option
@workspace_option
def agent_add(
    name: str,
    languages: str,
    skills: str,
    capacity: int,
    role: str,
    needs_approval: bool,
    actor: str | None,
    workspace: Path | None,
) -> None:
    """Add agent NAME."""
    from socialloop.engage.agents import add_agent

    with open_workspace(workspace) as ws:
        agent = add_agent(
            ws.store,
            name,
            languages=[languages],
            skills=[skills],
            capacity=capacity,
            role=role,
            needs_approval=needs_approval,
            actor=who(actor),
            now=Inbox(ws).clock(),
        )
        click.echo(f"Added {agent.role} {agent.name!r} (capacity {agent.capacity}).")


@agent_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def agent_list(as_json: bool, workspace: Path | None) -> None:
    """List agents with their open items."""
    from socialloop.engage.agents import list_agents

    with open_workspace(workspace) as ws:
        found = list_agents(ws.store)
        if as_json:
            _json([a.to_dict() for a in found])
            return
        if not found:
            click.echo("No agents yet. Add one with `socialloop agent add NAME`.")
        for a in found:
            langs = ",".join(a.languages) or "any"
            skills = ",".join(a.skills) or "-"
            _console().print(
                Text(
                    f"{a.name} [{a.role}] {a.load}/{a.capacity} open; "
                    f"languages {langs}; skills {skills}"
                )
            )
