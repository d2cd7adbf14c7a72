"""The ``socialloop`` command group: shared options, workspace lookup and error remedies.

Library errors carry no CLI wording; ``SocialloopGroup`` turns each into a message with a
remedy and an exit status (1 for errors, 2 for usage, 130 for Ctrl-C).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape

from socialloop.errors import (
    AccurateUnavailable,
    AlreadyExists,
    ConfigError,
    ExportError,
    GraphNotBuilt,
    ImportFormatError,
    InvalidSetting,
    LexiconMissing,
    NotFound,
    PublishError,
    QueryError,
    SocialloopError,
    StoreError,
    WorkspaceExists,
    WorkspaceNotFound,
)
from socialloop.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


def err_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


# what a missing / duplicate object is (the first words of the library's message) -> the
# command that lists those objects
_LISTED_BY = {
    "brand": "socialloop brand list",
    "post": "socialloop search",
    "source": "socialloop source list",
    "item": "socialloop inbox list",
    "inbox": "socialloop inbox list",
    "agent": "socialloop agent list",
    "saved": "socialloop saved-reply list",
    "user": "socialloop user list",
    "token": "socialloop token list",
    "author": "socialloop influencers",
    "sla": "socialloop sla show",
}


def _listing(exc: SocialloopError) -> str | None:
    words = str(exc).lower().replace("'", " ").split()
    for word in words[:4]:
        key = word.rstrip("s:") if word not in _LISTED_BY else word
        if key in _LISTED_BY:
            return _LISTED_BY[key]
    return None


_FAST_MODE = (
    'Or use the fast mode: `mode = "fast"` under [learn] in socialloop.toml, '
    "SOCIALLOOP_ENRICH_MODE=fast in the environment, or `--mode fast` for `socialloop eval`."
)


def accurate_remedy(exc: AccurateUnavailable) -> str:
    """What to do when accurate mode cannot run: reinstall (the model ships in the package),
    install the extra, or switch to the fast mode."""
    lines = [f"Accurate mode cannot run: {str(exc).rstrip('.')}."]
    if exc.problems:
        lines.append(
            "The model ships inside the socialloop package, so this installation is incomplete: "
            "reinstall it with `pip install --force-reinstall socialloop` (from a source "
            "checkout: `pip install -e .`). A source checkout can also rebuild the model with "
            '`python training/train_accurate.py` (see docs/models.md, "Accurate mode").'
        )
    if exc.packages:
        lines.append(
            "Install its runtime with `pip install 'socialloop[accurate]'` (from a source "
            "checkout: `pip install -e '.[accurate]'`)."
        )
    lines.append(_FAST_MODE)
    return "\n".join(lines)


def settings_remedy(exc: InvalidSetting) -> str:
    """Where to fix one bad setting: its environment variable, or its key in the file."""
    if exc.variable:
        return (
            f"Invalid setting: {exc}\nSet {exc.variable} to a valid value, or unset it to use "
            f"{exc.key} from socialloop.toml."
        )
    return (
        f"Invalid setting: {exc}\nFix {exc.key} in {exc.file or 'socialloop.toml'}; "
        "docs/settings.md describes every key and its values."
    )


def remedy(exc: SocialloopError) -> str:
    """The message a user sees for a library error: what happened and what to do."""
    if isinstance(exc, WorkspaceNotFound):
        return (
            f"No socialloop workspace at {exc.path}.\n"
            f"Create one with `socialloop init {exc.path}`, or point to an existing one with "
            "--workspace DIR or the SOCIALLOOP_WORKSPACE variable."
        )
    if isinstance(exc, QueryError):
        lines = [f"Invalid query: {exc}"]
        if exc.query and exc.column:
            lines.append(f"  {exc.query}")
            lines.append("  " + " " * (exc.column - 1) + "^")
        lines.append("See docs/query-language.md for the syntax.")
        return "\n".join(lines)
    if isinstance(exc, NotFound):
        listing = _listing(exc)
        return f"{exc}." + (f" List what exists with `{listing}`." if listing else "")
    if isinstance(exc, AlreadyExists):
        listing = _listing(exc)
        see = f" (see `{listing}`)" if listing else ""
        return f"{exc}{see}. Edit the existing one, or pick another name."
    if isinstance(exc, GraphNotBuilt):
        return f"{exc}. Build it with `socialloop graph build`."
    if isinstance(exc, PublishError):
        from socialloop.cli.publish_cmds import publish_remedy

        return publish_remedy(exc)
    if isinstance(exc, WorkspaceExists):
        return f"{exc}. Use it as it is, or choose another directory."
    if isinstance(exc, ImportFormatError):
        return (
            f"{exc}\nName the format with --format (see `socialloop import --help`), or map "
            "the columns with --map text=COL,created_at=COL."
        )
    if isinstance(exc, ExportError):
        return str(exc)
    if isinstance(exc, InvalidSetting):
        return settings_remedy(exc)
    if isinstance(exc, AccurateUnavailable):
        return accurate_remedy(exc)
    if isinstance(exc, ConfigError):
        return f"Invalid settings: {exc}\nFix socialloop.toml or the SOCIALLOOP_* variables."
    if isinstance(exc, LexiconMissing):
        return f"{exc}\nInstall socialloop's dependencies again (`pip install vaderSentiment`)."
    if isinstance(exc, StoreError):
        return (
            f"Store error: {exc}\nCheck database_url in socialloop.toml and that the disk has room."
        )
    from socialloop.learn.eval_data import EvalError
    from socialloop.learn.evaluate import TaskNotAvailable

    if isinstance(exc, TaskNotAvailable):
        return f"{exc}." + ("\nScore it with `--mode fast`." if exc.mode == "accurate" else "")
    if isinstance(exc, EvalError):
        from socialloop.cli.learn_cmds import eval_remedy

        return eval_remedy(exc)
    return str(exc)


class SocialloopGroup(click.Group):
    """A click group that turns library errors into remedies."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SocialloopError as exc:
            # the message may quote user input (queries, names): never read it as markup
            err_console().print(f"[bold red]Error:[/] {escape(remedy(exc))}", markup=True)
            sys.exit(1)
        except KeyboardInterrupt:
            err_console().print(
                "Interrupted. Work committed so far is kept; run it again to finish."
            )
            sys.exit(130)


def workspace_option(func: F) -> F:
    """``--workspace DIR`` (env SOCIALLOOP_WORKSPACE, default the current directory)."""
    return click.option(
        "--workspace",
        "-w",
        "workspace",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="SOCIALLOOP_WORKSPACE",
        default=None,
        help="Workspace directory [env SOCIALLOOP_WORKSPACE; default: current directory].",
    )(func)


def open_workspace(path: Path | None) -> Workspace:
    return Workspace.open(path if path is not None else Path(os.getcwd()))


def parse_when(
    value: str | None, *, end: bool = False, option: str | None = None
) -> datetime | None:
    """An ISO date or datetime from the command line, as aware UTC. A bare date given as an
    upper bound (``end``) means the end of that day. ``option`` names it in the error."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            dt = datetime.combine(d, time.min, tzinfo=UTC)
            if end:
                from datetime import timedelta

                dt += timedelta(days=1)
            return dt
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"{value!r} is not an ISO date (2024-05-01) or datetime (2024-05-01T12:00:00Z)",
            param_hint=option,
        ) from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_span(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """``--since`` / ``--until`` as aware UTC (``until`` a bare date: through that day); an
    empty span (until at or before since) is a usage error rather than silently nothing."""
    start = parse_when(since, option="--since")
    stop = parse_when(until, end=True, option="--until")
    if start is not None and stop is not None and stop <= start:
        raise click.BadParameter(
            f"--until {until} is not after --since {since}, so nothing can match; "
            "swap them or widen the span",
            param_hint="--since / --until",
        )
    return start, stop


def parse_map(values: tuple[str, ...]) -> dict[str, str]:
    """``--map text=COL,created_at=COL`` (repeatable) into a dict."""
    out: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            key, sep, col = part.partition("=")
            if not sep or not key.strip() or not col.strip():
                raise click.BadParameter(
                    f"{part!r} is not FIELD=COLUMN (for example text=body,created_at=date)",
                    param_hint="--map",
                )
            out[key.strip()] = col.strip()
    return out
