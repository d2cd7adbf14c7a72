"""The ``socialloop`` console script: one command group, one module per verb group."""

from __future__ import annotations

import click

from socialloop import __version__
from socialloop.cli.app import SocialloopGroup
from socialloop.cli.brand_cmds import brand_group
from socialloop.cli.conversation_cmds import advocates_cmd, responsetimes_cmd, thread_cmd
from socialloop.cli.data_cmds import export_cmd, import_cmd, search_cmd
from socialloop.cli.graph_cmds import (
    communities_cmd,
    graph_group,
    influencers_cmd,
    similar_authors_cmd,
)
from socialloop.cli.inbox_cmds import inbox_group
from socialloop.cli.inbox_setup_cmds import agent_group, saved_reply_group, sla_group
from socialloop.cli.learn_cmds import enrich_cmd, eval_cmd, topics_cmd
from socialloop.cli.publish_cmds import publish_group
from socialloop.cli.report_cmds import alerts_group, report_cmd, sov_cmd, spikes_cmd
from socialloop.cli.simulate_cmd import simulate_cmd
from socialloop.cli.source_cmds import listen_cmd, source_group
from socialloop.cli.web_cmds import serve_cmd, token_group, user_group
from socialloop.cli.workspace_cmds import init_cmd, status_cmd


@click.group(cls=SocialloopGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="socialloop")
def cli() -> None:
    """socialloop: listen to, learn from, engage with and adapt to the public conversation
    about your brand and its competitors.

    Start with `socialloop init`, define brands with `socialloop brand add`, bring posts in
    with `socialloop import` (or `socialloop simulate` for demo data) and explore them with
    `socialloop search`. Every command takes --workspace DIR (env SOCIALLOOP_WORKSPACE).
    """


for command in (
    init_cmd,
    publish_group,
    status_cmd,
    brand_group,
    import_cmd,
    search_cmd,
    export_cmd,
    simulate_cmd,
    enrich_cmd,
    eval_cmd,
    report_cmd,
    alerts_group,
    spikes_cmd,
    sov_cmd,
    topics_cmd,
    thread_cmd,
    responsetimes_cmd,
    advocates_cmd,
    graph_group,
    influencers_cmd,
    communities_cmd,
    similar_authors_cmd,
    source_group,
    listen_cmd,
    inbox_group,
    saved_reply_group,
    sla_group,
    agent_group,
    serve_cmd,
    user_group,
    token_group,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="socialloop")


if __name__ == "__main__":
    main()
