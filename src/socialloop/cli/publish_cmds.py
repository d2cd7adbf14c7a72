"""``socialloop publish check``: verify the credentials replies are published with."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from socialloop.cli.app import open_workspace, workspace_option
from socialloop.engage.publish.base import publisher_for
from socialloop.errors import (
    PublishAuthError,
    PublishError,
    PublishOutcomeUnknown,
    PublishRateLimited,
)

NETWORKS = ("mastodon", "bluesky")
SECTIONS = {"mastodon": "publish.mastodon", "bluesky": "publish.bluesky"}


def publish_remedy(exc: PublishError) -> str:
    """What to do about a publishing error (CLI wording)."""
    if isinstance(exc, PublishAuthError):
        where = exc.setting
        if where.startswith("publish."):
            section, _, key = where.rpartition(".")
            fix = f"set {key} in the [{section}] table of socialloop.toml"
        elif where:
            fix = f"export {where}=... (see docs/publishing.md for the token or app password)"
        else:
            fix = "check the account's credentials (docs/publishing.md)"
        return f"{exc}\n  To fix: {fix}."
    if isinstance(exc, PublishRateLimited):
        wait = f" in {exc.retry_after:.0f} s" if exc.retry_after is not None else " later"
        return f"{exc}\n  Try again{wait}."
    if isinstance(exc, PublishOutcomeUnknown):
        return f"{exc}\n  Run it again: the same reply key never posts twice."
    return str(exc)


@click.group("publish")
def publish_group() -> None:
    """Publishing replies back to Mastodon and Bluesky (see docs/publishing.md)."""


@publish_group.command("check")
@click.option(
    "--network",
    "-n",
    type=click.Choice(NETWORKS, case_sensitive=False),
    default=None,
    help="Check one network only [default: every network with a [publish.*] table].",
)
@workspace_option
def publish_check(network: str | None, workspace: Path | None) -> None:
    """Sign in to each configured network and say as which account replies would go out.

    Mastodon: GET /api/v1/accounts/verify_credentials with the token. Bluesky:
    com.atproto.server.createSession with the app password. Nothing is posted.
    """
    with open_workspace(workspace) as ws:
        settings = ws.settings
        chosen = (
            [network.lower()] if network else [n for n in NETWORKS if settings.section(SECTIONS[n])]
        )
        if not chosen:
            click.echo(
                "No network is set up for publishing. Add a [publish.mastodon] or "
                "[publish.bluesky] table to socialloop.toml (see docs/publishing.md)."
            )
            return
        failed = False
        for name in chosen:
            publisher = publisher_for(name, settings)
            check = getattr(publisher, "check", None)
            if check is None:  # pragma: no cover - every name in NETWORKS has a publisher
                continue
            try:
                account = check()
            except PublishError as exc:
                failed = True
                click.echo(f"{name}: FAILED\n  {publish_remedy(exc)}", err=True)
                continue
            click.echo(f"{name}: OK, replies go out as {account}")
        if failed:
            sys.exit(1)
