"""Sending from the panel in Chromium: the live counter as the user types, a single send the
user then sees delivered, and the pages in both languages on a phone and a laptop."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from ileti.domain.encoding import measure
from web.browser.conftest import NARROW, WIDE, PanelGateway, log_in, shoot


def _type(page: Page, text: str, sms_lang: str, encoding: str) -> None:
    """Types ``text``, waits for the counter to say ``encoding``, and checks its segments
    against the encoding module's."""
    page.select_option("select[name=sms_lang]", sms_lang)
    page.fill("textarea[name=text]", text)
    expect(page.get_by_test_id("counter-encoding")).to_have_attribute(
        "data-encoding", encoding, timeout=5000
    )
    segments = measure(text, sms_lang).segments
    expect(page.get_by_test_id("counter-segments")).to_have_text(str(segments))
    expect(page.get_by_test_id("counter-characters")).to_have_text(str(len(text)))


def test_the_counter_follows_the_text(page: Page, gateway: PanelGateway) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/send")
    expect(page.get_by_test_id("counter-segments")).to_have_text("0")
    _type(page, "Your order 4711 has shipped.", "auto", "gsm7")
    _type(page, "Siparişiniz yola çıktı: şğıİçöü", "1", "gsm7-turkish-single")
    _type(page, "Teşekkürler 🎉" * 6, "1", "ucs2")
    page.fill("textarea[name=sentto]", "0532 111 22 33\n0532 111 22 34; 0532 111 22 35")
    segments = measure("Teşekkürler 🎉" * 6, "1").segments
    expect(page.get_by_test_id("counter-credits")).to_have_text(str(3 * segments))


def test_a_single_send_is_seen_delivered(page: Page, gateway: PanelGateway) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/send")
    page.fill("textarea[name=text]", "Randevunuz yarın 10:30'da.")
    page.fill("textarea[name=sentto]", "905321234567")
    page.click("main button[type=submit]")
    link = page.get_by_test_id("send-link")
    expect(link).to_have_attribute("href", re.compile(r"^/panel/sends/message/\d+$"))
    expect(page.get_by_test_id("result-accepted")).to_have_text("1 / 1")
    href = link.get_attribute("href")
    page.goto(f"{gateway.base}{href}")
    state = page.get_by_test_id("message-state")
    deadline = time.monotonic() + 20
    while state.get_attribute("data-state") != "delivered" and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    assert state.get_attribute("data-state") == "delivered"


def test_the_send_pages_in_both_languages_on_a_phone_and_a_laptop(
    page: Page, gateway: PanelGateway
) -> None:
    log_in(page, gateway)
    for lang in ("tr", "en"):
        page.goto(f"{gateway.base}/panel/lang/{lang}?next=/panel/send")
        for size, viewport in (("wide", WIDE), ("narrow", NARROW)):
            page.set_viewport_size(viewport)
            page.goto(f"{gateway.base}/panel/send")
            page.fill("textarea[name=text]", "Kampanya: tüm ürünlerde %20 indirim! 🎁")
            page.fill(
                "textarea[name=sentto]",
                "0532 111 22 33, 0532 111 22 34\n0532 111 22 33\n0212 555 12 34",
            )
            expect(page.get_by_test_id("counter-recipients")).to_have_text("2")
            shoot(page, f"send-form-{size}")
            page.click("main button[type=submit]")
            expect(page.get_by_test_id("send-link")).to_have_attribute(
                "href", re.compile(r"^/panel/sends/group/\d+$")
            )
            expect(page.get_by_test_id("rejected")).to_contain_text("TS-1035")
            shoot(page, f"send-result-{size}")


def test_a_refused_send_keeps_the_text(page: Page, gateway: PanelGateway) -> None:
    log_in(page, gateway)
    page.goto(f"{gateway.base}/panel/lang/tr?next=/panel/send")
    text = "Yarınki toplantı iptal edildi."
    page.fill("textarea[name=text]", text)
    page.fill("textarea[name=sentto]", "0532 111 22 33")
    page.fill("input[name=scheduled_at]", "2020-01-01T10:00")
    page.click("main button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("TS-1038")
    expect(page.locator("textarea[name=text]")).to_have_value(text)
    shoot(page, "send-refused")
