"""The web CLI: `user add --password-stdin` (refusing empty and short passwords), `user list`
and `remove`, `token create` printing a token the API accepts, `token list` and `revoke`."""

from __future__ import annotations

from pathlib import Path

import orjson
from click.testing import CliRunner
from fastapi.testclient import TestClient

from socialloop.cli.main import cli
from socialloop.web.app import create_app
from socialloop.workspace import Workspace
from tests._web import login_fields
from tests.conftest import make_post


def _run(root: Path, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--workspace", str(root)], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_user_add_and_token_create_give_a_token_the_api_accepts(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    with Workspace.init(root) as ws:
        ws.add_brand("Acme", "acme")
        ws.store.upsert_posts([make_post("1", "acme rocks"), make_post("2", "nothing here")])
        ws.edit_brand("Acme", query="acme")

    code, out, _ = _run(
        root,
        "user",
        "add",
        "ann",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="s3cret-passphrase\n",
    )
    assert code == 0, out
    assert "Added user 'ann' (viewer)" in out
    code, out, err = _run(root, "token", "create", "--user", "ann", "--name", "laptop")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("sl_") and "\n" not in token
    assert "not shown again" in err

    app = create_app(root)
    with TestClient(app) as client:
        r = client.get(
            "/api/search", params={"q": "acme"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert r.status_code == 200
        assert [p["id"] for p in r.json()["posts"]] == ["twitter:1"]
        # the stdin password signs in on the dashboard
        login = client.post(
            "/login", data=login_fields(client, "ann", "s3cret-passphrase"), follow_redirects=False
        )
        assert login.status_code == 303

        code, out, _ = _run(root, "token", "list", "--json")
        (listed,) = orjson.loads(out)
        assert listed["user"] == "ann" and listed["name"] == "laptop"
        assert token not in out and listed["prefix"] == token[:10]
        code, out, _ = _run(root, "token", "revoke", str(listed["id"]))
        assert code == 0
        r = client.get("/api/search", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


def test_user_add_refuses_empty_and_short_passwords(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.init(root).close()
    code, _, err = _run(root, "user", "add", "bo", "--role", "admin", "--password-stdin", stdin="")
    assert code == 2 and "empty" in err
    code, _, err = _run(
        root, "user", "add", "bo", "--role", "admin", "--password-stdin", stdin="short\n"
    )
    assert code == 2 and "too short" in err
    code, _, err = _run(
        root, "user", "add", "bo", "--role", "boss", "--password-stdin", stdin="long-enough-pass\n"
    )
    assert code == 2
    code, out, _ = _run(root, "user", "list", "--json")
    assert orjson.loads(out) == []


def test_user_list_and_remove(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.init(root).close()
    for name, role in (("ann", "admin"), ("bob", "agent")):
        code, _, err = _run(
            root,
            "user",
            "add",
            name,
            "--role",
            role,
            "--password-stdin",
            stdin="long-enough-pass\n",
        )
        assert code == 0, err
    code, out, err = _run(
        root,
        "user",
        "add",
        "ann",
        "--role",
        "viewer",
        "--password-stdin",
        stdin="long-enough-pass\n",
    )
    assert code == 1 and "already exists" in err
    code, out, _ = _run(root, "user", "list", "--json")
    assert [(u["name"], u["role"]) for u in orjson.loads(out)] == [
        ("ann", "admin"),
        ("bob", "agent"),
    ]
    code, out, _ = _run(root, "user", "remove", "bob")
    assert code == 0
    code, out, _ = _run(root, "user", "list", "--json")
    assert [u["name"] for u in orjson.loads(out)] == ["ann"]
    code, _, err = _run(root, "user", "remove", "bob")
    assert code == 1 and "no user 'bob'" in err
