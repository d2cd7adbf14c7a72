"""``socialloop source ...`` (manage live sources) and ``socialloop listen`` (poll them)."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import open_workspace, workspace_option
from socialloop.cli.output import clean

# option name -> config key; only the options given go into the config, and the connector's
# spec says which keys it takes (an option it does not know is refused with its list)
_OPTION_KEYS = {
    "instance": "instance",
    "hashtag": "hashtag",
    "query": "query",
    "account": "account",
    "url": "url",
    "subreddit": "subreddit",
    "lang": "lang",
    "tags": "tags",
    "token_env": "token_env",
    "client_id": "client_id",
    "client_secret_env": "client_secret_env",
    "identifier": "identifier",
    "password_env": "password_env",
    "limit": "limit",
    "max_pages": "max_pages",
    "per_minute": "per_minute",
    "timeout": "timeout",
    "retries": "retries",
}

_REMEDIES = {
    "BadCredentials": "check the token / client secret and the environment variable naming it "
    "(socialloop source show NAME)",
    "EndpointGone": "check the instance, URL, hashtag, account or subreddit "
    "(socialloop source show NAME)",
    "PayloadChanged": "the network answered something unexpected (changed API, or a URL that "
    "is not a feed); the stored posts are safe",
    "RateLimited": "poll less often (--every) or lower --per-minute; the next run resumes",
    "ConnectorUnavailable": "the network did not answer; the next run resumes from the checkpoint",
    "InvalidValue": "fix the source (socialloop source remove NAME, then add it again)",
}


@click.group("source")
def source_group() -> None:
    """Manage live sources: where `socialloop listen` polls (Mastodon, Bluesky, Reddit,
    Hacker News, RSS / Atom). See docs/connectors.md."""


@source_group.command("add")
@click.argument("name")
@click.option(
    "--connector",
    "-c",
    required=True,
    type=click.Choice(["mastodon", "bluesky", "reddit", "hackernews", "rss"]),
    help="The network to poll.",
)
@click.option("--instance", default=None, help="mastodon: instance URL (https://mastodon.social).")
@click.option("--hashtag", default=None, help="mastodon: follow a hashtag timeline.")
@click.option(
    "--query", "-q", default=None, help="mastodon / bluesky / reddit / hackernews: search."
)
@click.option("--account", default=None, help="mastodon: follow an account (user@instance).")
@click.option("--url", default=None, help="rss: the feed URL.")
@click.option("--subreddit", default=None, help="reddit: a subreddit's new posts.")
@click.option("--lang", default=None, help="bluesky: only posts in this language.")
@click.option("--tags", default=None, help="hackernews: both (default), story or comment.")
@click.option("--token-env", default=None, help="mastodon: variable holding an access token.")
@click.option("--client-id", default=None, help="reddit: OAuth app client id.")
@click.option("--client-secret-env", default=None, help="reddit: variable holding the secret.")
@click.option("--identifier", default=None, help="bluesky: handle to sign in with (optional).")
@click.option("--password-env", default=None, help="bluesky: variable holding an app password.")
@click.option("--limit", type=int, default=None, help="Items per page.")
@click.option("--max-pages", type=int, default=None, help="Pages per run (and first run).")
@click.option("--per-minute", type=float, default=None, help="Rate budget: requests a minute.")
@click.option("--timeout", type=float, default=None, help="Request timeout in seconds.")
@click.option("--retries", type=int, default=None, help="Retries on errors, 5xx and 429.")
@click.option("--set", "extra", multiple=True, help="Any other config KEY=VALUE.")
@workspace_option
def add_cmd(name: str, connector: str, extra: tuple[str, ...], workspace: Path | None,
            **options: Any) -> None:  # fmt: skip
    """Add a live source NAME polled by CONNECTOR.

    \b
    Examples:
      socialloop source add tag -c mastodon --instance mastodon.social --hashtag coffee
      socialloop source add sky -c bluesky --query "brewhaven"
      socialloop source add r-coffee -c reddit --subreddit coffee
      socialloop source add hn -c hackernews --query brewhaven
      socialloop source add blog -c rss --url https://example.com/feed.xml
    """
    from socialloop.listen.sources import add_source

    config: dict[str, Any] = {
        _OPTION_KEYS[k]: v for k, v in options.items() if v is not None and k in _OPTION_KEYS
    }
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--set")
        config[key.strip()] = value.strip()
    with open_workspace(workspace) as ws:
        src = add_source(ws.store, name, connector, config)
        shown = ", ".join(f"{k}={v}" for k, v in src.config.items())
        click.echo(f"Added source {src.name} ({src.connector}): {shown}")
        click.echo(f"Poll it with `socialloop listen {src.name} --once`.")


@source_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@workspace_option
def list_cmd(as_json: bool, workspace: Path | None) -> None:
    """List sources (live ones and those filled by imports), with their last run."""
    from socialloop.listen.sources import list_sources

    with open_workspace(workspace) as ws:
        items = list_sources(ws.store, count=True)
    if as_json:
        for s in items:
            click.echo(orjson.dumps(s.to_dict(), default=str).decode())
        return
    if not items:
        click.echo("No sources. Add one with `socialloop source add NAME --connector C ...`.")
        return
    table = Table(title_justify="left")
    for col in ("name", "connector", "what", "posts", "last run (UTC)", "status"):
        table.add_column(col)
    for s in items:
        what = next(
            (f"{k}={s.config[k]}" for k in ("hashtag", "query", "account", "subreddit", "url")
             if s.config.get(k)),
            "",
        )  # fmt: skip
        status = s.last_status or ("-" if s.live else "import")
        if not s.enabled:
            status += " (disabled)"
        table.add_row(
            Text(s.name),
            Text(s.connector),
            Text(clean(what)),
            Text(f"{s.posts or 0:,}"),
            Text(s.last_run_at.strftime("%Y-%m-%d %H:%M") if s.last_run_at else "-"),
            Text(status),
        )
    Console(highlight=False).print(table)


@source_group.command("show")
@click.argument("name")
@workspace_option
def show_cmd(name: str, workspace: Path | None) -> None:
    """Show a source: its config, checkpoint and last run (as JSON)."""
    from socialloop.listen.sources import get_source

    with open_workspace(workspace) as ws:
        src = get_source(ws.store, name, count=True)
    click.echo(orjson.dumps(src.to_dict(), option=orjson.OPT_INDENT_2, default=str).decode())


@source_group.command("remove")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@workspace_option
def remove_cmd(name: str, yes: bool, workspace: Path | None) -> None:
    """Remove a source. The posts it brought stay in the store."""
    from socialloop.listen.sources import get_source, remove_source

    with open_workspace(workspace) as ws:
        get_source(ws.store, name)
        if not yes and sys.stdin.isatty():
            click.confirm(f"Remove source {name}?", abort=True)
        remove_source(ws.store, name)
    click.echo(f"Removed source {name} (its posts are kept).")


@source_group.command("reset")
@click.argument("name")
@workspace_option
def reset_cmd(name: str, workspace: Path | None) -> None:
    """Forget where a source stopped: its next run starts over (posts already stored are
    updated, not duplicated; edits made since are picked up)."""
    from socialloop.listen.sources import reset_checkpoint

    with open_workspace(workspace) as ws:
        reset_checkpoint(ws.store, name)
    click.echo(f"Checkpoint of {name} cleared.")


@source_group.command("enable")
@click.argument("name")
@workspace_option
def enable_cmd(name: str, workspace: Path | None) -> None:
    """Poll this source again when `socialloop listen` runs without names."""
    from socialloop.listen.sources import set_enabled

    with open_workspace(workspace) as ws:
        set_enabled(ws.store, name, True)
    click.echo(f"Source {name} enabled.")


@source_group.command("disable")
@click.argument("name")
@workspace_option
def disable_cmd(name: str, workspace: Path | None) -> None:
    """Skip this source when `socialloop listen` runs without names."""
    from socialloop.listen.sources import set_enabled

    with open_workspace(workspace) as ws:
        set_enabled(ws.store, name, False)
    click.echo(f"Source {name} disabled.")


# -- listen ----------------------------------------------------------------------------------


class _Stop:
    """The first Ctrl-C asks to stop between pages; the second one interrupts at once."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        click.echo("Stopping after the current page (Ctrl-C again to stop now)...", err=True)


class _Progress:
    """One status line per page (on terminals) and one summary line per source."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.status: Any = None

    def start_source(self, source: Any) -> None:
        if self.console.is_terminal:
            self.status = self.console.status(f"{source.name}: fetching...")
            self.status.start()

    def page(self, report: Any) -> None:
        if self.status is not None:
            self.status.update(
                f"{report.name}: page {report.pages}, {report.items:,} items, {report.new:,} new"
            )

    def end_source(self, report: Any) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None
        print_source_report(report)


def print_source_report(report: Any) -> None:
    """One line per source (plain text: names and errors are never read as markup)."""
    line = (
        f"  {report.name} ({report.connector}) {report.status}: {report.pages} pages, "
        f"{report.items:,} items, new {report.new:,}, updated {report.updated:,}, "
        f"unchanged {report.unchanged:,}, rejected {report.rejected:,}; "
        f"{report.requests} requests in {report.seconds:.1f}s"
    )
    if report.waited:
        line += f" (waited {report.waited:.1f}s)"
    click.echo(line)
    if report.error:
        click.echo(f"    ERROR: {report.error}")
        hint = _REMEDIES.get(report.error_kind or "")
        if hint:
            click.echo(f"    -> {hint}")
    if report.enrich_error:
        click.echo(f"    Enrichment skipped: {report.enrich_error}. Run `socialloop enrich`.")
    for reject in report.first_rejects[:5]:
        click.echo(f"    rejected {reject}")
    if report.rejects_path:
        click.echo(f"    Rejected items written to {report.rejects_path}")


@click.command("listen")
@click.argument("sources", nargs=-1)
@click.option("--once", is_flag=True, help="Poll each source once and exit (the default).")
@click.option("--every", default=None, help="Poll again every INTERVAL (30s, 5m, 1h) until Ctrl-C.")
@click.option("--no-enrich", is_flag=True, help="Do not run the LEARN steps on new posts.")
@workspace_option
def listen_cmd(
    sources: tuple[str, ...], once: bool, every: str | None, no_enrich: bool,
    workspace: Path | None,
) -> None:  # fmt: skip
    """Poll live SOURCES (default: every enabled live source): fetch, store, match brands,
    enrich.

    Each page is stored with its checkpoint in one transaction, so a crash or Ctrl-C resumes
    where it stopped, with no gap and no duplicate. A source that fails is reported and the
    others still run. Exits 1 when every source failed.
    """
    from socialloop.listen.live import listen, listen_once, parse_interval

    if once and every:
        raise click.UsageError("give --once or --every, not both")
    interval = parse_interval(every) if every else None
    stop = _Stop()
    previous: Callable[..., Any] | int | None = signal.getsignal(signal.SIGINT)
    try:
        signal.signal(signal.SIGINT, stop.handler)
    except ValueError:  # not the main thread: Ctrl-C interrupts at once instead
        previous = None
    console = Console(stderr=True, highlight=False)
    progress = _Progress(console)
    failed_all = False
    try:
        with open_workspace(workspace) as ws:
            if interval is None:
                reports = listen_once(
                    ws, sources, progress=progress, should_stop=stop, enrich=not no_enrich
                )
                if not reports:
                    click.echo("No live source to poll. Add one with `socialloop source add`.")
                failed_all = bool(reports) and all(r.status == "error" for r in reports)
                _summary(reports)
            else:

                def on_cycle(reports: list[Any]) -> None:
                    _summary(reports)
                    click.echo(f"Next poll in {every}. Ctrl-C to stop.", err=True)

                def on_error(exc: Exception) -> None:
                    click.echo(f"Poll failed: {exc!r}; trying again in {every}.", err=True)

                listen(
                    ws,
                    sources,
                    every=interval,
                    should_stop=stop,
                    on_cycle=on_cycle,
                    on_error=on_error,
                    progress=progress,
                    enrich=not no_enrich,
                )
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if stop.requested:
        click.echo("Stopped. Work committed so far is kept; the next run resumes.", err=True)
    if failed_all:
        sys.exit(1)


def _summary(reports: list[Any]) -> None:
    if not reports:
        return
    new = sum(r.new for r in reports)
    updated = sum(r.updated for r in reports)
    errors = sum(1 for r in reports if r.status == "error")
    click.echo(
        f"Polled {len(reports)} source(s): {new:,} new posts, {updated:,} updated"
        + (f", {errors} failed" if errors else "")
    )
