"""Browser tests: the real app served by uvicorn on 127.0.0.1, driven by Playwright in Debian's
chromium (``/usr/bin/chromium``, or ``SOCIALLOOP_CHROMIUM``; Playwright's own browser download
is never used). A user signs in through the form, searches with the query language (a hostile
post shows as text, no dialog ever opens), works an inbox item (assign, reply, resolve; the
store is checked after each step) and opens the report. Every page the browser loads comes
from the app: a request to any other host fails the test.

Screenshots go to ``test-artifacts/screenshots/`` at the repository root (git-ignored; or
``SOCIALLOOP_TEST_ARTIFACTS``/screenshots). Without chromium or the ``playwright`` package
(``.ci/run`` installs both) the module is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("SOCIALLOOP_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.is_file():
    pytest.skip(
        f"browser tests need Debian's chromium at {CHROMIUM} (`apt-get install chromium`, "
        "which .ci/run does; or set SOCIALLOOP_CHROMIUM)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip(
    "playwright.sync_api",
    reason="browser tests need the playwright package (`pip install -e '.[dev]'`)",
)

import uvicorn  # noqa: E402

from socialloop.engage.agents import add_agent  # noqa: E402
from socialloop.engage.inbox import Inbox  # noqa: E402
from socialloop.models import Author  # noqa: E402
from socialloop.web.app import create_app  # noqa: E402
from socialloop.web.users import Users  # noqa: E402
from socialloop.workspace import Workspace  # noqa: E402
from tests.conftest import make_post  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = Path(os.environ.get("SOCIALLOOP_TEST_ARTIFACTS", ROOT / "test-artifacts"))
SHOTS = ARTIFACTS / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
PASSWORD = "a long browser passphrase"
QUESTION = "acme how do I pair the headphones?"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _seed(ws: Workspace) -> None:
    """Brand Acme; a customer's question with a reply below it, a hostile post by a hostile
    author name and two ordinary posts, imported, enriched by the real LEARN pipeline and
    triaged (the question and the complaint become inbox items); the user ``ann`` (agent, also
    an inbox agent of that name)."""
    from socialloop.engage.triage import triage_posts
    from socialloop.learn.pipeline import Pipeline
    from socialloop.learn.steps import build_steps
    from socialloop.listen.importer import import_posts
    from socialloop.web.rollups import refresh_overview

    ws.add_brand("Acme", "acme OR #acme", accounts=["acmehelp"])
    when = datetime(2026, 5, 1, 9, tzinfo=UTC)
    hostile = make_post("666", f"acme {SCRIPT} sucks", handle="mallory", when=when)
    hostile.author = Author(network="twitter", handle="mallory", name=IMG)
    import_posts(
        ws,
        [
            make_post("q", QUESTION, handle="carol", when=when),
            hostile,
            make_post("1", "acme latte was great", when=when),
            make_post("2", "acme queue too long #acme", when=when),
            make_post("r", "@carol same question here", handle="dave", parent_id="twitter:q"),
        ],
    )
    Pipeline(build_steps(ws.settings, None, ws.store)).run(ws.store, workers=1)
    # what runs after every enrichment (cli.data_cmds.triage_after_enrich)
    refresh_overview(ws)
    triage_posts(ws, None)
    Users(ws.store).add("ann", "agent", PASSWORD)
    add_agent(ws.store, "ann", languages=["en"], actor="test", now=when)


@dataclass
class Served:
    base: str
    ws: Workspace


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("browser") / "ws"
    ws = Workspace.init(root)
    _seed(ws)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(root), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", ws)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        ws.close()


@pytest.fixture(scope="module")
def shots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@dataclass
class Tab:
    """A chromium page and what it did that it must not: dialogs opened, other hosts asked."""

    page: Any
    dialogs: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)


@pytest.fixture
def tab(served: Served, tmp_path: Path) -> Iterator[Tab]:
    """A chromium page on a new, empty profile; dialogs are recorded (and dismissed), requests
    to another host recorded and refused."""
    with sync_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            tab = Tab(context.new_page())
            tab.page.set_default_timeout(30_000)
            tab.page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))

            def route(r: Any) -> None:
                if r.request.url.startswith(served.base + "/"):
                    r.continue_()
                else:
                    tab.foreign.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            yield tab
            assert tab.dialogs == [], "a page opened a dialog: hostile text ran as script"
            assert tab.foreign == [], "a page asked another host for something"
        finally:
            context.close()


def _sign_in(page: Any, base: str) -> None:
    page.goto(base + "/")
    assert page.url.startswith(base + "/login?next=")  # not signed in: sent to the form
    page.fill('input[name="name"]', "ann")
    page.fill('input[name="password"]', PASSWORD)
    page.click('form[action="/login"] button[type="submit"]')
    page.wait_for_url(base + "/")


def test_sign_in_search_work_an_inbox_item_and_open_the_report(
    served: Served, tab: Tab, shots: Path
) -> None:
    expect, page = sync_api.expect, tab.page
    base = served.base

    page.goto(base + "/login")
    page.fill('input[name="name"]', "ann")
    page.fill('input[name="password"]', "wrong password")
    page.click('form[action="/login"] button[type="submit"]')
    expect(page.locator("body")).to_contain_text("Unknown name or wrong password.")

    _sign_in(page, base)
    expect(page.locator("h1")).to_have_text("Overview")
    expect(page.locator(".card h2").first).to_contain_text("Acme")
    expect(page.locator(".card").first).to_contain_text("4 posts")
    page.screenshot(path=str(shots / "01-overview.png"), full_page=True)

    # search with the query language; the hostile post is text, nothing runs
    page.goto(base + "/search")
    page.fill('input[name="q"]', "acme AND (sucks OR great) AND NOT queue")
    page.click('form[action="/search"] button[type="submit"]')
    expect(page.locator("body")).to_contain_text("2 posts")
    expect(page.get_by_text(SCRIPT, exact=False)).to_be_visible()
    expect(page.get_by_text(IMG, exact=False).first).to_be_visible()
    assert "acme latte was great" in page.inner_text("body")
    assert "queue too long" not in page.inner_text("body")
    assert page.locator("script").count() == 0 and page.locator('img[src="x"]').count() == 0
    page.screenshot(path=str(shots / "02-search.png"), full_page=True)
    page.fill('input[name="q"]', "acme AND (")
    page.click('form[action="/search"] button[type="submit"]')
    expect(page.locator(".error")).to_contain_text("Invalid query")

    # the inbox: open the item, assign it, reply, resolve
    page.goto(base + "/inbox")
    items = {i.text: i for i in Inbox(served.ws).list_items()}
    assert sorted(items) == [f"acme {SCRIPT} sucks", QUESTION]  # a complaint, a question
    expect(page.locator("table.list")).to_contain_text(SCRIPT)  # as text
    item = items[QUESTION]
    page.click(f'td a[href="/inbox/{item.id}"]')
    page.wait_for_url(f"{base}/inbox/{item.id}")
    expect(page.locator("h1")).to_contain_text(f"Inbox item {item.id}")
    expect(page.locator("body")).to_contain_text("same question here")  # the thread
    page.screenshot(path=str(shots / "03-inbox-item.png"), full_page=True)

    page.select_option('form[action$="/assign"] select[name="agent"]', "ann")
    page.click('form[action$="/assign"] button[type="submit"]')
    expect(page.locator("body")).to_contain_text("Assigned to ann")
    assert Inbox(served.ws).get(item.id).assignee == "ann"

    page.goto(f"{base}/inbox/{item.id}")
    page.fill('form[action$="/reply"] textarea[name="text"]', "Hold the button for 5 seconds.")
    page.check('form[action$="/reply"] input[name="send"]')
    page.click('form[action$="/reply"] button[type="submit"]')
    expect(page.locator("body")).to_contain_text("Hold the button for 5 seconds.")
    assert Inbox(served.ws).get(item.id).status == "replied"

    page.goto(f"{base}/inbox/{item.id}")
    page.click('form[action$="/resolve"] button[type="submit"]')
    expect(page.locator("body")).to_contain_text("Resolved.")
    assert Inbox(served.ws).get(item.id).status == "resolved"
    page.screenshot(path=str(shots / "04-inbox-resolved.png"), full_page=True)

    # the report
    page.goto(base + "/reports")
    page.click('form[action="/reports/view"] button[type="submit"]')
    page.wait_for_url(f"{base}/reports/view*")
    expect(page.locator("body")).to_contain_text("Acme")
    assert SCRIPT not in page.content()
    page.screenshot(path=str(shots / "05-report.png"), full_page=True)

    names = sorted(p.name for p in shots.glob("*.png"))
    assert names == [
        "01-overview.png",
        "02-search.png",
        "03-inbox-item.png",
        "04-inbox-resolved.png",
        "05-report.png",
    ]
    assert all((shots / n).stat().st_size > 5_000 for n in names)


def test_signing_out_ends_the_session_in_the_browser(served: Served, tab: Tab) -> None:
    page = tab.page
    _sign_in(page, served.base)
    page.click('form[action="/logout"] button[type="submit"]')
    page.wait_for_url(served.base + "/login")
    page.goto(served.base + "/search")
    assert page.url.startswith(served.base + "/login?next=")


def test_the_guards_see_a_dialog_and_a_request_to_another_host(tab: Tab) -> None:
    # the same markup outside the app (no escaping, no CSP) does run: the guards would see it
    page = tab.page
    with page.expect_event("requestfailed"):
        page.set_content(f'{SCRIPT}<img src="http://example.invalid/x.png">')
    assert tab.dialogs == ["1"]
    assert tab.foreign == ["http://example.invalid/x.png"]
    tab.dialogs.clear()
    tab.foreign.clear()
