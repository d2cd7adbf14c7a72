"""``socialloop serve``, ``socialloop user add | list | remove`` and
``socialloop token create | list | revoke``: the web dashboard and API, and who may use them."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import open_workspace, workspace_option


def _console() -> Console:
    return Console(highlight=False)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)
@workspace_option
def serve_cmd(host: str, port: int, workspace: Path | None) -> None:
    """Serve the dashboard and the REST API (OpenAPI at /api/openapi.json).

    Sign in with a user from `socialloop user add`; API clients send
    `Authorization: Bearer TOKEN` with a token from `socialloop token create`."""
    import os

    import uvicorn

    from socialloop.web.app import create_app

    root = workspace if workspace is not None else Path(os.getcwd())
    app = create_app(root)  # a missing workspace is reported before uvicorn starts
    if not app.state.socialloop.users.all():
        click.echo(
            "No users yet: add one with `socialloop user add NAME --role admin --password-stdin`.",
            err=True,
        )
    click.echo(f"socialloop dashboard: http://{host}:{port}/  (OpenAPI: /api/openapi.json)")
    uvicorn.run(app, host=host, port=port, log_level="info")


@click.group("user")
def user_group() -> None:
    """People who may sign in to the dashboard and the API, and their roles."""


@user_group.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["viewer", "agent", "analyst", "admin"]),
    required=True,
    help="viewer < agent (inbox) < analyst (brands, imports) < admin (users, tokens).",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    required=True,
    help="Read the password from standard input (first line).",
)
@workspace_option
def user_add(name: str, role: str, password_stdin: bool, workspace: Path | None) -> None:
    """Add user NAME with ROLE; the password comes from standard input."""
    from socialloop.web.users import MIN_PASSWORD, Users

    if not password_stdin:
        raise click.UsageError("give --password-stdin and pipe the password in")
    if sys.stdin.isatty():  # typed by hand: do not echo it
        password = click.prompt("Password", hide_input=True, default="", show_default=False)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(
            f"the password read from stdin is {'empty' if not password else 'too short'}: "
            f"use at least {MIN_PASSWORD} characters",
            param_hint="--password-stdin",
        )
    with open_workspace(workspace) as ws:
        user = Users(ws.store).add(name, role, password)
    click.echo(f"Added user {user.name!r} ({user.role}).")


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def user_list(as_json: bool, workspace: Path | None) -> None:
    """List users and their roles."""
    from socialloop.web.users import Users

    with open_workspace(workspace) as ws:
        users = Users(ws.store).all()
    if as_json:
        click.echo(orjson.dumps([u.to_dict() for u in users], option=orjson.OPT_INDENT_2))
        return
    if not users:
        click.echo(
            "No users yet. Add one with `socialloop user add NAME --role ROLE --password-stdin`."
        )
        return
    table = Table()
    for col in ("user", "role", "created"):
        table.add_column(col)
    for u in users:
        table.add_row(Text(u.name), u.role, u.created_at.strftime("%Y-%m-%d"))
    _console().print(table)


@user_group.command("remove")
@click.argument("name")
@workspace_option
def user_remove(name: str, workspace: Path | None) -> None:
    """Remove user NAME with their sessions and API tokens."""
    from socialloop.web.users import Users

    with open_workspace(workspace) as ws:
        Users(ws.store).remove(name)
    click.echo(f"Removed user {name!r}; their sessions and tokens no longer work.")


@click.group("token")
def token_group() -> None:
    """API tokens (`Authorization: Bearer TOKEN`)."""


@token_group.command("create")
@click.option("--user", "user_name", required=True, help="The user the token acts as.")
@click.option("--name", "label", default=None, help="A label to recognise the token by.")
@workspace_option
def token_create(user_name: str, label: str | None, workspace: Path | None) -> None:
    """Create an API token for a user and print it (it is shown only this once)."""
    from socialloop.web.users import Users

    with open_workspace(workspace) as ws:
        token, record = Users(ws.store).create_token(user_name, label)
    click.echo(token)
    click.echo(
        f"Token {record.id} for {record.user} ({record.name}); store it now, it is not shown "
        "again. Use it as `Authorization: Bearer TOKEN`.",
        err=True,
    )


@token_group.command("list")
@click.option("--user", "user_name", default=None, help="Only this user's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def token_list(user_name: str | None, as_json: bool, workspace: Path | None) -> None:
    """List API tokens (their prefixes, never the tokens)."""
    from socialloop.web.users import Users

    with open_workspace(workspace) as ws:
        tokens = Users(ws.store).tokens(user_name)
    if as_json:
        click.echo(orjson.dumps([t.to_dict() for t in tokens], option=orjson.OPT_INDENT_2))
        return
    if not tokens:
        click.echo("No API tokens. Create one with `socialloop token create --user NAME`.")
        return
    table = Table()
    for col in ("id", "user", "name", "prefix", "created", "last used", "state"):
        table.add_column(col)
    for t in tokens:
        table.add_row(
            str(t.id),
            Text(t.user),
            Text(t.name),
            t.prefix + "…",
            t.created_at.strftime("%Y-%m-%d"),
            t.last_used_at.strftime("%Y-%m-%d %H:%M") if t.last_used_at else "never",
            "revoked" if t.revoked_at else "active",
        )
    _console().print(table)


@token_group.command("revoke")
@click.argument("token_id", type=int)
@workspace_option
def token_revoke(token_id: int, workspace: Path | None) -> None:
    """Revoke API token TOKEN_ID (see `token list`); requests with it then get 401."""
    from socialloop.web.users import Users

    with open_workspace(workspace) as ws:
        Users(ws.store).revoke_token(token_id)
    click.echo(f"Token {token_id} revoked.")
