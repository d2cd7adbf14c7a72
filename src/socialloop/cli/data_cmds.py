"""``socialloop import``, ``search`` and ``export``: LISTEN from files, find and take out."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from socialloop.cli.app import open_workspace, parse_map, parse_span, workspace_option
from socialloop.cli.output import print_posts
from socialloop.errors import SocialloopError
from socialloop.listen.importer import ImportReport, import_files
from socialloop.workspace import Workspace


class RichImportProgress:
    """A per-file byte progress bar with a running post count (on stderr)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None

    def start_file(self, path: str, total_bytes: int | None) -> None:
        self.task = self.progress.add_task(Path(path).name, total=total_bytes, posts=0)

    def advance(self, bytes_done: int, posts: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=bytes_done, posts=posts)

    def end_file(self) -> None:
        self.task = None


def print_report(report: ImportReport) -> None:
    """The run summary, as plain lines (post text and paths are never read as markup)."""
    for f in report.files:
        line = f"  {f.path}: {f.read:,} posts read, {f.rejected:,} rejected"
        if f.format == "none" and not f.error:  # the reader found no byte to read
            line += " (the file is empty)"
        elif f.format:
            line += f" (format {f.format})"
        if f.error:
            line += f" - ERROR: {f.error}"
        click.echo(line)
    click.echo(
        f"Import run {report.run_id} {report.status}: read {report.read:,}, new {report.new:,}, "
        f"updated {report.updated:,}, unchanged {report.unchanged:,}, "
        f"rejected {report.rejected:,}"
    )
    for line in report.first_rejects[:10]:
        click.echo(f"  rejected {line}")
    if report.rejected > 10:
        click.echo(f"  ... and {report.rejected - 10:,} more")
    if report.rejects_path:
        click.echo(f"Rejected records written to {report.rejects_path}")


@click.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "fmt",
    default="auto",
    show_default=True,
    help="Input format: auto, socialloop, twitter-v2, twitter-v1, mastodon, bluesky, reddit, "
    "twcs, airline, csv, jsonl.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    help="Column map for generic CSV/JSONL: text=COL,created_at=COL,id=COL,author=COL,...",
)
@click.option("--source", default=None, help="Name of the source these posts come from.")
@click.option("--network", default=None, help="Network of generic CSV/JSONL rows (e.g. twitter).")
@click.option("--no-progress", is_flag=True, help="Do not draw a progress bar.")
@click.option("--no-enrich", is_flag=True, help="Do not run the LEARN steps after importing.")
@click.option(
    "--bulk/--no-bulk",
    default=None,
    help="Bulk mode: fewer, larger transactions and a larger page cache (a crash still leaves "
    "whole batches). Default: on for files of 64 MiB or more.",
)
@workspace_option
def import_cmd(
    files: tuple[Path, ...],
    fmt: str,
    mapping: tuple[str, ...],
    source: str | None,
    network: str | None,
    no_progress: bool,
    no_enrich: bool,
    bulk: bool | None,
    workspace: Path | None,
) -> None:
    """Import conversations from FILES (JSONL, JSON, CSV/TSV, gzip; platform exports).

    Good records are kept, bad ones reported and written to a rejects file. Exits non-zero only
    when nothing could be read.
    """
    column_map = parse_map(mapping)
    console = Console(stderr=True, highlight=False)
    with open_workspace(workspace) as ws:
        show = not no_progress and console.is_terminal
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[posts]:,} posts"),
            TimeRemainingColumn(),
            console=console,
            disable=not show,
        ) as progress:
            report = import_files(
                ws,
                list(files),
                fmt=fmt,
                column_map=column_map or None,
                source=source,
                network=network,
                progress=RichImportProgress(progress),
                bulk=bulk,
            )
        print_report(report)
        if report.read == 0:
            sys.exit(1)
        if not no_enrich and report.new + report.updated > 0:
            enrich_after_import(ws)


def enrich_after_import(ws: Workspace) -> None:
    """Run the LEARN steps on what was just stored; a failure here never loses the import."""
    from socialloop.cli.learn_cmds import print_enrich_report, run_enrichment

    try:
        report = run_enrichment(ws)
    except (SocialloopError, ImportError) as exc:
        from socialloop.cli.app import remedy

        why = remedy(exc) if isinstance(exc, SocialloopError) else str(exc)
        click.echo(
            f"Enrichment skipped (the imported posts are kept): {why}\n"
            "Run `socialloop enrich` once fixed.",
            err=True,
        )
        return
    click.echo("Enriched:")
    print_enrich_report(report)
    triage_after_enrich(ws)


def triage_after_enrich(ws: Workspace) -> None:
    """ENGAGE: put the newly enriched posts that deserve an answer into the inbox (and
    recount the dashboard overview's daily rollups)."""
    from socialloop.engage.triage import triage_posts
    from socialloop.web.rollups import refresh_overview

    refresh_overview(ws)

    try:
        result = triage_posts(ws, None)
    except SocialloopError as exc:
        click.echo(
            f"Inbox triage skipped: {exc}. Run `socialloop inbox triage` once fixed.", err=True
        )
        return
    if result.added or result.updated:
        reasons = ", ".join(f"{k} {v:,}" for k, v in result.reasons.most_common())
        click.echo(
            f"Inbox: {result.added:,} new item(s), {result.updated:,} updated"
            + (f" ({reasons})" if reasons else "")
            + ". See `socialloop inbox list`."
        )


@click.command("search")
@click.argument("query", required=False)
@click.option("--brand", "-b", default=None, help="Only posts that mention this brand.")
@click.option("--since", default=None, help="From this ISO date/datetime (inclusive, UTC).")
@click.option("--until", default=None, help="Up to this ISO date (inclusive) or datetime.")
@click.option("--limit", "-n", default=20, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "jsonl", "csv"]),
    default="table",
    show_default=True,
    help="jsonl and csv carry what LEARN computed for each post (see `export`).",
)
@click.option(
    "--no-labels", is_flag=True, help="jsonl/csv: leave out the LEARN labels (post fields only)."
)
@click.option("--count", "count_only", is_flag=True, help="Print only the number of matches.")
@workspace_option
def search_cmd(
    query: str | None,
    brand: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    fmt: str,
    no_labels: bool,
    count_only: bool,
    workspace: Path | None,
) -> None:
    """Search stored posts with the boolean QUERY language (newest first)."""
    from socialloop.adapt.export import stream_posts
    from socialloop.store.labels import label_reader

    since_dt, until_dt = parse_span(since, until)
    with open_workspace(workspace) as ws:
        if count_only:
            click.echo(ws.count(query, brand=brand, since=since_dt, until=until_dt))
            return
        posts = ws.search(query, brand=brand, since=since_dt, until=until_dt, limit=limit)
        if fmt in ("jsonl", "csv"):
            out = sys.stdout.buffer
            stream_posts(posts, out, fmt, labels=None if no_labels else label_reader(ws.store))
            out.flush()
        else:
            console = Console(highlight=False)
            if not posts:
                console.print("No matching posts.")
                return
            total = ws.count(query, brand=brand, since=since_dt, until=until_dt)
            print_posts(console, posts, title=f"{total:,} matching posts (newest {len(posts)})")


@click.command("export")
@click.argument("query", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "parquet"]),
    required=True,
    help="Output format (parquet needs the 'parquet' extra: pip install socialloop[parquet]).",
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write; - writes CSV or JSONL to standard output.",
)
@click.option("--brand", "-b", default=None, help="Only posts that mention this brand.")
@click.option("--since", default=None, help="From this ISO date/datetime (inclusive, UTC).")
@click.option("--until", default=None, help="Up to this ISO date (inclusive) or datetime.")
@click.option("--no-labels", is_flag=True, help="Leave out the LEARN labels: the post fields only.")
@workspace_option
def export_cmd(
    query: str | None,
    fmt: str,
    out: Path,
    brand: str | None,
    since: str | None,
    until: str | None,
    no_labels: bool,
    workspace: Path | None,
) -> None:
    """Export stored posts (all, or those matching QUERY) to CSV, JSONL or Parquet.

    Each post carries what LEARN computed for it (empty when not computed): CSV columns
    detected_lang, sentiment, emotion, emotions, intent, moment, stage, topic and
    brand_sentiment (Brand=label pairs joined by "; ") after the post columns; a "labels"
    object per JSONL line; typed Parquet columns. See docs/exports.md.

    --no-labels leaves the labels out; --out - writes CSV or JSONL to standard output.
    """
    from socialloop.adapt.export import export_posts, stream_posts
    from socialloop.store.labels import label_reader

    to_stdout = str(out) == "-"
    if to_stdout and fmt == "parquet":
        raise click.BadParameter(
            "Parquet cannot be written to standard output; give a file path "
            "(e.g. --out posts.parquet), or use --format csv or jsonl.",
            param_hint="--out",
        )
    since_dt, until_dt = parse_span(since, until)
    with open_workspace(workspace) as ws:
        posts = ws.iter_posts(query, brand=brand, since=since_dt, until=until_dt)
        labels = None if no_labels else label_reader(ws.store)
        if to_stdout:
            stream = sys.stdout.buffer
            n = stream_posts(posts, stream, fmt, labels=labels)
            stream.flush()
            click.echo(f"Exported {n:,} posts to standard output", err=True)
            return
        n = export_posts(posts, out, fmt, labels=labels)
        click.echo(f"Exported {n:,} posts to {out}")
