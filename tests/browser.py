"""A headless Chromium page on the live server, for `browser` tests.

Use this fixture rather than pytest-playwright's session-wide `page`: Playwright's sync API keeps
an event loop running in the main thread for as long as it lives, and while a loop runs Django's
connection handler (an asgiref Local) hands out *other* connection objects, which lack the test
database's serialized contents; every transactional test after it would then start from an empty
database (no clock rules, no calendar). Here Playwright starts after the test's database fixtures
and stops before their teardown. tests/conftest.py loads it as a plugin: ask for `browser_page` in any test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(live_server, monkeypatch) -> Iterator:
    from playwright.sync_api import sync_playwright

    # The test body may still use the ORM while Playwright's loop runs in this thread.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(base_url=live_server.url, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
            # Connections the test body opened while the loop ran live in that context: close
            # them here, or they outlive the test and block dropping the test database.
            connections.close_all()
