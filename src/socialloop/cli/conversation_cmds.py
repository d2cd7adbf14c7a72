"""``socialloop thread``, ``socialloop responsetimes`` and ``socialloop advocates``.

Post text and author names are hostile input: they are printed as ``rich.text.Text`` (never
parsed as markup) with control characters replaced.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from socialloop.cli.app import open_workspace, parse_when, workspace_option
from socialloop.cli.output import clean

if TYPE_CHECKING:
    from socialloop.conversations import Thread, ThreadNode


def duration(seconds: float | None) -> str:
    """A delay for people: ``45s``, ``12m 05s``, ``3h 07m``, ``2d 04h``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"


def _dump(doc: object) -> None:
    click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())


@click.command("thread")
@click.argument("post_id")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Also count this account's answers: HANDLE or NETWORK:HANDLE (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the thread as JSON.")
@workspace_option
def thread_cmd(
    post_id: str, accounts: tuple[str, ...], as_json: bool, workspace: Path | None
) -> None:
    """Show the whole conversation POST_ID belongs to, as a reply tree.

    Replies by a brand's own accounts (and by company accounts a dataset marks, e.g. TWCS)
    show how long after the post they answer; posts that opened a conversation with an
    account say whether and how fast it answered. Parents that are not stored appear as
    placeholders."""
    from socialloop.conversations import load_thread
    from socialloop.errors import InvalidValue

    with open_workspace(workspace) as ws:
        try:
            thread = load_thread(ws.store, post_id, accounts=accounts)
        except ValueError as exc:
            raise InvalidValue(str(exc)) from None
    if as_json:
        _dump(thread.to_dict())
        return
    console = Console(highlight=False, soft_wrap=False)
    head = Text(f"Thread {clean(thread.root.id)}", style="bold")
    head.append(
        f"  ({thread.size} stored posts, depth {thread.depth}, "
        f"{len(thread.participants)} participants)",
        style="dim",
    )
    console.print(head)
    console.print(thread_tree(thread))
    for r in thread.responses:
        line = Text(f"{clean(r.group)}: ", style="bold")
        line.append(f"{r.answered} of {r.conversations} conversations answered")
        if r.first_response_s is not None:
            line.append(f"; first response after {duration(r.first_response_s)}")
        console.print(line)


def _node_label(node: ThreadNode, focus: str) -> Text:
    if not node.stored:
        return Text(f"(not stored: {clean(node.id)})", style="dim italic")
    label = Text()
    when = node.created_at.strftime("%Y-%m-%d %H:%M") if node.created_at else "?"
    label.append(when + " ", style="dim")
    label.append(clean(node.author_id or "-"), style="bold cyan" if node.owners else "bold")
    if node.author_name:
        label.append(f" ({clean(node.author_name)})")
    if node.owners:
        label.append(f" [{', '.join(clean(o) for o in node.owners)}]", style="cyan")
        if node.reply_delay_s is not None:
            label.append(f" replied after {duration(node.reply_delay_s)}", style="green")
    label.append(": ")
    label.append(clean(node.text or ""), style="reverse" if node.id == focus else "")
    for a in node.answers:
        if a.delay_s is None:
            label.append(f"  ✗ not answered by {clean(a.group)}", style="red")
        else:
            label.append(
                f"  ✓ answered by {clean(a.group)} after {duration(a.delay_s)}", style="green"
            )
    return label


def thread_tree(thread: Thread) -> Tree:
    """The reply tree for the terminal: the root as the tree's label, replies below in
    time order (depth first, no recursion)."""
    tree = Tree(_node_label(thread.root, thread.focus))
    work: list[tuple[Tree, ThreadNode]] = [(tree, c) for c in reversed(thread.root.children)]
    while work:
        parent, node = work.pop()
        branch = parent.add(_node_label(node, thread.focus))
        work.extend((branch, c) for c in reversed(node.children))
    return tree


@click.command("responsetimes")
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="Measure this account: HANDLE (any network) or NETWORK:HANDLE (repeatable).",
)
@click.option("--brand", default=None, help="Measure this brand's own accounts together.")
@click.option(
    "--since", default=None, help="Count conversations opened on or after this date (ISO)."
)
@click.option(
    "--dataset/--no-dataset",
    "dataset_accounts",
    default=True,
    show_default=True,
    help="Without --account/--brand, also measure the company accounts a dataset marks "
    "(TWCS: authors of inbound=False tweets).",
)
@click.option(
    "--matched",
    is_flag=True,
    help="A post that matches a brand's query (names the brand without mentioning its "
    "account) also opens a conversation with the brand.",
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most N accounts.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def responsetimes_cmd(
    accounts: tuple[str, ...],
    brand: str | None,
    since: str | None,
    dataset_accounts: bool,
    matched: bool,
    limit: int | None,
    as_json: bool,
    workspace: Path | None,
) -> None:
    """How often and how fast accounts answer the people who address them in public.

    For each conversation a customer opens with an account (a post that mentions it or
    replies to it, with no earlier such post above it in the thread), the account's first
    reply anywhere below it. Without --account or --brand: every brand with accounts and
    every company account of an imported dataset. See docs/conversations.md."""
    from socialloop.conversations import response_times

    if accounts and brand:
        raise click.UsageError("give --account or --brand, not both")
    with open_workspace(workspace) as ws:
        stats = response_times(
            ws.store,
            accounts=accounts,
            brand=brand,
            since=parse_when(since, option="--since"),
            dataset_accounts=dataset_accounts,
            matched=matched,
        )
    if limit is not None:
        stats = stats[: max(limit, 0)]
    if as_json:
        _dump([s.to_dict() for s in stats])
        return
    if not stats:
        click.echo(
            "No accounts to measure. Give --account HANDLE, or add a brand's accounts with "
            "`socialloop brand edit NAME --account HANDLE`."
        )
        return
    table = Table(title="First response to conversations opened with each account")
    widest = min(40, max(len(s.account) for s in stats))
    table.add_column("account", no_wrap=True, min_width=widest)
    table.add_column("kind", no_wrap=True)
    for col in ("threads", "responded", "rate", "median", "p90", "other"):
        table.add_column(col, justify="right", no_wrap=True)
    for s in stats:
        d = s.to_dict()
        rate = s.response_rate
        table.add_row(
            Text(clean(s.account)),
            s.kind,
            f"{s.threads:,}",
            f"{s.responded:,}",
            "-" if rate is None else f"{rate:.0%}",
            duration(d["median_first_response_s"]),
            duration(d["p90_first_response_s"]),
            f"{s.other_replies:,}",
        )
    Console(highlight=False).print(table)
    click.echo("other: replies to posts that neither mention the account nor reply to it.")


@click.command("advocates")
@click.option("--brand", required=True, help="The brand whose advocates (or detractors) to find.")
@click.option("--detractors", is_flag=True, help="Authors repeatedly negative about the brand.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="At most N authors."
)
@click.option(
    "--min-posts",
    type=int,
    default=2,
    show_default=True,
    help="At least N positive (or negative) posts about the brand.",
)
@click.option(
    "--min-share",
    type=float,
    default=0.6,
    show_default=True,
    help="Those posts make at least this share of the author's posts about the brand.",
)
@click.option(
    "--evidence",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Posts shown per author.",
)
@click.option("--since", default=None, help="Only posts on or after this date (ISO).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def advocates_cmd(
    brand: str,
    detractors: bool,
    limit: int,
    min_posts: int,
    min_share: float,
    evidence: int,
    since: str | None,
    as_json: bool,
    workspace: Path | None,
) -> None:
    """Advocates of a brand: authors with repeated positive posts about it (with
    --detractors: negative), ranked, with their posts as evidence. Reads the sentiment toward
    the brand from `socialloop enrich`; the brand's own accounts are left out."""
    from socialloop.conversations import find_advocates

    with open_workspace(workspace) as ws:
        found = find_advocates(
            ws.store,
            brand,
            detractors=detractors,
            min_posts=min_posts,
            min_share=min_share,
            limit=limit,
            evidence=evidence,
            since=parse_when(since, option="--since"),
        )
    if as_json:
        _dump([a.to_dict() for a in found])
        return
    who = "detractors" if detractors else "advocates"
    if not found:
        click.echo(
            f"No {who} of {brand} with at least {min_posts} posts and a {min_share:.0%} "
            "share. Lower --min-posts / --min-share, or run `socialloop enrich` first."
        )
        return
    console = Console(highlight=False)
    for rank, a in enumerate(found, 1):
        line = Text(f"{rank}. ", style="bold")
        line.append(clean(a.author_id), style="bold")
        if a.name:
            line.append(f" ({clean(a.name)})")
        line.append(
            f"  {a.polar_posts} {a.polarity} of {a.labelled_posts} posts about the brand "
            f"({a.share:.0%})",
            style="green" if a.polarity == "positive" else "red",
        )
        if a.followers is not None:
            line.append(f", {a.followers:,} followers", style="dim")
        console.print(line)
        for e in a.evidence:
            proof = Text("    ")
            proof.append(e.created_at.strftime("%Y-%m-%d") + " ", style="dim")
            proof.append(clean(e.post_id) + " ", style="dim")
            proof.append(clean(e.text))
            console.print(proof)
