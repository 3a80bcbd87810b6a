"""The demo data's verify pages: the log-ins file lists them, and each answers as it says (one
document shown, others hidden, a revoked one and a superseded one)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from src.demo import load_demo
from tests.support.client import run
from tests.support.environment import BASE_URL
from tests.support.pages import html

LINE = re.compile(r"^\s+(APC-\d+)\s+(\w+)\s+(document shown|document hidden)\s+(\S+)$", re.M)


def test_the_demo_log_ins_list_verify_pages_that_answer_as_listed(client, settings, capsys):
    run(load_demo(settings))
    text = (settings.var_dir / "demo-logins.txt").read_text()
    listed = LINE.findall(text)
    statuses = {status for _, status, _, _ in listed}
    assert {"valid", "revoked", "superseded"} <= statuses
    assert {shown for _, _, shown, _ in listed} == {"document shown", "document hidden"}
    for number, status, shown, url in listed:
        assert url.startswith(f"{BASE_URL}/v/")
        page = client.get(urlsplit(url).path)
        assert page.status_code == 200, url
        headline = html(page).css_first("main h1").text(strip=True)
        assert headline.startswith({"valid": "Valid", "revoked": "Revoked", "superseded": "Replaced"}[status])
        has_document = html(page).css_first("main article.document") is not None
        assert has_document == (shown == "document shown" and status != "revoked"), number
