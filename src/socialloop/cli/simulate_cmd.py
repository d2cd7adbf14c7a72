"""``socialloop simulate``: the seeded demo stream, written to a file or imported."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from socialloop.cli.app import open_workspace, workspace_option
from socialloop.cli.data_cmds import enrich_after_import, print_report


@click.command("simulate")
@click.option("--posts", "n", type=click.IntRange(min=1), default=10_000, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write native JSONL (.gz to compress) instead of importing into the workspace.",
)
@click.option("--no-enrich", is_flag=True, help="Do not run the LEARN steps after importing.")
@workspace_option
def simulate_cmd(
    n: int, days: int, seed: int, out: Path | None, no_enrich: bool, workspace: Path | None
) -> None:
    """Generate a realistic, seeded stream for a coffee market (a brand, its competitors and a
    retailer): threads, brand replies, influencers, communities, spikes, five languages.

    Without --out the posts are imported into the workspace and the market's brands created.
    """
    from socialloop.simulate import default_market, simulate, write_jsonl

    market = default_market()
    stream = simulate(n, days=days, seed=seed, market=market)
    console = Console(stderr=True, highlight=False)
    started = time.perf_counter()
    if out is not None:
        from socialloop.errors import ExportError

        try:
            written = write_jsonl(stream, out)
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
        took = time.perf_counter() - started
        click.echo(f"Wrote {written:,} simulated posts to {out} in {took:.1f}s")
        return
    from socialloop.errors import NotFound
    from socialloop.listen.importer import import_posts

    with open_workspace(workspace) as ws:
        for spec in market.brands:
            try:
                ws.store.get_brand(spec.name)
            except NotFound:
                ws.add_brand(
                    spec.name,
                    spec.query,
                    competitor=spec.competitor,
                    values=spec.values,
                    assumptions=spec.assumptions,
                    accounts=spec.to_brand().accounts,
                )
                click.echo(f"Added {'competitor' if spec.competitor else 'brand'} {spec.name!r}")
        with Progress(
            TextColumn("[bold]simulate"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        ) as progress:
            task = progress.add_task("simulate", total=n)
            report = import_posts(
                ws,
                stream,
                source="simulator",
                connector="simulate",
                on_post=lambda done: progress.update(task, completed=done),
                bulk=n >= 200_000,  # large demo stores: the bulk write path (importer docs)
            )
        print_report(report)
        took = time.perf_counter() - started
        click.echo(f"Simulated and imported {report.read:,} posts in {took:.1f}s")
        if not no_enrich:
            enrich_after_import(ws)
