"""``socialloop init`` and ``socialloop status``."""

from __future__ import annotations

from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import open_workspace, workspace_option
from socialloop.config import CONFIG_FILE
from socialloop.errors import StoreError
from socialloop.workspace import Workspace


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--database-url", default=None, help="Store URL (default: SQLite in the workspace).")
def init_cmd(directory: Path | None, database_url: str | None) -> None:
    """Create a workspace in DIRECTORY (default: the current directory)."""
    root = (directory or Path.cwd()).resolve()
    config = root / CONFIG_FILE
    existed = config.exists()
    try:
        ws = Workspace.init(root, database_url=database_url)
    except StoreError as exc:
        # the settings were written before the store failed to open: take them back, or the
        # next `init` would find a "workspace" whose store never worked
        if not existed:
            config.unlink(missing_ok=True)
        raise click.ClickException(
            f"Store error: {exc}\nNo workspace was created. Check --database-url "
            "(docs/postgres.md) and run `socialloop init` again."
        ) from None
    with ws:
        click.echo(f"Created workspace {ws.settings.root}")
        click.echo(f"  settings: {ws.settings.root / 'socialloop.toml'}")
        click.echo(f"  store:    {ws.settings.database_url}")
        click.echo(
            "Next: `socialloop brand add NAME --query QUERY`, then `socialloop import FILE`."
        )


@click.command("status")
@workspace_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def status_cmd(workspace: Path | None, as_json: bool) -> None:
    """Summarise the workspace: posts, authors, threads, brands and recent imports."""
    with open_workspace(workspace) as ws:
        stats = ws.store.stats()
        brands = ws.brands_with_counts()
        runs = ws.store.list_runs(5)
        toward = ws.store.brand_label_counts("sentiment")
        if as_json:
            doc = {
                "workspace": str(ws.settings.root),
                **stats,
                "brands": [
                    {**b.to_dict(), "posts": n, "sentiment": toward.get(b.id or -1, {})}
                    for b, n in brands
                ],
                "runs": runs,
            }
            click.echo(orjson.dumps(doc, default=str, option=orjson.OPT_INDENT_2).decode())
            return
        console = Console(highlight=False)
        console.print(Text(f"Workspace {ws.settings.root}", style="bold"))
        console.print(
            f"{stats['posts']:,} posts · {stats['authors']:,} authors · "
            f"{stats['threads']:,} reply threads · {stats['interactions']:,} interactions"
        )
        table = Table(title="Brands", title_justify="left")
        table.add_column("brand")
        table.add_column("kind")
        table.add_column("posts", justify="right")
        table.add_column("positive", justify="right")
        table.add_column("negative", justify="right")
        table.add_column("query", max_width=50)
        for b, n in brands:
            senti = toward.get(b.id or -1, {})
            scored = sum(senti.values())

            def share(label: str, senti: dict[str, int] = senti, scored: int = scored) -> str:
                return f"{100 * senti.get(label, 0) / scored:.0f}%" if scored else "-"

            table.add_row(
                Text(b.name),
                "competitor" if b.competitor else "own",
                f"{n:,}",
                share("positive"),
                share("negative"),
                Text(b.query),
            )
        console.print(table)
        if toward:
            console.print("positive / negative: the sentiment toward each brand in its posts")
        if runs:
            rt = Table(title="Recent imports", title_justify="left")
            for col in ("run", "status", "read", "new", "updated", "rejected"):
                rt.add_column(col, justify="right" if col != "status" else "left")
            for r in runs:
                rt.add_row(
                    str(r["id"]),
                    r["status"],
                    f"{r['read']:,}",
                    f"{r['new']:,}",
                    f"{r['updated']:,}",
                    f"{r['rejected']:,}",
                )
            console.print(rt)
