"""``socialloop enrich``: run the LEARN steps over stored posts."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

from socialloop.cli.app import open_workspace, parse_when, workspace_option
from socialloop.learn.pipeline import EnrichReport, Pipeline
from socialloop.learn.steps import DEFAULT_STEPS, build_steps
from socialloop.workspace import Workspace


def run_enrichment(
    ws: Workspace,
    *,
    steps: list[str] | None = None,
    workers: int | None = None,
    since: str | None = None,
    console: Console | None = None,
) -> EnrichReport:
    """Run the pipeline with a progress bar per step (on terminals)."""
    console = console or Console(stderr=True, highlight=False)
    pipeline = Pipeline(build_steps(ws.settings, steps))
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        disable=not console.is_terminal,
    ) as progress:

        def hook(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = progress.add_task(step, total=total)
            progress.update(tasks[step], completed=done, total=total)

        return pipeline.run(
            ws.store,
            since=parse_when(since),
            workers=workers or ws.settings.workers,
            progress=hook,
        )


def print_enrich_report(report: EnrichReport) -> None:
    for s in report.steps:
        rate = f"{s.posts_per_s:,.0f} posts/s" if s.processed else "up to date"
        click.echo(f"  {s.name} v{s.version}: {s.processed:,} posts ({rate})")


@click.command("enrich")
@click.option(
    "--steps",
    default=None,
    help=f"Comma-separated steps to run (default: all: {', '.join(DEFAULT_STEPS)}).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@click.option("--since", default=None, help="Only posts created from this ISO date on.")
@workspace_option
def enrich_cmd(
    steps: str | None, workers: int | None, since: str | None, workspace: Path | None
) -> None:
    """Enrich stored posts: language, sentiment (overall and toward each brand).

    Only posts a step has not processed at its current version are processed, so running it
    again is cheap.
    """
    names = [s.strip() for s in steps.split(",") if s.strip()] if steps else None
    with open_workspace(workspace) as ws:
        report = run_enrichment(ws, steps=names, workers=workers, since=since)
        click.echo(f"Enriched {report.processed:,} post-steps:")
        print_enrich_report(report)
