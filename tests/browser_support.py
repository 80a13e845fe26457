"""What the browser tests need besides Playwright: the browser, the pages, a server.

The site is served the way GitHub Pages serves it: under the path of
`site_url` (so links that only work at the root fail here too), and with
404.html for any missing address.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml  # type: ignore[import-untyped, unused-ignore]
from conftest import skip_or_fail
from playwright.sync_api import Browser, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[1]

# Flags from the issue: no sandbox (containers), and nothing that phones home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> tuple[str | None, str]:
    """(executable, "") or (None, why): SNIPPET_BROWSER (CI sets it), else Debian's Chromium.

    Never a browser downloaded by Playwright.
    """
    configured = os.environ.get("SNIPPET_BROWSER")
    if configured:
        if Path(configured).is_file():
            return configured, ""
        return None, f"SNIPPET_BROWSER={configured} is not a file"
    found = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None)
    if found:
        return found, ""
    return None, (
        "no Chromium: install Debian's `chromium` (make system-deps) "
        "or set SNIPPET_BROWSER to a Chromium or Chrome executable"
    )


class _Shared:
    """One Playwright and one Chromium per test process, however many modules use them."""

    playwright: Playwright | None = None
    browser: Browser | None = None
    users = 0


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """The browser for a session fixture: skipped when there is none, failed under CI=true.

    Playwright's sync API runs once per thread, so every module's fixture shares it.
    """
    executable, reason = find_chromium()
    if executable is None:
        skip_or_fail(reason)
    if _Shared.browser is None:
        _Shared.playwright = sync_playwright().start()
        _Shared.browser = _Shared.playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    _Shared.users += 1
    try:
        yield _Shared.browser
    finally:
        _Shared.users -= 1
        if not _Shared.users and _Shared.playwright is not None:
            _Shared.browser.close()
            _Shared.playwright.stop()
            _Shared.browser = _Shared.playwright = None


def _config() -> dict[str, Any]:
    # mkdocs.yml names Python callables with !!python/name tags; only nav and
    # site_url are read here, so every python tag loads as None.
    class Loader(yaml.SafeLoader):  # type: ignore[misc, unused-ignore]
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    with (ROOT / "mkdocs.yml").open(encoding="utf-8") as stream:
        return dict(yaml.load(stream, Loader=Loader))


def site_prefix() -> str:
    """The path the site lives under on its real host, e.g. '/python-under-the-hood/'."""
    path = urlsplit(str(_config().get("site_url") or "/")).path
    return path if path.endswith("/") else path + "/"


def nav_pages() -> list[str]:
    """Every page of the nav as a path relative to the site root ('' for the home page)."""
    found: list[str] = []

    def walk(items: list[Any]) -> None:
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            if isinstance(value, list):
                walk(value)
            elif isinstance(value, str) and value.endswith(".md") and "://" not in value:
                stem = value.removesuffix(".md")
                found.append("" if stem == "index" else stem.removesuffix("/index") + "/")

    walk(list(_config().get("nav") or []))
    return found


class _Handler(SimpleHTTPRequestHandler):
    prefix = "/"

    def send_head(self) -> Any:
        path = urlsplit(self.path).path
        if not path.startswith(self.prefix) and path + "/" != self.prefix:
            return self._not_found()
        self.path = "/" + path[len(self.prefix) :]
        target = Path(self.translate_path(self.path))
        if not (target.is_file() or (target / "index.html").is_file()):
            return self._not_found()
        return super().send_head()

    def _not_found(self) -> Any:
        # As GitHub Pages does: the site's own 404.html, with status 404.
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the tests record requests in the browser; keep pytest's output clean


@contextlib.contextmanager
def serve(site: Path) -> Iterator[str]:
    """Serve `site` on a free loopback port; yields the site's base URL."""
    prefix = site_prefix()
    handler = type("Handler", (_Handler,), {"prefix": prefix})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()
