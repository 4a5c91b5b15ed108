"""Every page of the panel, in Turkish and English, in a phone's window and a desktop's: it
renders, nothing spills out sideways, axe-core finds no serious accessibility violation, and
a screenshot is saved for people to look at."""

from __future__ import annotations

import re

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from web.browser.conftest import NARROW, WIDE, PanelGateway, log_in, shoot

PAGES = {
    "dashboard": "/panel/",
    "send": "/panel/send",
    "campaigns": "/panel/campaigns",
    "campaign-new": "/panel/campaigns/new",
    "sends": "/panel/sends",
    "sends-summary": "/panel/sends/summary",
    "message": "/panel/sends/message/{sms_id}",
    "group": "/panel/sends/group/{group_id}",
    "contacts": "/panel/contacts",
    "blacklist": "/panel/blacklist",
    "consents": "/panel/consents",
    "consents-search": "/panel/consents?number=0532+123+45+67",
    "titles": "/panel/titles",
    "billing": "/panel/billing",
    "customers": "/panel/customers",
    "customer-new": "/panel/customers/new",
    "customer": "/panel/customers/{customer_id}",
    "customer-suspend": "/panel/customers/{customer_id}/suspend",
    "keys": "/panel/keys",
    "users": "/panel/users",
    "audit": "/panel/audit",
    "totp": "/panel/account/totp",
    "not-found": "/panel/sends/message/999999999",
}
SERIOUS = {"serious", "critical"}


@pytest.fixture(scope="module")
def sent(gateway: PanelGateway) -> dict[str, int]:
    """A single message and a group of the demo account, for their detail pages."""
    key = gateway.served.key
    single = httpx.post(
        f"{gateway.base}/sms/send",
        json={"api_key": key, "title": "ILETI", "sentto": "905321234567", "text": "Merhaba!"},
    ).json()
    group = httpx.post(
        f"{gateway.base}/group/send",
        json={
            "api_key": key,
            "title": "ILETI",
            "sentto": ["905321234567", "905331234567", "12345"],
            "text": "Kampanya: bugün %20 indirim",
            "sms_lang": "auto",
        },
    ).json()
    assert single["result"] and group["result"], (single, group)
    return {"sms_id": single["sms_id"], "group_id": group["group_id"]}


@pytest.fixture(scope="module")
def consents(gateway: PanelGateway, tmp_path_factory: pytest.TempPathFactory) -> None:
    """İYS set up for the demo account, with records for the consents page. Mode ``off``:
    the other journeys' sends stay unchecked. Its İYS is out of reach, so the records wait."""
    password = tmp_path_factory.mktemp("iys") / "password"
    password.write_text("p")
    access = {
        "--iys-url": "http://127.0.0.1:9",
        "--iys-code": "123",
        "--iys-brand": "456",
        "--iys-username": "u",
        "--iys-password-file": str(password),
        "--iys-mode": "off",
    }
    gateway.ileti("account", "set", "demo", *(part for item in access.items() for part in item))
    fields = ("recipient", "recipient_type", "status", "source", "consent_date")
    given = [
        ("905321234567", "BIREYSEL", "ONAY", "HS_WEB", "2024-03-15 14:30:00"),
        ("905331234567", "TACIR", "ONAY", "HS_ISLAK_IMZA", "2024-03-15 14:30:00"),
        ("905321234567", "BIREYSEL", "RET", "HS_CAGRI_MERKEZI", "2024-04-01 09:00:00"),
    ]
    added = httpx.post(
        f"{gateway.base}/iys/consent/add",
        json={
            "api_key": gateway.served.key,
            "consents": [dict(zip(fields, r, strict=True)) | {"type": "MESAJ"} for r in given],
        },
    ).json()
    assert added["result"] and added["accepted"] == 3, added


@pytest.fixture(scope="module")
def customer(gateway: PanelGateway) -> int:
    """Customers of the demo account, made through the reseller API: one with credits of its
    own, a price of its own and a day's sends, one sharing the demo's balance under a cap."""
    key = gateway.ileti("key", "create", "demo", "--allow", "manage_subaccounts").split()[-1]

    def call(path: str, **body: object) -> dict:
        answer = httpx.post(f"{gateway.base}{path}", json={"api_key": key, **body}).json()
        assert answer["result"], answer
        return answer

    made = call("/reseller/account/create", name="Kuzey Yazılım")["account"]
    call("/reseller/account/create", name="Güney Market", shared_balance=True, daily_cap=500)
    call("/reseller/transfer", account=made["id"], credits=250, direction="to_child")
    call("/reseller/price/set", account=made["id"], region="DE", price=1.95)
    call("/reseller/user/add", account=made["id"], email="sahip@kuzey.test", role="owner")
    gateway.ileti("title", "add", made["name"], "KUZEY", "--active")
    child_key = call("/reseller/key/create", account=made["id"])["key"]
    for text in ("Siparişiniz yola çıktı.", "Randevunuz yarın 10:00'da. " * 8):
        sent = httpx.post(
            f"{gateway.base}/sms/send",
            json={"api_key": child_key, "title": "KUZEY", "sentto": "905321234567", "text": text},
        ).json()
        assert sent["result"], sent
    return int(made["id"])


def _violations(page: Page) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:3]}"
        for v in found
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("lang", ["tr", "en"])
@pytest.mark.parametrize("window", ["narrow", "wide"])
@pytest.mark.usefixtures("consents")
def test_every_page_reads_well(
    page: Page, gateway: PanelGateway, sent: dict[str, int], customer: int, lang: str, window: str
) -> None:
    page.set_viewport_size(NARROW if window == "narrow" else WIDE)
    page.goto(f"{gateway.base}/panel/lang/{lang}?next=/panel/login")
    shoot(page, "login")
    assert _violations(page) == []
    log_in(page, gateway)
    expect(page.get_by_test_id("balance-main")).to_be_visible()
    problems: dict[str, list[str]] = {}
    for name, path in PAGES.items():
        answer = page.goto(gateway.base + path.format(**sent, customer_id=customer))
        assert answer is not None
        expected = 404 if name == "not-found" else 200
        assert answer.status == expected, f"{path}: {answer.status}"
        expect(page.locator("html")).to_have_attribute("lang", lang)
        shoot(page, name)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 1:
            problems.setdefault(name, []).append(f"{overflow}px wider than the window")
        if found := _violations(page):
            problems.setdefault(name, []).extend(found)
    assert problems == {}
    if lang == "tr":
        # No English left on the Turkish dashboard's menu.
        menu = page.locator("nav.side").inner_text()
        assert not re.search(r"\b(Dashboard|Send SMS|Contacts|Billing)\b", menu), menu


@pytest.mark.parametrize("lang", ["tr", "en"])
@pytest.mark.parametrize("window", ["narrow", "wide"])
def test_the_low_balance_banner_reads_well(
    page: Page, gateway: PanelGateway, lang: str, window: str
) -> None:
    """Below its threshold every page says so: the banner fits a phone and passes axe."""
    page.set_viewport_size(NARROW if window == "narrow" else WIDE)
    page.goto(f"{gateway.base}/panel/lang/{lang}?next=/panel/login")
    log_in(page, gateway)
    expect(page.get_by_test_id("balance-main")).to_be_visible()
    gateway.ileti("account", "set", "demo", "--low-balance", "1000000000")
    try:
        for name, path in (("low-balance", "/panel/"), ("low-balance-billing", "/panel/billing")):
            page.goto(gateway.base + path)
            expect(page.get_by_test_id("low-balance")).to_be_visible()
            shoot(page, name)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{path}: {overflow}px wider than the window"
            assert _violations(page) == []
    finally:
        gateway.ileti("account", "set", "demo", "--no-low-balance")
