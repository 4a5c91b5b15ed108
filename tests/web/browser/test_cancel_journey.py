"""Cancelling in Chromium: a scheduled group's page offers the cancel, a confirmation page asks,
and the group shows its messages cancelled and refunded; in both languages and windows."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from playwright.sync_api import Page, expect

from web.browser.conftest import NARROW, WIDE, PanelGateway, log_in, shoot

MINE = ["905551239001", "905551239002", "905551239003"]


def _scheduled_group(gateway: PanelGateway) -> int:
    at = (datetime.now(UTC) + timedelta(hours=5)).astimezone(ZoneInfo("Europe/Istanbul"))
    reply = httpx.post(
        f"{gateway.base}/group/send",
        json={
            "api_key": gateway.served.key,
            "title": "ILETI",
            "sentto": MINE,
            "text": "Yarın saat 10:00 randevunuz var",
            "scheduled_sms": 1,
            "scheduled_date": at.strftime("%Y-%m-%d"),
            "scheduled_time": at.strftime("%H:%M"),
        },
    ).json()
    assert reply["result"], reply
    return int(reply["group_id"])


def test_a_scheduled_group_is_cancelled_from_its_page(page: Page, gateway: PanelGateway) -> None:
    group_id = _scheduled_group(gateway)
    log_in(page, gateway)
    here = f"/panel/sends/group/{group_id}"
    page.goto(f"{gateway.base}/panel/lang/en?next={here}")
    offer = page.locator("main [data-testid=cancel]")
    expect(offer).to_have_text("Cancel sending")
    for window in (WIDE, NARROW):
        page.set_viewport_size(window)
        shoot(page, "cancel-offer")
    offer.click()
    expect(page).to_have_url(re.compile(rf"{here}/cancel$"))
    expect(page.get_by_test_id("cancel-question")).to_contain_text("3 messages of this group")
    shoot(page, "cancel-confirm")
    page.goto(f"{gateway.base}/panel/lang/tr?next={here}/cancel")
    expect(page.get_by_test_id("cancel-question")).to_contain_text("Bu gruptaki 3 mesaj")
    page.set_viewport_size(WIDE)
    shoot(page, "cancel-confirm")
    page.click("main [data-testid=confirm-cancel]")
    expect(page).to_have_url(re.compile(rf"{here}\?"))
    expect(page.get_by_test_id("cancel-outcome")).to_contain_text("3 mesaj iptal edildi.")
    expect(page.locator("main [data-testid=cancel]")).to_have_count(0)
    expect(page.locator("[data-testid=group-counts] [data-state=cancelled]")).to_contain_text("3")
    shoot(page, "cancel-done")
    page.set_viewport_size(NARROW)
    shoot(page, "cancel-done")
