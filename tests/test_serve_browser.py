"""The preview in real Chromium: the open tab reloads by itself after a save, and shows build errors."""
from __future__ import annotations

import re
import time

import pytest

from browser_support import wait_until
from test_serve import ARTICLE, PAGE, start_server



@pytest.fixture
def tab(chromium):
    page = chromium.new_page()
    yield page
    page.context.close()


def wait_until_live(page) -> None:
    """Wait until livereload's script has connected and said hello to the server."""
    wait_until(page, "window.LiveReload.connector.protocol")
    time.sleep(0.1)  # its 'info' message, which makes the server count the tab, follows at once


def test_the_open_tab_reloads_by_itself_after_a_save_and_after_an_error_is_fixed(make_site, tab):
    blocked = []
    tab.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
          else None)
    served = start_server(make_site())
    try:
        tab.goto(served.url + PAGE)
        wait_until_live(tab)
        tab.evaluate("window.__before_reload = 1")

        served.edit(ARTICLE, "Read about", "Words typed by the editor. Read about")
        wait_until(tab, "document.body.innerText.includes('Words typed by the editor')")
        assert tab.evaluate("window.__before_reload") is None  # a real reload, not a patched page

        wait_until_live(tab)
        served.edit(ARTICLE, "kind: overview", "kind: overveiw")
        wait_until(tab, "document.body.innerText.includes('error:')")
        assert re.search(r"^content/topic-a/first\.md:4: error: .*overveiw", tab.inner_text(".build-errors"), re.M)

        wait_until_live(tab)
        served.edit(ARTICLE, "kind: overveiw", "kind: overview")
        wait_until(tab, "document.body.innerText.includes('Words typed by the editor')")
        assert tab.locator("h1").inner_text() == "First article"
    finally:
        assert served.stop() == 0
    assert blocked == []  # the preview's policy lets livereload's script run, and nothing is refused
