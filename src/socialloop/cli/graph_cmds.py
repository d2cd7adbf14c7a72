"""``socialloop graph build | export``, ``influencers``, ``communities``, ``similar-authors``:
the interaction graph, influence, micro-crowds and the interest graph (socialloop.graph)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.cli.app import err_console, open_workspace, parse_span, workspace_option
from socialloop.cli.output import clean
from socialloop.errors import GraphNotBuilt, NotFound

REMEDY = "Build it with `socialloop graph build` (see `socialloop graph build --help`)."


@contextmanager
def _needs_graph() -> Iterator[None]:
    """Turn 'no graph built yet' into its remedy."""
    try:
        yield
    except GraphNotBuilt as exc:
        err_console().print(Text(f"Error: {str(exc).capitalize()}.\n{REMEDY}"))
        sys.exit(1)


def _dump(doc: Any) -> None:
    click.echo(orjson.dumps(doc, default=str, option=orjson.OPT_INDENT_2).decode())


@click.group("graph")
def graph_group() -> None:
    """The interaction graph (replies, mentions, reshares, quotes between authors): build it,
    with influence scores and communities, and export it for Gephi."""


@graph_group.command("build")
@click.argument("query", required=False)
@click.option("--brand", "-b", default=None, help="Only the posts of this brand.")
@click.option("--since", default=None, help="Only interactions from this ISO date on.")
@click.option(
    "--until", default=None, help="Only interactions before this ISO date (inclusive day)."
)
@click.option(
    "--method",
    type=click.Choice(["modularity", "cpm"]),
    default="modularity",
    show_default=True,
    help="Leiden objective for communities.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Leiden seed.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@workspace_option
def graph_build(
    query: str | None,
    brand: str | None,
    since: str | None,
    until: str | None,
    method: str,
    seed: int,
    as_json: bool,
    workspace: Path | None,
) -> None:
    """Build the interaction graph of the posts matching QUERY (default: all), score every
    author's influence (overall, per brand, per topic) and find the communities. Replaces
    the previous build's scores and communities."""
    from socialloop.graph.build import Restriction
    from socialloop.graph.pipeline import build

    start, stop = parse_span(since, until)
    restriction = Restriction(brand=brand, query=query, since=start, until=stop)
    console = Console(stderr=True, highlight=False)
    with (
        open_workspace(workspace) as ws,
        console.status("building the graph", spinner="dots") as status,
    ):

        def progress(stage: str) -> None:
            if console.is_terminal:
                status.update(stage)

        report = build(ws, restriction, method=method, seed=seed, progress=progress)  # type: ignore[arg-type]
    if as_json:
        _dump(report.to_dict())
        return
    table = Table(title="Interaction graph built", title_justify="left", show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    rows = [
        ("posts", f"{report.posts:,}"),
        ("interactions", f"{report.interactions:,}"),
        ("nodes (authors with an interaction)", f"{report.nodes:,}"),
        ("edges", f"{report.edges:,}"),
        ("communities", f"{report.communities:,}"),
        ("scopes scored", f"{report.scopes:,} ({report.scores:,} scores)"),
        ("time", f"{report.seconds:.1f} s"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    Console(highlight=False).print(table)
    click.echo(
        "Next: `socialloop influencers`, `socialloop communities`, "
        "`socialloop graph export --format gexf --out graph.gexf`."
    )


@graph_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["gexf", "graphml", "csv"]), required=True)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Output file (csv: the edges; the nodes go to <stem>.nodes.csv beside it).",
)
@workspace_option
def graph_export(fmt: str, out: Path, workspace: Path | None) -> None:
    """Export the last build's graph with node attributes handle, followers, influence and
    community (GEXF and GraphML open in Gephi)."""
    from socialloop.graph.export import export_graph

    with _needs_graph(), open_workspace(workspace) as ws:
        report = export_graph(ws, out, fmt)
    click.echo(
        f"Wrote {report.nodes:,} nodes and {report.edges:,} edges to "
        + ", ".join(str(p) for p in report.files)
    )


def _built_caption(run: dict[str, Any]) -> str:
    """When and over which posts the graph was built."""
    params = {k: v for k, v in dict(run["params"]).items() if v}
    over = ", ".join(f"{k} {v}" for k, v in params.items()) or "every post"
    return f"graph built {str(run['built_at'])[:16]} over {over}; see docs/influence.md"


def _scope(ws: Any, brand: str | None, topic: int | None) -> tuple[str, str, Callable[[str], bool]]:
    """The scope key, its title, and who counts as an own account there (the brand's, or
    any brand's outside a brand scope)."""
    if brand and topic:
        raise click.UsageError("give --brand or --topic, not both")
    if brand:
        b = ws.store.get_brand(brand)
        return f"brand:{b.id}", f"brand {b.name}", b.owns
    brands = ws.store.list_brands()

    def any_brand(author: str) -> bool:
        return any(b.owns(author) for b in brands)

    if topic is not None:
        return f"topic:{topic}", f"topic {topic}", any_brand
    return "all", "all posts", any_brand


@click.command("influencers")
@click.option("--brand", "-b", default=None, help="Influence in the conversation about a brand.")
@click.option(
    "--topic",
    "-t",
    type=int,
    default=None,
    help="Influence in a topic (its id, see `topics`).",
)
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--no-own", "no_own", is_flag=True, help="Leave the brands' own accounts out of the ranking."
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def influencers_cmd(
    brand: str | None,
    topic: int | None,
    limit: int,
    no_own: bool,
    as_json: bool,
    workspace: Path | None,
) -> None:
    """The most influential authors, overall or about a brand or topic: the score in [0, 1]
    and its components (authority, reach, engagement, amplification, relevance), each
    normalised to [0, 1] (see docs/influence.md). The brands' own accounts are marked
    (own); --no-own leaves them out."""
    from socialloop.graph.influence import top_authors
    from socialloop.graph.pipeline import last_run

    with _needs_graph(), open_workspace(workspace) as ws:
        scope, title, own = _scope(ws, brand, topic)
        built = last_run(ws.store)
        rows = top_authors(ws.store, scope, limit, own=own, exclude_own=no_own)
    if as_json:
        _dump([{"scope": scope, **r} for r in rows])
        return
    if not rows:
        click.echo(f"No scores for {title} in the last graph build (no posts there).")
        return
    comps = ["authority", "reach", "engagement", "amplification", "relevance"]
    present = [c for c in comps if any(c in (r["components"] or {}) for r in rows)]
    table = Table(
        title=f"Influencers: {title}",
        title_justify="left",
        caption=_built_caption(built)
        + "\ncomponents in [0, 1]: auth(ority) eng(agement) ampl(ification) rel(evance)",
        caption_justify="left",
    )
    names = [clean(f"{r['network']}:{r['handle']}") + (" (own)" if r["own"] else "") for r in rows]
    short = {
        "authority": "auth",
        "engagement": "eng",
        "amplification": "ampl",
        "relevance": "rel",
    }
    console = Console(highlight=False)
    widths = {"followers": 9, "score": 5} | {c: 5 for c in present}
    # the author column takes what the numbers leave (3 = padding + rule per column)
    room = console.width - sum(widths.values()) - 3 * (len(widths) + 1) - 1
    table.add_column("author", no_wrap=True, overflow="ellipsis", max_width=max(room, 12))
    for col in ["followers", "score", *present]:
        table.add_column(short.get(col, col), justify="right", no_wrap=True, min_width=widths[col])
    for i, r in enumerate(rows, start=1):
        c = r["components"] or {}
        table.add_row(
            Text(names[i - 1]),
            f"{int(r['followers'] or 0):,}",
            f"{r['score']:.3f}",
            *[f"{float(c.get(k, 0.0)):.2f}" for k in present],
        )
    console.print(table)


@click.command("communities")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def communities_cmd(limit: int, as_json: bool, workspace: Path | None) -> None:
    """The communities (micro-crowds) of the last graph build, largest first: top authors,
    hashtags, topics, languages and sentiment toward each brand."""
    from socialloop.graph.communities import load_communities
    from socialloop.graph.pipeline import last_run

    with _needs_graph(), open_workspace(workspace) as ws:
        last_run(ws.store)
        rows = load_communities(ws.store, limit)
    if as_json:
        _dump(rows)
        return
    if not rows:
        click.echo("The last graph build found no communities (too few interactions).")
        return
    console = Console(highlight=False)
    for d in rows:
        console.print(Text(f"Community {d['id']} · {d['size']:,} authors", style="bold"))
        lines = [
            ("top authors", ", ".join(a["author_id"] for a in d["top_authors"])),
            ("hashtags", ", ".join(f"{h['hashtag']} ({h['posts']})" for h in d["hashtags"])),
            (
                "topics",
                ", ".join(f"{t['label'] or t['topic']} ({t['posts']})" for t in d["topics"]),
            ),
            ("languages", ", ".join(f"{lg['lang']} ({lg['posts']})" for lg in d["languages"])),
            (
                "sentiment",
                "; ".join(
                    f"{b}: " + " ".join(f"{k} {v}" for k, v in sorted(s.items()))
                    for b, s in (d.get("sentiment") or {}).items()
                ),
            ),
        ]
        for k, v in lines:
            if v:
                console.print(Text(f"  {k}: {clean(v)}"))


@click.command("similar-authors")
@click.argument("author")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@workspace_option
def similar_authors_cmd(author: str, limit: int, as_json: bool, workspace: Path | None) -> None:
    """People like AUTHOR (HANDLE, @HANDLE or NETWORK:HANDLE): the authors whose hashtags and
    topics are most alike, whether or not they ever interacted (the interest graph)."""
    from socialloop.graph.interest import resolve_author, similar_authors

    with open_workspace(workspace) as ws:
        try:
            aid = resolve_author(ws.store, author)
            rows = similar_authors(ws.store, aid, limit=limit)
        except NotFound as exc:
            err_console().print(
                Text(f"Error: {exc}.\nCheck the handle with `socialloop search author:HANDLE`.")
            )
            sys.exit(1)
    if as_json:
        _dump([{"author": aid, **r} for r in rows])
        return
    if not rows:
        click.echo(f"No author shares hashtags or topics with {aid}.")
        return
    table = Table(title=f"Authors like {aid}", title_justify="left")
    for col in ("author", "similarity", "shared", "interacted"):
        table.add_column(col, justify="right" if col == "similarity" else "left")
    for r in rows:
        table.add_row(
            Text(clean(r["author_id"])),
            f"{r['similarity']:.3f}",
            Text(clean(", ".join(r["shared"]))),
            "yes" if r["interacted"] else "no",
        )
    Console(highlight=False).print(table)


def run_influence_eval(data_path: Path, *, as_json: bool) -> None:
    """``socialloop eval influence``: the influence formula on PeerIndex pairs."""
    from socialloop.graph.eval_influence import evaluate_influence

    result = evaluate_influence(data_path)
    if as_json:
        _dump(result)
        return
    console = Console(highlight=False)
    console.print(Text(f"influence on {result['data']}", style="bold"))
    console.print(
        f"n {result['n']:,} · AUC {result['auc']:.3f} · accuracy {result['accuracy']:.3f}"
    )
    mapping = ", ".join(
        f"{comp} <- {feat} (weight {result['weights'][comp]:.2f})"
        for comp, feat in result["mapping"].items()
    )
    console.print(Text(f"components: {mapping}"))
