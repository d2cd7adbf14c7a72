"""``socialloop brand add | list | show | edit | remove``."""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import open_workspace, workspace_option
from socialloop.cli.output import print_posts
from socialloop.models import Brand
from socialloop.workspace import Workspace


@click.group("brand")
def brand_group() -> None:
    """Define your brand and its competitors as boolean queries."""


def _new_name(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A brand name as given, without surrounding spaces; never empty."""
    if value is None:
        return None
    name = value.strip()
    if not name:
        raise click.BadParameter("a brand needs a name (it cannot be empty or only spaces)")
    return name


@brand_group.command("add")
@click.argument("name", callback=_new_name)
@click.option("--query", "-q", required=True, help="Boolean query deciding which posts mention it.")
@click.option("--competitor", is_flag=True, help="A competitor rather than your own brand.")
@click.option("--values", default=None, help="The brand's stated values and promises (text).")
@click.option(
    "--assume",
    "assumptions",
    multiple=True,
    help="What the team assumes customers care about (repeatable).",
)
@click.option(
    "--account",
    "accounts",
    multiple=True,
    help="The brand's own account: HANDLE (any network) or NETWORK:HANDLE (repeatable).",
)
@workspace_option
def brand_add(
    name: str,
    query: str,
    competitor: bool,
    values: str | None,
    assumptions: tuple[str, ...],
    accounts: tuple[str, ...],
    workspace: Path | None,
) -> None:
    """Add brand NAME and match its query against every stored post."""
    with open_workspace(workspace) as ws:
        brand, matched = ws.add_brand(
            name,
            query,
            competitor=competitor,
            values=values,
            assumptions=assumptions,
            accounts=accounts,
        )
        kind = "competitor" if brand.competitor else "brand"
        click.echo(f"Added {kind} {brand.name!r}: {matched:,} stored posts match.")
        _unscored_hint(ws, brand)


@brand_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def brand_list(as_json: bool, workspace: Path | None) -> None:
    """List brands with their queries and matching post counts."""
    with open_workspace(workspace) as ws:
        rows = ws.brands_with_counts()
        if as_json:
            doc = [{**b.to_dict(), "posts": n} for b, n in rows]
            click.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
            return
        if not rows:
            click.echo("No brands yet. Add one with `socialloop brand add NAME --query QUERY`.")
            return
        table = Table()
        for col in ("brand", "kind", "posts", "query"):
            table.add_column(col, justify="right" if col == "posts" else "left")
        for b, n in rows:
            table.add_row(
                Text(b.name), "competitor" if b.competitor else "own", f"{n:,}", Text(b.query)
            )
        Console(highlight=False).print(table)


@brand_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@workspace_option
def brand_show(name: str, as_json: bool, workspace: Path | None) -> None:
    """Show one brand: query, values, assumptions and its latest posts."""
    with open_workspace(workspace) as ws:
        brand = ws.store.get_brand(name)
        count = ws.count(None, brand=brand.name)
        if as_json:
            click.echo(
                orjson.dumps(
                    {**brand.to_dict(), "posts": count}, option=orjson.OPT_INDENT_2
                ).decode()
            )
            return
        console = Console(highlight=False)
        console.print(
            Text(brand.name, style="bold"),
            Text("(competitor)" if brand.competitor else "(own brand)"),
        )
        console.print(Text(f"query:  {brand.query}"))
        console.print(f"posts:  {count:,}")
        if brand.values:
            console.print(Text(f"values: {brand.values}"))
        for a in brand.assumptions:
            console.print(Text(f"assumes: {a}"))
        if brand.accounts:
            console.print(Text(f"accounts: {', '.join(brand.accounts)}"))
        latest = ws.search(None, brand=brand.name, limit=5)
        if latest:
            print_posts(console, latest, title="Latest posts")


@brand_group.command("edit")
@click.argument("name")
@click.option("--name", "new_name", default=None, callback=_new_name, help="Rename the brand.")
@click.option("--query", "-q", default=None, help="New query (all stored posts are rematched).")
@click.option("--competitor/--own", default=None, help="Mark as competitor or own brand.")
@click.option("--values", default=None, help="New stated values.")
@click.option(
    "--assume", "assumptions", multiple=True, help="Replace the assumptions (repeatable)."
)
@click.option(
    "--account", "accounts", multiple=True, help="Replace the brand's own accounts (repeatable)."
)
@workspace_option
def brand_edit(
    name: str,
    new_name: str | None,
    query: str | None,
    competitor: bool | None,
    values: str | None,
    assumptions: tuple[str, ...],
    accounts: tuple[str, ...],
    workspace: Path | None,
) -> None:
    """Change brand NAME; a new query is matched again against every stored post."""
    with open_workspace(workspace) as ws:
        brand, matched = ws.edit_brand(
            name,
            new_name=new_name,
            query=query,
            competitor=competitor,
            values=values,
            assumptions=assumptions or None,
            accounts=accounts or None,
        )
        msg = f"Updated {brand.name!r}."
        if matched is not None:
            msg += f" Rematched: {matched:,} stored posts match."
        click.echo(msg)
        if matched is not None:
            _unscored_hint(ws, brand)


def _unscored_hint(ws: Workspace, brand: Brand) -> None:
    """Say how many matching posts carry no sentiment toward the brand yet, and the fix."""
    assert brand.id is not None
    unscored = ws.store.brand_unscored(brand.id)
    if unscored:
        verb = "has" if unscored == 1 else "have"
        click.echo(
            f"{unscored:,} of them {verb} no sentiment toward {brand.name!r} yet: "
            "`socialloop enrich` scores them."
        )


@brand_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@workspace_option
def brand_remove(name: str, yes: bool, workspace: Path | None) -> None:
    """Remove brand NAME (posts stay; only its matches go)."""
    with open_workspace(workspace) as ws:
        brand = ws.store.get_brand(name)
        if not yes:
            click.confirm(f"Remove brand {brand.name!r}?", abort=True)
        ws.remove_brand(brand.name)
        click.echo(f"Removed {brand.name!r}.")
