"""``socialloop enrich``: run the LEARN steps over stored posts; ``socialloop eval``: score a
task's model on labelled data (and word the remedies for :class:`EvalError`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import open_workspace, parse_when, workspace_option
from socialloop.learn.base import Enricher
from socialloop.learn.eval_data import EvalError, Undecodable
from socialloop.learn.evaluate import TASKS, Dataset, evaluate, read_dataset
from socialloop.learn.pipeline import EnrichReport, Pipeline
from socialloop.learn.steps import DEFAULT_STEPS, build_steps, check_requires
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
    pipeline = Pipeline(_selected(ws, steps))
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
            since=parse_when(since, option="--since"),
            workers=workers or ws.settings.workers,
            progress=hook,
        )


def _selected(ws: Workspace, names: list[str] | None) -> list[Enricher]:
    """The named steps (default: all), checked to run together."""
    chosen = build_steps(ws.settings, names, ws.store)
    check_requires(chosen, ws.settings, ws.store)
    return chosen


def print_enrich_report(report: EnrichReport) -> None:
    for s in report.steps:
        rate = f"{s.posts_per_s:,.0f} posts/s" if s.processed else "up to date"
        click.echo(f"  {s.name} v{s.version}: {s.processed:,} posts ({rate})")


def print_enrich_plan(ws: Workspace, names: list[str] | None, since: str | None) -> None:
    """How many posts each step would process, without running it."""
    pipeline = Pipeline(_selected(ws, names))
    when = parse_when(since, option="--since")
    posts = ws.store.count()
    due = [(s, pipeline.pending(ws.store, s, when)) for s in pipeline.steps]
    click.echo(f"{posts:,} posts stored. A run would process:")
    for s, n in due:
        click.echo(f"  {s.name} v{s.version}: {n:,} posts" + ("" if n else " (up to date)"))
    if any(n for _, n in due):
        click.echo("Run `socialloop enrich` without --dry-run to process them.")
    else:
        click.echo("Every step is up to date.")


@click.command("enrich")
@click.option(
    "--steps",
    default=None,
    help=f"Comma-separated steps to run (default: all: {', '.join(DEFAULT_STEPS)}).",
)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes.")
@click.option("--since", default=None, help="Only posts created from this ISO date on.")
@click.option(
    "--dry-run",
    is_flag=True,
    help="Only say how many posts each step would process (new, or enriched by an older "
    "version of the step); loads no model.",
)
@workspace_option
def enrich_cmd(
    steps: str | None,
    workers: int | None,
    since: str | None,
    dry_run: bool,
    workspace: Path | None,
) -> None:
    """Enrich stored posts: language, sentiment (overall and toward each brand), emotion,
    intent and micro-moment, journey stage, embedding.

    Only posts a step has not processed at its current version are processed, so running it
    again is cheap. After an upgrade that changes a step's version, `--dry-run` says how many
    stored posts that step will process again.
    """
    names = [s.strip() for s in steps.split(",") if s.strip()] if steps is not None else None
    with open_workspace(workspace) as ws:
        if dry_run:
            print_enrich_plan(ws, names, since)
            return
        report = run_enrichment(ws, steps=names, workers=workers, since=since)
        click.echo(f"Enriched {report.processed:,} post-steps:")
        print_enrich_report(report)
        from socialloop.cli.data_cmds import triage_after_enrich

        triage_after_enrich(ws)


@click.command("eval")
@click.argument("task", type=click.Choice([*TASKS, "influence"]), metavar="TASK")
@click.option(
    "--data",
    "data_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="A TweetEval task folder, or a CSV / TSV file (gzip, bzip2 or xz compressed too).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "tweeteval", "csv", "tsv"]),
    default="auto",
    show_default=True,
    help="auto: a folder is TweetEval, .tsv is TSV, and the delimiter of anything else is "
    "sniffed from its header (, tab ; |). csv: comma, semicolon or pipe; tsv: tab.",
)
@click.option("--text-col", default=None, help="Text column name (index with --no-header).")
@click.option("--label-col", default=None, help="Label column name (index with --no-header).")
@click.option(
    "--label-map",
    "label_map",
    multiple=True,
    help="RAW=LABEL,... gold label mapping (RAW matches in any case).",
)
@click.option("--no-header", is_flag=True, help="The CSV / TSV file has no header row.")
@click.option(
    "--mode",
    type=click.Choice(["fast", "accurate"]),
    default="fast",
    show_default=True,
    help="Which models to score: fast (the bundled linear models) or accurate (blended with "
    'the transformer heads, as `enrich` runs them with [learn] mode = "accurate").',
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def eval_cmd(
    task: str,
    data_path: Path,
    fmt: str,
    text_col: str | None,
    label_col: str | None,
    label_map: tuple[str, ...],
    no_header: bool,
    mode: str,
    as_json: bool,
) -> None:
    """Score TASK's model on labelled data: accuracy, macro recall / F1, per-class figures,
    the confusion matrix and throughput. Needs no workspace. TASK is sentiment, emotion,
    complaint, question, purchase-intent, language or influence.

    Binary tasks read labels 1 / 0 (or true / false, yes / no); the language task reads ISO
    639-1 codes; sentiment reads negative / neutral / positive. One label per row. Macro
    recall and F1 average over the classes that have gold rows (a positive / negative file
    leaves neutral out, and says so). Files may be UTF-8 or UTF-16 (with BOM); bytes that
    are not UTF-8 are read as U+FFFD, with a warning. influence reads PeerIndex pairwise CSV
    (docs/influence.md) and prints AUC and accuracy.
    """
    if task == "influence":
        from socialloop.cli.graph_cmds import run_influence_eval

        return run_influence_eval(data_path, as_json=as_json)
    mapping = parse_label_map(label_map)
    data = read_dataset(
        data_path,
        fmt=fmt,  # type: ignore[arg-type]
        text_col=text_col,
        label_col=label_col,
        header=not no_header,
    )
    for note in data.notes:
        click.echo(f"Warning: {note}", err=True)
    for fact in data.undecodable:
        click.echo(undecodable_remedy(fact), err=True)
    result = run_eval(task, data, label_map=mapping, mode=mode)
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    print_eval(result)


def undecodable_remedy(fact: Undecodable) -> str:
    """How to get the exact texts of a file read with bytes replaced by U+FFFD."""
    name = Path(fact.path).name
    return (
        "For the exact texts, save the file as UTF-8 (a Windows / Latin-1 export: "
        f"`iconv -f cp1252 -t utf-8 {name} > fixed.csv`)."
    )


def _delimiter_fix(looks: str) -> str:
    return "--format tsv" if looks == "\t" else "--format auto (the delimiter is then sniffed)"


def _label_remedy(exc: EvalError) -> str:
    """What to do about gold labels that do not map (see :func:`eval_remedy`)."""
    fixes: list[str] = []
    if exc.bad_targets:
        keys = ", ".join(map(repr, exc.bad_targets))
        fixes.append(f"Fix --label-map: map {keys} to a {exc.task} label")
    if exc.unmapped and len(exc.texts) > len(exc.unmapped) / 2:
        fixes.append(
            "Name the text and label columns with --text-col / --label-col (0-based numbers "
            "with --no-header)"
        )
    elif exc.several:
        fixes.append("Keep the rows with a single label")
    if exc.unmapped and not exc.texts and len(exc.several) < len(exc.unmapped):
        fixes.append("Map them with --label-map RAW=LABEL,...")
    return f"{exc}" + "".join(f". {fix}" for fix in fixes)


def eval_remedy(exc: EvalError) -> str:
    """The message ``socialloop eval`` shows for an :class:`EvalError`: the library's fact
    and what to pass instead (``--data``, ``--format``, ``--text-col`` ...), from its
    attributes."""
    kind = exc.kind
    if kind == "archive":
        return f"{exc}; extract the file inside and pass that with --data"
    if kind == "binary":
        return f"{exc}; pass a UTF-8 (or UTF-16) CSV / TSV file or a TweetEval folder"
    if kind == "json":
        return (
            f"{exc}; eval reads CSV / TSV files (a text and a label column) and TweetEval "
            "folders: write the text and label fields to a CSV file"
        )
    if kind == "malformed":
        return f"{exc}; fix the quoting, or pass --format to name the delimiter"
    if kind == "missing_column":
        if exc.looks:
            return f"{exc}: pass {_delimiter_fix(exc.looks)}"
        return f"{exc}; pass --{exc.role}-col"
    if kind == "short_row" and exc.looks:
        return f"{exc}: pass {_delimiter_fix(exc.looks)}"
    if kind == "bad_column_index":
        return (
            f"--{exc.role}-col must be a 0-based column number with --no-header, not {exc.value!r}"
        )
    if kind == "file_not_folder":
        return (
            f"--format tweeteval expects a folder, and {exc.path} is a file; pass its folder: "
            f"--data {exc.folder}"
        )
    if kind == "tweeteval_file":
        return f"{exc}; pass the folder: --data {exc.folder} (read as --format tweeteval)"
    if kind == "folder_not_file":
        return f"{exc.path} is a folder; pass --format tweeteval or a {exc.fmt} file"
    if kind == "label_not_mapped":
        return _label_remedy(exc)
    return str(exc)


def parse_label_map(items: tuple[str, ...]) -> dict[str, str]:
    """``--label-map RAW=LABEL,...`` (repeatable) into a dict."""
    mapping: dict[str, str] = {}
    for item in items:
        for part in item.split(","):
            if not part.strip():
                continue
            raw, sep, label = part.partition("=")
            if not sep or not raw.strip() or not label.strip():
                raise click.BadParameter(f"{part!r} is not RAW=LABEL", param_hint="--label-map")
            mapping[raw.strip()] = label.strip()
    return mapping


_STAGES = {
    "languages": "detecting languages",
    "load": "loading the model",
    "predict": "predicting",
    "predict-all": "predicting (one batch)",
}


def run_eval(
    task: str,
    data: Dataset,
    *,
    label_map: dict[str, str],
    mode: str,
    console: Console | None = None,
) -> dict[str, Any]:
    """:func:`evaluate` with a progress bar per stage on stderr when it is a terminal."""
    console = console or Console(stderr=True, highlight=False)
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:

        def hook(stage: str, done: int, total: int) -> None:
            # a stage done in one call pulses until it ends; "predict" moves by chunks
            if stage not in tasks:
                stepped = stage == "predict"
                description = _STAGES.get(stage, stage)
                tasks[stage] = progress.add_task(description, total=total if stepped else None)
            if done or stage == "predict":
                progress.update(tasks[stage], completed=done, total=total)

        return evaluate(task, data, label_map=label_map, mode=mode, progress=hook)


def print_eval(result: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(highlight=False)
    split = f" ({result['split']} split)" if result.get("split") else ""
    console.print(
        Text(f"{result['task']} ({result['mode']} mode) on {result['data']}{split}", style="bold")
    )
    summary = (
        f"n {result['n']:,} · accuracy {result['accuracy']:.3f} · "
        f"macro-recall {result['macro_recall']:.3f} · macro-F1 {result['macro_f1']:.3f}"
    )
    if "f1" in result:
        summary += f" · F1 (positive) {result['f1']:.3f}"
    console.print(summary + f" · {result['posts_per_s']:,.0f} posts/s")
    note = averaging_note(result)
    if note:
        console.print(Text(note))
    table = Table(title="per class", title_justify="left")
    for col in ("class", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "class" else "right")
    for label, c in result["per_class"].items():
        table.add_row(
            Text(label),
            f"{c['precision']:.3f}",
            f"{c['recall']:.3f}",
            f"{c['f1']:.3f}",
            f"{int(c['support']):,}",
        )
    console.print(table)
    print_confusion(result, console)


def averaging_note(result: dict[str, Any]) -> str:
    """Which classes the macro scores leave out and why ("" when none)."""
    left_out = [c for c in result["per_class"] if c not in result["averaged_over"]]
    if not left_out:
        return ""
    conf = result["confusion"]
    predicted = sum(row[conf["labels"].index(c)] for c in left_out for row in conf["matrix"])
    one = len(left_out) == 1
    return (
        f"Macro-recall and macro-F1 average over {', '.join(result['averaged_over'])}: "
        f"{', '.join(left_out)} {'is' if one else 'are'} left out, as the data has no gold "
        f"row of {'it' if one else 'them'}"
        + (
            f" ({'its' if one else 'their'} {predicted:,} predictions count as errors in accuracy)."
            if predicted
            else "."
        )
    )


def _table_width(rows: list[str], columns: list[str], cells: list[list[int]]) -> int:
    """The width of a Rich table with a label column and one column per ``columns``."""
    width = 1 + max(len(r) for r in rows) + 3
    for j, col in enumerate(columns):
        widest = max((len(f"{row[j]:,}") for row in cells), default=1)
        width += max(len(col), widest) + 3
    return width


def print_confusion(result: dict[str, Any], console: Console) -> None:
    """The confusion matrix, folded to fit the console: predicted labels outside the gold
    classes go to an ``other`` column; when even that is too wide, the most frequent
    confusions are listed instead (``--json`` has the full matrix)."""
    conf = result["confusion"]
    rows = list(result["per_class"])
    columns: list[str] = list(conf["labels"])
    cells: list[list[int]] = [list(r) for r in conf["matrix"]]
    title = "confusion (rows: gold, columns: predicted)"
    note = ""
    if _table_width(rows, columns, cells) > console.width and len(columns) > len(rows):
        extra = columns[len(rows) :]
        totals = [sum(r[len(rows) + j] for r in cells) for j in range(len(extra))]
        ranked = sorted(zip(extra, totals, strict=True), key=lambda x: (-x[1], x[0]))
        listed = ", ".join(f"{c} {n:,}" for c, n in ranked[:8] if n)
        more = f" and {len(ranked) - 8} more" if len(ranked) > 8 else ""
        note = f"other: predicted labels outside the gold classes ({listed}{more})"
        columns = [*rows, "other"]
        cells = [[*r[: len(rows)], sum(r[len(rows) :])] for r in cells]
    if _table_width(rows, columns, cells) > console.width:
        pairs = [
            (g, p, n)
            for g, r in zip(rows, cells, strict=True)
            for p, n in zip(columns, r, strict=True)
            if n and g != p
        ]
        pairs.sort(key=lambda x: (-x[2], x[0], x[1]))
        console.print(
            Text(
                "most frequent confusions (gold → predicted); the full matrix is in --json",
                style="italic",
            )
        )
        for g, p, n in pairs[:15]:
            console.print(Text(f"  {g} → {p}: {n:,}"))
        return
    matrix = Table(title=title, title_justify="left")
    matrix.add_column("")
    for label in columns:
        matrix.add_column(Text(label), justify="right")
    for label, row in zip(rows, cells, strict=True):
        matrix.add_row(Text(label), *[f"{v:,}" for v in row])
    console.print(matrix)
    if note:
        console.print(Text(note + "; the full matrix is in --json"))


@click.command("topics")
@click.option("--build", is_flag=True, help="Cluster the stored embeddings into topics again.")
@click.option("--k", type=click.IntRange(min=2), default=None, help="Number of topics to build.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def topics_cmd(
    build: bool, k: int | None, seed: int, as_json: bool, workspace: Path | None
) -> None:
    """List the conversation topics (c-TF-IDF keywords, size, emerging flag); --build
    clusters the post embeddings again. New posts join the nearest topic as they are
    enriched; search one with `topic:ID`."""
    from socialloop.learn.topics import MIN_POSTS as TOPIC_MIN_POSTS
    from socialloop.learn.topics import build_topics, topics_summary

    with open_workspace(workspace) as ws:
        built = None
        if build:
            status = Console(stderr=True, highlight=False)
            with status.status("Clustering the post embeddings into topics..."):
                built = build_topics(ws.store, k=k, seed=seed)
        if built == []:
            click.echo(
                f"Not enough embedded posts to build topics yet (at least {TOPIC_MIN_POSTS} are "
                "needed); import more and run `socialloop enrich`.",
                err=True,
            )
        rows = topics_summary(ws.store)
        if built == [] and not rows and not as_json:
            return  # said above; "No topics yet. Build them ..." would contradict it
        if as_json:
            click.echo(orjson.dumps(rows, default=str, option=orjson.OPT_INDENT_2).decode())
            return
        if not rows:
            click.echo("No topics yet. Build them with `socialloop topics --build`.")
            return
        table = Table()
        for col in ("id", "topic", "posts", "emerging", "last post"):
            table.add_column(col, justify="right" if col in ("id", "posts") else "left")
        for t in rows:
            table.add_row(
                str(t["id"]),
                Text(str(t["label"])),
                f"{t['size']:,}",
                "yes" if t["emerging"] else "",
                str(t["last_seen"] or "")[:16],
            )
        Console(highlight=False).print(table)
