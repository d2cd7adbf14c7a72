"""Render posts and summaries for the terminal (Rich tables; JSONL and CSV: adapt/export.py).

Post text is hostile input: Rich markup in it is never interpreted (``Text`` objects, no
markup parsing), and control characters are replaced before printing.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from socialloop.models import Post

__all__ = ["clean", "posts_table", "print_posts"]

_CONTROL = {i: " " for i in range(32) if i not in (10,)} | {127: " "}


def clean(text: str, *, single_line: bool = True) -> str:
    out = text.translate(_CONTROL)
    return out.replace("\n", " ") if single_line else out


def posts_table(posts: list[Post], *, title: str | None = None, width: int = 100) -> Table:
    table = Table(title=title, show_lines=False, expand=False, title_justify="left")
    table.add_column("when (UTC)", no_wrap=True, style="dim")
    table.add_column("network", no_wrap=True)
    table.add_column("author", no_wrap=True, max_width=20)
    table.add_column("text", max_width=width, overflow="ellipsis")
    for p in posts:
        table.add_row(
            Text(p.created_at.strftime("%Y-%m-%d %H:%M")),
            Text(p.network),
            Text(clean(p.author.handle) if p.author else "-"),
            Text(clean(p.text)),
        )
    return table


def print_posts(console: Console, posts: list[Post], *, title: str | None = None) -> None:
    console.print(posts_table(posts, title=title))
