"""What a first visit downloads: each page's HTML with its stylesheets and scripts, in the bytes the
server sends to a browser that accepts brotli and gzip (the budget: HTML + CSS <= 14 KB). htmx is
loaded with `defer` and never blocks the first paint, so it is printed beside the budget, not in it."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from bench.env import BASE_URL, SMALL
from bench.timing import log_in
from src.app import create_app
from src.settings import load_settings

BUDGET = 14 * 1024
ACCEPT = {"Accept-Encoding": "br, gzip"}
ANONYMOUS = ["/", "/login", "/register", "/verify"]
LOGGED_IN = ["/dashboard", "/connections", "/profile"]
STYLESHEET = re.compile(r'<link rel="stylesheet" href="([^"]+)"')
SCRIPT = re.compile(r'<script src="([^"]+)"')


def _sent(client: TestClient[Any], url: str) -> tuple[int, str]:
    """Bytes on the wire (as compressed) and the decoded text."""
    answer = client.get(url, headers=ACCEPT, follow_redirects=False)
    if answer.status_code != 200:
        raise SystemExit(f"GET {url} answered {answer.status_code}")
    return answer.num_bytes_downloaded, answer.text


def _first_load(client: TestClient[Any], url: str) -> tuple[int, int, int]:
    html_bytes, text = _sent(client, url)
    css = sum(_sent(client, href)[0] for href in STYLESHEET.findall(text))
    scripts = sum(_sent(client, src)[0] for src in SCRIPT.findall(text))
    return html_bytes, css, scripts


def first_load_table(third_parties: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Lines to print and the pages over the budget."""
    lines = [
        "\nFirst load (bytes sent to a browser accepting brotli; budget: HTML + CSS <= 14 KB)",
        f"  {'page':<14} {'HTML':>7} {'CSS':>7} {'HTML+CSS':>9} {'+ htmx':>8}",
    ]
    missed = []
    with TestClient(app=create_app(load_settings()), base_url=BASE_URL) as client:
        for url in ANONYMOUS + LOGGED_IN:
            if url == LOGGED_IN[0]:
                log_in(client, third_parties[SMALL]["username"])
            html_bytes, css, scripts = _first_load(client, url)
            total = html_bytes + css
            lines.append(f"  {url:<14} {html_bytes:>7,} {css:>7,} {total:>9,} {total + scripts:>8,}")
            if total > BUDGET:
                missed.append(f"{url}: {total:,} bytes of HTML + CSS (budget {BUDGET:,})")
    return lines, missed
