"""Sends and reports in Chromium: a filtered list, a message seen delivered, a group, the CSV
export of the filtered list, and every page of the area in both languages and windows."""

from __future__ import annotations

import csv
import io
import re
import time
from urllib.parse import quote

import httpx
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from web.browser.conftest import NARROW, WIDE, PanelGateway, log_in, shoot

# Numbers no other test sends to: the demo account is shared.
MINE = ["905551230001", "905551230002", "905551230003"]


def _send(gateway: PanelGateway, sentto: object, text: str) -> dict:
    path = "/group/send" if isinstance(sentto, list) else "/sms/send"
    reply = httpx.post(
        f"{gateway.base}{path}",
        json={"api_key": gateway.served.key, "title": "ILETI", "sentto": sentto, "text": text},
    ).json()
    assert reply["result"], reply
    return reply


def test_a_filtered_list_a_message_and_its_csv(page: Page, gateway: PanelGateway) -> None:
    sent = [_send(gateway, number, f"Merhaba {n}, görüşürüz") for n, number in enumerate(MINE)]
    group = _send(gateway, ["905551230010", "905551230011"], "Kampanya: bugün %20 indirim")
    log_in(page, gateway)
    expect(page.get_by_test_id("balance-main")).to_be_visible()
    page.goto(f"{gateway.base}/panel/lang/en?next=/panel/sends")

    page.fill("input[name=number]", "0555 123 00 02")
    page.click("main button[type=submit]")
    expect(page).to_have_url(re.compile(r"number=0555"))
    rows = page.locator("[data-testid=sends-list] tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("905551230002")

    rows.first.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/panel/sends/message/{sent[1]['sms_id']}$"))
    state = page.get_by_test_id("message-state")
    for _ in range(40):  # the demo's simulator reports delivery within moments
        if state.get_attribute("data-state") == "delivered":
            break
        time.sleep(0.25)
        page.reload()
    expect(state).to_have_attribute("data-state", "delivered")
    expect(page.get_by_test_id("message-text")).to_have_text("Merhaba 1, görüşürüz")

    # The CSV of a list filtered to this test's numbers holds the rows the list shows.
    page.goto(f"{gateway.base}/panel/sends?number=0555+123+00+01")
    listed = page.locator("[data-testid=sends-list] tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.smsId)"
    )
    assert listed == [str(sent[0]["sms_id"])]
    page.goto(f"{gateway.base}/panel/sends?group_id={group['group_id']}")
    listed = page.locator("[data-testid=sends-list] tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.smsId)"
    )
    assert len(listed) == 2
    with page.expect_download() as download:
        page.get_by_test_id("export-csv").click()
    raw = download.value.path().read_bytes()
    assert raw.startswith("\ufeff".encode())
    exported = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [row["sms_id"] for row in exported] == listed
    assert {row["Number"] for row in exported} == {"905551230010", "905551230011"}
    assert {row["group_id"] for row in exported} == {str(group["group_id"])}

    page.goto(f"{gateway.base}/panel/sends/group/{group['group_id']}")
    expect(page.get_by_test_id("group-members").locator("tbody tr")).to_have_count(2)


def test_the_area_in_both_languages_and_windows(page: Page, gateway: PanelGateway) -> None:
    single = _send(gateway, "905551230020", "Randevunuz yarın 10:00'da. İyi günler!")
    group = _send(gateway, ["905551230021", "905551230022", "905551230023"], "Duyuru")
    log_in(page, gateway)
    pages = {
        "dashboard": "/panel/",
        "list": "/panel/sends",
        "list-filtered": "/panel/sends?status=delivered&number=0555+123+00+20",
        "message": f"/panel/sends/message/{single['sms_id']}",
        "group": f"/panel/sends/group/{group['group_id']}",
        "summary": "/panel/sends/summary",
    }
    for lang in ("tr", "en"):
        for window in (WIDE, NARROW):
            page.set_viewport_size(window)
            for name, path in pages.items():
                page.goto(f"{gateway.base}/panel/lang/{lang}?next={quote(path)}")
                expect(page.locator("main h1")).to_be_visible()
                if name == "dashboard":
                    # The chart is drawn, and the table holds the same days.
                    expect(page.locator("#chart canvas")).to_be_visible()
                    expect(page.locator("[data-testid=days] tbody tr")).to_have_count(14)
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= window["width"], (name, lang, window)
                shoot(page, f"sends-{name}")
                serious = [
                    f"{found['id']}: {[node['target'] for node in found['nodes']][:3]}"
                    for found in Axe().run(page).response["violations"]
                    if found["impact"] in ("serious", "critical")
                ]
                assert serious == [], (name, lang, window)
