"""``socialloop inbox ...``: the team's inbox (``inbox_setup_cmds`` has ``saved-reply``,
``sla`` and ``agent``).

The actor written to the audit log is ``--as NAME``, else the ``SOCIALLOOP_USER`` variable, else
the operating-system user. Post text is hostile: it is printed as ``rich.text.Text`` (no
markup) with control characters replaced.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import open_workspace, parse_span, workspace_option
from socialloop.cli.output import clean
from socialloop.engage.inbox import STATUSES, Inbox, Item
from socialloop.engage.replies import Replies

F = TypeVar("F", bound=Callable[..., Any])


def actor_option(func: F) -> F:
    return click.option(
        "--as",
        "actor",
        default=None,
        help="Who acts (an agent's name) [env SOCIALLOOP_USER; default: the OS user].",
    )(func)


def who(actor: str | None) -> str:
    if actor:
        return actor
    env = os.environ.get("SOCIALLOOP_USER")
    if env:
        return env
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _json(doc: Any) -> None:
    click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())


def _console() -> Console:
    return Console(highlight=False, soft_wrap=False)


def _when(dt: Any) -> str:
    return dt.strftime("%Y-%m-%d %H:%M") if dt is not None else "-"


# -- inbox ------------------------------------------------------------------------------------


@click.group("inbox")
def inbox_group() -> None:
    """Work the inbox: triage, assign, reply, resolve; SLA views and response stats."""


@inbox_group.command("list")
@click.option("--brand", default=None, help="Only this brand's items.")
@click.option(
    "--status",
    type=click.Choice([*STATUSES, "all"]),
    default=None,
    help="Only items in this status [default: new, assigned and replied].",
)
@click.option("--assignee", default=None, help="Only items assigned to this agent.")
@click.option("--at-risk", "sla_state", flag_value="at_risk", help="Only items at risk of the SLA.")
@click.option("--breached", "sla_state", flag_value="breached", help="Only items past due.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many items.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def inbox_list(
    brand: str | None,
    status: str | None,
    assignee: str | None,
    sla_state: str | None,
    limit: int | None,
    as_json: bool,
    workspace: Path | None,
) -> None:
    """List inbox items, highest priority first."""
    with open_workspace(workspace) as ws:
        inbox = Inbox(ws)  # unknown brand or agent names are errors, not an empty list
        items = inbox.list_items(
            brand=brand, status=status, assignee=assignee, sla_state=sla_state, limit=limit
        )
        if as_json:
            _json([i.to_dict() for i in items])
            return
        if not items:
            if brand or status or assignee or sla_state or not inbox.is_empty():
                hint = " (`--status all` also lists resolved and dismissed ones)"
                click.echo("No inbox items match" + (hint if status is None else "") + ".")
            else:
                click.echo("The inbox is empty. Bring posts in and run `socialloop inbox triage`.")
            return
        console = _console()
        console.print(f"{len(items)} items, highest priority first (details: inbox show ID)")
        for i in items:
            head = Text(f"#{i.id:<5} {i.priority:5.1f}  {i.status:<9} {i.sla:<9} ", style="bold")
            head.append(Text(f"{i.brand}  {i.assignee or 'unassigned'}  {i.network}  "))
            head.append(Text(", ".join(i.reasons), style="cyan"))
            console.print(head, overflow="fold")
            post = f"@{clean(i.author_handle or '?')}: {clean(i.text)}"
            console.print(Text("       " + post), overflow="ellipsis", no_wrap=True)


def _show(item: Item, inbox: Inbox, replies: Replies) -> None:
    from socialloop.engage.audit import entries

    console = _console()
    console.print(Text(f"Item {item.id}  [{item.status}]  {item.brand}  {item.post_id}", "bold"))
    console.print(
        Text(f"@{clean(item.author_handle or '?')} on {item.network}, {_when(item.posted_at)} UTC")
    )
    console.print(Text(clean(item.text, single_line=False)))
    if item.url:
        console.print(Text(f"link: {item.url}"))
    parts = " + ".join(f"{k} {v:g}" for k, v in item.components.items())
    console.print(Text(f"priority {item.priority:g} = {parts}"))
    console.print(
        Text(f"reasons: {', '.join(item.reasons)}; intents: {', '.join(item.intents) or '-'}")
    )
    console.print(
        Text(
            f"SLA: {item.sla}, due {_when(item.due_at)} UTC "
            f"(target {item.target_minutes} business min)"
        )
    )
    console.print(
        Text(
            f"assignee: {item.assignee or '-'}; tags: {', '.join(item.tags) or '-'}; "
            f"lang: {item.lang or '-'}"
        )
    )
    if item.claimed_by:
        console.print(
            Text(f"claimed by {item.claimed_by} until {_when(item.claim_expires_at)} UTC")
        )
    for n in inbox.notes(item.id):
        console.print(Text(f"note {_when(n.at)} {n.author}: {clean(n.text)}"))
    for r in replies.of_item(item.id):
        where = f" -> {r.published_url or r.published_id}" if r.published_id else ""
        console.print(Text(f"reply {r.id} [{r.status}] by {r.agent}: {clean(r.text)}{where}"))
    for e in entries(inbox.store, item_id=item.id):
        console.print(Text(f"  {_when(e.at)} {e.actor} {e.action}", style="dim"))


@inbox_group.command("show")
@click.argument("item_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (item, notes, replies, log).")
@workspace_option
def inbox_show(item_id: int, as_json: bool, workspace: Path | None) -> None:
    """Show item ITEM_ID: the post, why it is here, its priority, SLA, notes, replies, log."""
    from socialloop.engage.audit import entries

    with open_workspace(workspace) as ws:
        inbox = Inbox(ws)
        replies = Replies(inbox)
        item = inbox.get(item_id)
        if as_json:
            _json(
                {
                    **item.to_dict(),
                    "notes": [
                        {"author": n.author, "text": n.text, "at": n.at.isoformat()}
                        for n in inbox.notes(item_id)
                    ],
                    "replies": [r.to_dict() for r in replies.of_item(item_id)],
                    "log": [e.to_dict() for e in entries(ws.store, item_id=item_id)],
                }
            )
            return
        _show(item, inbox, replies)


@inbox_group.command("triage")
@click.option(
    "--again", is_flag=True, help="Triage every enriched post again (after rule changes)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@workspace_option
def inbox_triage(again: bool, as_json: bool, workspace: Path | None) -> None:
    """Let enriched posts into the inbox by the [inbox] rules (new posts only by default)."""
    from socialloop.engage.triage import triage_posts

    with open_workspace(workspace) as ws:
        result = triage_posts(ws, None, again=again)
        if as_json:
            _json(result.to_dict())
            return
        click.echo(
            f"Triaged {result.examined:,} posts: {result.added:,} new items, "
            f"{result.updated:,} with new reasons ({result.own_posts:,} own posts skipped); "
            f"{result.answered_outside:,} items answered on the network by the brand."
        )
        for reason, n in result.reasons.most_common():
            click.echo(f"  {reason}: {n:,}")


@inbox_group.command("assign")
@click.argument("item_id", type=int, required=False)
@click.option("--to", "agent", default=None, help="The agent to assign to.")
@click.option("--auto", is_flag=True, help="Pick by language, skill, capacity and round-robin.")
@actor_option
@workspace_option
def inbox_assign(
    item_id: int | None, agent: str | None, auto: bool, actor: str | None, workspace: Path | None
) -> None:
    """Assign ITEM_ID to an agent (--to) or automatically (--auto); --auto without ITEM_ID
    assigns every new item while agents have room."""
    if (agent is None) == (not auto):
        raise click.UsageError("give either --to AGENT or --auto")
    with open_workspace(workspace) as ws:
        inbox = Inbox(ws)
        if item_id is None:
            if not auto:
                raise click.UsageError("give ITEM_ID (or --auto to assign every new item)")
            done = inbox.auto_assign(actor=who(actor))
            click.echo(f"Assigned {len(done)} item{'s' if len(done) != 1 else ''}.")
            for iid, name in done:
                click.echo(Text(f"  {iid} -> {name}").plain)
            return
        item, how = inbox.assign(item_id, agent, actor=who(actor))
        click.echo(f"Item {item.id} assigned to {item.assignee} ({how}).")


@inbox_group.command("note")
@click.argument("item_id", type=int)
@click.argument("text")
@actor_option
@workspace_option
def inbox_note(item_id: int, text: str, actor: str | None, workspace: Path | None) -> None:
    """Add an internal note (never published) to ITEM_ID."""
    with open_workspace(workspace) as ws:
        Inbox(ws).note(item_id, text, actor=who(actor))
        click.echo(f"Note added to item {item_id}.")


@inbox_group.command("tag")
@click.argument("item_id", type=int)
@click.argument("tags", nargs=-1)
@click.option("--remove", multiple=True, help="A tag to take off (repeatable).")
@actor_option
@workspace_option
def inbox_tag(
    item_id: int,
    tags: tuple[str, ...],
    remove: tuple[str, ...],
    actor: str | None,
    workspace: Path | None,
) -> None:
    """Tag ITEM_ID with TAGS (tags also count as skills for automatic assignment)."""
    with open_workspace(workspace) as ws:
        now = Inbox(ws).tag(item_id, add=tags, remove=remove, actor=who(actor))
        click.echo(f"Item {item_id} tags: {', '.join(now) or '-'}")


@inbox_group.command("claim")
@click.argument("item_id", type=int)
@click.option("--release", is_flag=True, help="Give the claim up.")
@actor_option
@workspace_option
def inbox_claim(item_id: int, release: bool, actor: str | None, workspace: Path | None) -> None:
    """Claim ITEM_ID while answering it (other agents cannot reply meanwhile)."""
    with open_workspace(workspace) as ws:
        inbox = Inbox(ws)
        if release:
            inbox.release(item_id, actor=who(actor))
            click.echo(f"Item {item_id} released.")
            return
        item = inbox.claim(item_id, who(actor))
        click.echo(
            f"Item {item_id} claimed by {item.claimed_by} until {_when(item.claim_expires_at)} UTC."
        )


def _vars(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for v in values:
        key, sep, val = v.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{v!r} is not NAME=VALUE", param_hint="--var")
        out[key.strip()] = val
    return out


@inbox_group.command("reply")
@click.argument("item_id", type=int)
@click.option("--text", default=None, help="The reply text.")
@click.option(
    "--saved", default=None, help="A saved reply's name (filled with the item's variables)."
)
@click.option(
    "--var", "variables", multiple=True, help="NAME=VALUE for the saved reply (repeatable)."
)
@click.option(
    "--llm",
    "use_llm",
    is_flag=True,
    help="Also ask the OpenAI-compatible endpoint of [engage.llm] for a draft (prints it).",
)
@actor_option
@workspace_option
def inbox_reply(
    item_id: int,
    text: str | None,
    saved: str | None,
    variables: tuple[str, ...],
    use_llm: bool,
    actor: str | None,
    workspace: Path | None,
) -> None:
    """Draft a reply to ITEM_ID (claims the item); send it with `inbox send REPLY_ID`.
    Without --text or --saved, print the saved replies that fit best (and, with --llm, a
    draft from the configured language model)."""
    with open_workspace(workspace) as ws:
        replies = Replies(Inbox(ws))
        if use_llm:
            drafted = replies.draft_with_llm(item_id)
            if drafted is None:
                click.echo(
                    "No language model is configured: set [engage.llm] enabled = true, "
                    "base_url and model in socialloop.toml (see docs/publishing.md).",
                    err=True,
                )
                sys.exit(1)
            _console().print(Text(f"Suggested: {clean(drafted)}"))
            click.echo("Use it (edited as needed) with --text.")
            if text is None and saved is None:
                return
        if text is None and saved is None:
            ranked = replies.suggest(item_id)
            if not ranked:
                click.echo("No saved replies yet; add one with `socialloop saved-reply add`.")
            for s, score in ranked:
                _console().print(Text(f"{score:+.2f}  {s.name} ({s.lang}): {clean(s.text)}"))
            return
        reply = replies.draft(
            item_id, agent=who(actor), text=text, saved=saved, extra=_vars(variables)
        )
        _console().print(Text(f"Reply {reply.id} [{reply.status}]: {clean(reply.text)}"))
        nxt = f"inbox approve {reply.id}" if reply.status == "pending" else f"inbox send {reply.id}"
        click.echo(f"Next: socialloop {nxt}")


@inbox_group.command("approve")
@click.argument("reply_id", type=int)
@actor_option
@workspace_option
def inbox_approve(reply_id: int, actor: str | None, workspace: Path | None) -> None:
    """Approve reply REPLY_ID (approvers only)."""
    with open_workspace(workspace) as ws:
        reply = Replies(Inbox(ws)).approve(reply_id, approver=who(actor))
        click.echo(f"Reply {reply.id} approved by {reply.approved_by}.")


@inbox_group.command("send")
@click.argument("reply_id", type=int)
@click.option("--dry-run", is_flag=True, help="Check and build the request; send nothing.")
@workspace_option
def inbox_send(reply_id: int, dry_run: bool, workspace: Path | None) -> None:
    """Publish reply REPLY_ID to its network (Mastodon, Bluesky), or record it to be posted
    by hand where the network has no reply API."""
    with open_workspace(workspace) as ws:
        res = Replies(Inbox(ws)).send(reply_id, dry_run=dry_run)
        if res.dry_run:
            how = "by hand at " + (res.link or "the post") if res.manual else "through the API"
            click.echo(f"Dry run: reply {reply_id} would be posted {how}; nothing was sent.")
        elif res.manual:
            click.echo(f"Reply {reply_id} recorded. Post it yourself at: {res.link or '(no link)'}")
        else:
            click.echo(
                f"Reply {reply_id} sent: {res.reply.published_url or res.reply.published_id}"
            )


@inbox_group.command("resolve")
@click.argument("item_id", type=int)
@actor_option
@workspace_option
def inbox_resolve(item_id: int, actor: str | None, workspace: Path | None) -> None:
    """Mark ITEM_ID resolved."""
    with open_workspace(workspace) as ws:
        Inbox(ws).resolve(item_id, actor=who(actor))
        click.echo(f"Item {item_id} resolved.")


@inbox_group.command("dismiss")
@click.argument("item_id", type=int)
@click.option("--reason", default=None, help="Why (kept in the audit log).")
@actor_option
@workspace_option
def inbox_dismiss(
    item_id: int, reason: str | None, actor: str | None, workspace: Path | None
) -> None:
    """Dismiss ITEM_ID (needs no answer)."""
    with open_workspace(workspace) as ws:
        Inbox(ws).dismiss(item_id, actor=who(actor), reason=reason)
        click.echo(f"Item {item_id} dismissed.")


@inbox_group.command("log")
@click.argument("item_id", type=int, required=False)
@click.option(
    "--limit", type=click.IntRange(min=1), default=None, help="Only the newest N entries."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def inbox_log(
    item_id: int | None, limit: int | None, as_json: bool, workspace: Path | None
) -> None:
    """The audit log (of ITEM_ID, or all), oldest first: who did what, when."""
    from socialloop.engage.audit import entries

    with open_workspace(workspace) as ws:
        found = entries(ws.store, item_id=item_id, limit=limit)
        if as_json:
            _json([e.to_dict() for e in found])
            return
        for e in found:
            details = orjson.dumps(e.details).decode()
            item = f" item={e.item_id}" if e.item_id is not None else ""
            _console().print(Text(f"{e.at.isoformat()} {e.actor} {e.action}{item} {details}"))


@inbox_group.command("stats")
@click.option("--brand", default=None, help="Only this brand's items.")
@click.option("--since", default=None, help="Posts from this ISO date or datetime (UTC).")
@click.option("--until", default=None, help="Up to this ISO date (inclusive) or datetime.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_option
def inbox_stats(
    brand: str | None, since: str | None, until: str | None, as_json: bool, workspace: Path | None
) -> None:
    """The team's response times and rates by brand, agent, channel and intent."""
    from socialloop.engage.analytics import DIMENSIONS, response_stats

    start, stop = parse_span(since, until)
    with open_workspace(workspace) as ws:
        stats = response_stats(ws.store, brand=brand, since=start, until=stop)
        if as_json:
            _json(stats)
            return
        console = _console()
        for dim in ("overall", *DIMENSIONS):
            rows = [stats["overall"]] if dim == "overall" else stats[f"by_{dim}"]
            table = Table(title=dim, title_justify="left")
            for col in (
                "key",
                "items",
                "responded",
                "rate",
                "median 1st resp",
                "resolved",
                "median resolution",
            ):
                table.add_column(col, justify="left" if col == "key" else "right")
            for g in rows:
                table.add_row(
                    Text(g["key"]),
                    str(g["items"]),
                    str(g["responded"]),
                    "-" if g["response_rate"] is None else f"{g['response_rate']:.0%}",
                    _dur(g["median_first_response_s"]),
                    str(g["resolved"]),
                    _dur(g["median_resolution_s"]),
                )
            console.print(table)
        click.echo(f"dismissed (not counted): {stats['dismissed']}")


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


@inbox_group.group("rules", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_option
@click.pass_context
def inbox_rules(ctx: click.Context, as_json: bool, workspace: Path | None) -> None:
    """Show the triage and workflow rules ([inbox] in socialloop.toml)."""
    if ctx.invoked_subcommand is not None:
        return
    from socialloop.engage.rules import RULE_DOCS, load_rules

    with open_workspace(workspace) as ws:
        rules = load_rules(ws.settings).to_dict()
        if as_json:
            _json(rules)
            return
        for key, doc in RULE_DOCS.items():
            click.echo(f"{key} = {orjson.dumps(rules[key]).decode()}")
            click.echo(f"    {doc}")


@inbox_rules.command("set")
@click.argument("key")
@click.argument("value")
@workspace_option
def inbox_rules_set(key: str, value: str, workspace: Path | None) -> None:
    """Set rule KEY to VALUE in socialloop.toml (lists: comma-separated, e.g. question,complaint).
    Run `socialloop inbox triage --again` to apply new entry rules to stored posts."""
    from socialloop.engage.rules import parse_rules, parse_value, write_rules
    from socialloop.errors import ConfigError

    with open_workspace(workspace) as ws:
        try:
            parsed = parse_value(key, value)
            parse_rules({key: parsed})
        except ConfigError as exc:  # the value given here, not socialloop.toml, is wrong
            raise click.BadParameter(
                f"{exc} (see `socialloop inbox rules` for the keys and their values)",
                param_hint="KEY VALUE",
            ) from None
        rules = write_rules(ws.settings, {key: parsed})
        click.echo(f"{key} = {orjson.dumps(rules.to_dict()[key]).decode()}")
