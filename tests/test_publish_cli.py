"""``socialloop publish check`` without network access: what is and is not configured."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from socialloop.cli.publish_cmds import publish_remedy
from socialloop.errors import PublishAuthError, PublishOutcomeUnknown, PublishRateLimited


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "acme"
    res = CliRunner().invoke(cli, ["init", str(ws)])
    assert res.exit_code == 0, res.output
    return ws


def test_nothing_configured_says_how_to_configure(root: Path) -> None:
    res = CliRunner().invoke(cli, ["publish", "check", "--workspace", str(root)])
    assert res.exit_code == 0, res.output
    assert "[publish.mastodon]" in res.output and "docs/publishing.md" in res.output


def test_missing_credentials_fail_with_the_variable_to_set(root: Path) -> None:
    toml = root / "socialloop.toml"
    toml.write_text(
        toml.read_text()
        + '\n[publish.mastodon]\ninstance = "social.example"\n'
        + '\n[publish.bluesky]\nhandle = "brand.example"\npassword_env = "BRAND_APP_PW"\n'
    )
    env = {"SOCIALLOOP_MASTODON_TOKEN": "", "BRAND_APP_PW": ""}
    res = CliRunner().invoke(cli, ["publish", "check", "--workspace", str(root)], env=env)
    assert res.exit_code == 1
    assert "mastodon: FAILED" in res.output and "export SOCIALLOOP_MASTODON_TOKEN=" in res.output
    assert "bluesky: FAILED" in res.output and "export BRAND_APP_PW=" in res.output
    res = CliRunner().invoke(
        cli, ["publish", "check", "-n", "bluesky", "--workspace", str(root)], env=env
    )
    assert "mastodon" not in res.output and "bluesky: FAILED" in res.output


def test_remedies() -> None:
    missing = PublishAuthError("x", setting="publish.bluesky.handle")
    assert "set handle in the [publish.bluesky] table" in publish_remedy(missing)
    assert "in 90 s" in publish_remedy(PublishRateLimited("slow", retry_after=90.0))
    assert "never posts twice" in publish_remedy(PublishOutcomeUnknown("?"))
