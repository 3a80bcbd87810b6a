"""Readers of the pages a person would see: parsed HTML (selectolax), not substrings."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient
from selectolax.lexbor import LexborHTMLParser as HTMLParser


def html(response: Any) -> HTMLParser:
    return HTMLParser(response.text)


def csrf_token(client: TestClient[Any], path: str = "/login") -> str:
    page = client.get(path)
    node = html(page).css_first('input[name="_csrf_token"]')
    assert node is not None, f"no CSRF field on {path}"
    return node.attributes["value"] or ""


def field_value(page: HTMLParser, name: str) -> str | None:
    """What a text input shows (its value attribute), or None when the page has no such input."""
    node = page.css_first(f'input[name="{name}"]')
    return None if node is None else node.attributes.get("value")


def errors_on(response: Any) -> dict[str, str]:
    """Inline field errors on a page: {field id: message} from the GOV.UK-style markup."""
    found = {}
    for node in html(response).css(".error-message"):
        found[(node.attributes.get("id") or "").removesuffix("-error")] = (
            node.text(strip=True).removeprefix("Error:").strip()
        )
    return found


def heading(response: Any) -> str:
    return html(response).css_first("main h1").text(strip=True)


def notices(response: Any) -> list[str]:
    return [node.text(strip=True) for node in html(response).css("main .notice")]


def is_logged_in(client: TestClient[Any]) -> bool:
    response = client.get("/dashboard", follow_redirects=False)
    if response.status_code == 200:
        return True
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")
    return False
