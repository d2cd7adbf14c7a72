"""The graph commands end to end (click's runner, a real workspace): remedies before a build,
then build, influencers, communities, export and similar-authors on imported posts."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx
import orjson
import pytest
from click.testing import CliRunner

from socialloop.cli.main import cli
from tests.conftest import make_post


@pytest.fixture
def root(root: Path, tmp_path: Path, runner: CliRunner) -> Path:
    """The fresh workspace of conftest's ``root``, with two groups of mentioning authors."""
    ws = root
    posts = [make_post("hub", "acme news #coffee", handle="hub", followers=900, likes=30)]
    n = 0
    for group in (["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4"]):
        for a, b in itertools.permutations(group, 2):
            n += 1
            posts.append(make_post(str(n), f"@{b} @hub acme #coffee", handle=a, followers=10))
    posts.append(make_post("z", "#coffee #beans morning", handle="loner", followers=5))
    data = tmp_path / "in.jsonl"
    data.write_bytes(b"".join(orjson.dumps(p.to_dict()) + b"\n" for p in posts))
    res = runner.invoke(cli, ["import", str(data), "--workspace", str(ws), "--no-enrich"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        cli, ["brand", "add", "Acme", "-q", "acme", "--account", "hub", "--workspace", str(ws)]
    )
    assert res.exit_code == 0, res.output
    return ws


def run(runner: CliRunner, root: Path, *args: str, code: int = 0) -> str:
    res = runner.invoke(cli, [*args, "--workspace", str(root)])
    assert res.exit_code == code, res.output
    return res.output


@pytest.mark.parametrize(
    "args",
    [
        ("influencers",),
        ("communities",),
        ("graph", "export", "--format", "gexf", "--out", "x.gexf"),
    ],
)
def test_commands_before_a_build_say_how_to_build(
    runner: CliRunner, root: Path, args: tuple[str, ...]
) -> None:
    out = run(runner, root, *args, code=1)
    assert "socialloop graph build" in out


def test_build_then_read_influencers_communities_and_export(
    runner: CliRunner, root: Path, tmp_path: Path
) -> None:
    out = run(runner, root, "graph", "build")
    assert "nodes" in out and "communities" in out
    doc = orjson.loads(run(runner, root, "graph", "build", "--json"))
    assert doc["nodes"] == 9 and doc["communities"] == 2
    top = orjson.loads(run(runner, root, "influencers", "--json", "--limit", "3"))
    assert top[0]["author_id"] == "twitter:hub"
    assert len(top) == 3
    assert {"authority", "reach", "engagement", "amplification"} <= set(top[0]["components"])
    brand = orjson.loads(run(runner, root, "influencers", "--brand", "Acme", "--json"))
    assert brand[0]["scope"].startswith("brand:")
    assert "relevance" in brand[0]["components"]
    assert [r["author_id"] for r in brand if r["own"]] == ["twitter:hub"]
    others = orjson.loads(
        run(runner, root, "influencers", "--brand", "Acme", "--no-own", "--json", "-n", "50")
    )
    assert "twitter:hub" not in {r["author_id"] for r in others}
    assert len(others) == len(brand) - 1
    table = run(runner, root, "influencers", "--limit", "2")
    assert "twitter:hub (own)" in table and "score" in table
    comms = orjson.loads(run(runner, root, "communities", "--json"))
    assert [c["size"] for c in comms] == [5, 4]  # the hub joins one of the two groups
    assert comms[0]["hashtags"][0]["hashtag"] == "#coffee"
    assert "Community 0" in run(runner, root, "communities")
    out_file = tmp_path / "g.gexf"
    assert "Wrote 9 nodes" in run(
        runner, root, "graph", "export", "--format", "gexf", "--out", str(out_file)
    )
    assert nx.read_gexf(out_file).number_of_nodes() == 9


def test_build_restricted_to_a_brand_and_window(runner: CliRunner, root: Path) -> None:
    doc = orjson.loads(
        run(runner, root, "graph", "build", "--brand", "Acme", "--until", "2020-01-01", "--json")
    )
    assert doc["edges"] == 0 and doc["posts"] == 0
    doc = orjson.loads(run(runner, root, "graph", "build", "@hub", "--json"))
    assert doc["nodes"] == 9


def test_similar_authors(runner: CliRunner, root: Path) -> None:
    got = orjson.loads(run(runner, root, "similar-authors", "loner", "--json"))
    assert got[0]["author"] == "twitter:loner"
    assert all("#coffee" in r["shared"] for r in got)
    assert "Authors like twitter:loner" in run(runner, root, "similar-authors", "@loner")
    assert "no author" in run(runner, root, "similar-authors", "ghost", code=1)
