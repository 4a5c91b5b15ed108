"""A reseller's Customers section in the panel: customers listed with their balances and last
activity, made with a balance of their own or sharing the reseller's, credits moved both ways
(once for a double click, not at all when the giving side cannot cover it), suspended and
reactivated after a confirmation, priced never below the reseller, their usage per day and
their panel users; another reseller's customer, and the reseller from a customer's session,
are the 404 page. Also the low-balance banner and its threshold, and the key form's
``manage_subaccounts``."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from ileti.accounts.resellers import ChildView
from ileti.domain.permissions import Permission
from ileti.domain.pricing import Balance
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import SingleSend
from ileti.store import accounts
from ileti.web.pages import PanelCaller
from support.panel import Panel

pytestmark = pytest.mark.usefixtures("english")

NEW_PASSWORD = re.compile(r'data-testid="new-password">([^<]+)<')
NEW_KEY = re.compile(r'data-testid="new-key">([^<]+)<')


def _text(page: str) -> str:
    """The page's words, tags dropped and spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def _part(page: str, test_id: str, end: str = "</table>") -> str:
    assert f'data-testid="{test_id}"' in page, page
    return _text(page.split(f'data-testid="{test_id}"', 1)[1].split(end, 1)[0])


def _rows(page: str, test_id: str) -> list[str]:
    """Each body row of a table as its words."""
    table = page.split(f'data-testid="{test_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [_text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


async def _child(panel: Panel, name: str = "shop", **given: object) -> ChildView:
    return await panel.services.resellers.create_child(
        panel.account_id, name, actor="test", **given
    )


async def _credits(panel: Panel, account_id: int) -> tuple[int, int]:
    async with panel.db.read() as conn:
        return await accounts.balances(conn, account_id)


async def _customer_page(panel: Panel, child_id: int) -> httpx.Response:
    page = await panel.get(f"/panel/customers/{child_id}")
    assert page.status_code == 200, page.text
    return page


def _nonce(page: str) -> str:
    found = re.search(r'name="nonce" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def _transfer(panel: Panel, child_id: int, **fields: str) -> httpx.Response:
    nonce = fields.pop("nonce", None) or _nonce((await _customer_page(panel, child_id)).text)
    form = {"balance": "main", "direction": "to_child", "nonce": nonce, **fields}
    return await panel.post(f"/panel/customers/{child_id}/transfer", form)


async def _send(panel: Panel, account_id: int, text: str) -> int:
    """Sends as the account; the segments it was charged."""
    caller = PanelCaller(account_id, await panel.services.keys.panel_key(account_id))
    send = SingleSend(title="SHOP", text=text, number="05321234567")
    identity = RequestIdentity.of("test", {"t": text}, None)
    return (await panel.services.sending.single(caller, send, identity)).number_of_sms


async def _customer_login(panel: Panel, child: ChildView) -> httpx.AsyncClient:
    """The customer's own owner, logged in."""
    _, password = await panel.services.resellers.add_user(
        panel.account_id, child.id, "owner@shop.test", "owner"
    )
    return await panel.login("owner@shop.test", password)


# The list, and making customers.


async def test_only_a_resellers_owners_see_the_section(panel: Panel) -> None:
    page = await panel.get("/panel/")
    assert 'href="/panel/customers"' in page.text
    member = await panel.get("/panel/", client=panel.member.client)
    assert 'href="/panel/customers"' not in member.text
    assert (await panel.get("/panel/customers", client=panel.member.client)).status_code == 404


async def test_an_empty_list_invites_the_first_customer(panel: Panel) -> None:
    page = await panel.get("/panel/customers")
    assert page.status_code == 200
    assert 'data-testid="no-customers"' in page.text
    assert 'href="/panel/customers" aria-current="page"' in page.text
    assert 'data-testid="your-credits">100<' in page.text


async def test_a_customer_with_its_own_balance_is_made_and_listed(panel: Panel) -> None:
    form = await panel.get("/panel/customers/new")
    assert form.status_code == 200 and 'name="daily_cap"' in form.text
    made = await panel.post("/panel/customers/new", {"name": " Shop Ltd ", "balance": "own"})
    assert made.status_code == 303, made.text
    [child] = await panel.services.resellers.children(panel.account_id)
    assert (child.name, child.shared_balance, child.active) == ("Shop Ltd", False, True)
    assert made.headers["location"] == f"/panel/customers/{child.id}?done=created"
    shown = await panel.get(made.headers["location"])
    assert "The customer account is created." in shown.text

    listed = await panel.get("/panel/customers")
    assert _rows(listed.text, "customers") == [
        f"Shop Ltd #{child.id} Active 0 credits International: 0.00 TL no messages yet"
    ]
    assert f'href="/panel/customers/{child.id}"' in listed.text


async def test_a_customer_sharing_the_balance_under_a_daily_cap(panel: Panel) -> None:
    made = await panel.post(
        "/panel/customers/new", {"name": "Kiosk", "balance": "shared", "daily_cap": "50"}
    )
    assert made.status_code == 303, made.text
    [child] = await panel.services.resellers.children(panel.account_id)
    assert (child.shared_balance, child.daily_cap) == (True, 50)
    listed = await panel.get("/panel/customers")
    assert "Shares your balance at most 50 credits a day" in _rows(listed.text, "customers")[0]
    page = await _customer_page(panel, child.id)
    assert "it has none of its own to transfer to or from" in page.text
    assert 'name="nonce"' not in page.text


async def test_a_taken_name_or_a_cap_without_sharing_is_refused_and_makes_nothing(
    panel: Panel,
) -> None:
    taken = await panel.post("/panel/customers/new", {"name": "rival", "balance": "own"})
    assert taken.status_code == 400
    assert "The name “rival” is taken: choose another. (TS-1035)" in _text(taken.text)
    assert 'value="rival"' in taken.text

    capped = await panel.post(
        "/panel/customers/new", {"name": "Shop", "balance": "own", "daily_cap": "10"}
    )
    assert capped.status_code == 400
    assert "is for a customer account that shares its reseller's balance" in _text(capped.text)

    nameless = await panel.post("/panel/customers/new", {"name": " ", "balance": "own"})
    assert nameless.status_code == 400 and "Give the customer a name." in nameless.text
    assert await panel.services.resellers.children(panel.account_id) == []


# Credits moved.


async def test_credits_go_to_the_customer_and_come_back(panel: Panel) -> None:
    child = await _child(panel)
    async with panel.db.write() as conn:
        await accounts.topup(
            conn, panel.account_id, Balance.INTERNATIONAL, 1_000, panel.clock.now()
        )

    given = await _transfer(panel, child.id, amount="30")
    assert given.status_code == 303, given.text
    assert given.headers["location"] == f"/panel/customers/{child.id}?done=transferred"
    panel.clock.advance(60)
    back = await _transfer(panel, child.id, amount="10", direction="from_child")
    assert back.status_code == 303, back.text
    panel.clock.advance(60)
    lira = await _transfer(panel, child.id, amount="2,50", balance="international")
    assert lira.status_code == 303, lira.text

    assert await _credits(panel, panel.account_id) == (80, 750)
    assert await _credits(panel, child.id) == (20, 250)
    page = await panel.get(given.headers["location"])
    assert "The transfer is done." in page.text
    assert "20 credits International: 2.50 TL" in _part(page.text, "customer-balance", "</dd>")
    assert [row.split(" ", 2)[2] for row in _rows(page.text, "transfers")] == [
        "To the customer 2.50 TL",
        "Back from the customer 10 credits",
        "To the customer 30 credits",
    ]
    listed = await panel.get("/panel/customers")
    assert "20 credits International: 2.50 TL" in _rows(listed.text, "customers")[0]


async def test_a_transfer_the_giving_side_cannot_cover_moves_nothing(panel: Panel) -> None:
    child = await _child(panel)
    too_much = await _transfer(panel, child.id, amount="500")
    assert too_much.status_code == 400
    assert "Your credits cannot cover this transfer. (TS-1027)" in too_much.text
    assert 'name="amount" value="500"' in too_much.text

    from_empty = await _transfer(panel, child.id, amount="1", direction="from_child")
    assert from_empty.status_code == 400
    assert "The customer's credits cannot cover this transfer. (TS-1027)" in _text(from_empty.text)
    unreadable = await _transfer(panel, child.id, amount="1.5")
    assert unreadable.status_code == 400
    assert "Write the amount as a whole number of credits." in unreadable.text

    assert await _credits(panel, panel.account_id) == (100, 0)
    assert await _credits(panel, child.id) == (0, 0)
    assert await panel.services.transfers.history(panel.account_id, child.id, 10) == []


async def test_a_double_submit_transfers_once(panel: Panel) -> None:
    child = await _child(panel)
    nonce = _nonce((await _customer_page(panel, child.id)).text)
    first = await _transfer(panel, child.id, amount="25", nonce=nonce)
    again = await _transfer(panel, child.id, amount="25", nonce=nonce)
    assert first.status_code == again.status_code == 303
    assert await _credits(panel, panel.account_id) == (75, 0)
    assert await _credits(panel, child.id) == (25, 0)
    assert len(await panel.services.transfers.history(panel.account_id, child.id, 10)) == 1
    # The page after it carries a new form: the next transfer is a new one.
    assert _nonce((await _customer_page(panel, child.id)).text) != nonce


# Suspension.


async def test_a_customer_is_suspended_and_reactivated_after_a_confirmation(
    panel: Panel,
) -> None:
    child = await _child(panel)
    key, _ = await panel.services.resellers.create_key(panel.account_id, child.id)

    async def balance_code() -> str:
        answer = await panel.owner.client.post("/balance", json={"api_key": key})
        return str(answer.json()["result_code"])

    asked = await panel.get(f"/panel/customers/{child.id}/suspend")
    assert asked.status_code == 200
    assert "Suspend shop? Its keys are refused within seconds" in asked.text
    assert (await panel.services.resellers.child(panel.account_id, child.id)).active

    suspended = await panel.post(f"/panel/customers/{child.id}/suspend")
    assert suspended.status_code == 303
    page = await panel.get(suspended.headers["location"])
    assert "The customer is suspended" in page.text
    assert f'href="/panel/customers/{child.id}/reactivate"' in page.text
    panel.clock.advance(5)  # past the key cache's second
    assert await balance_code() == "TS-1030"
    listed = await panel.get("/panel/customers")
    assert "Suspended" in _rows(listed.text, "customers")[0]

    confirm = await panel.get(f"/panel/customers/{child.id}/reactivate")
    assert "Reactivate shop?" in confirm.text
    back = await panel.post(f"/panel/customers/{child.id}/reactivate")
    assert back.status_code == 303
    assert "The customer is active again." in (await panel.get(back.headers["location"])).text
    panel.clock.advance(5)
    assert await balance_code() == "TS-1040"


# Prices abroad.


async def test_a_price_below_the_resellers_own_is_refused_naming_it(panel: Panel) -> None:
    child = await _child(panel)
    floor = (await panel.services.resellers.prices(panel.account_id))["DE"]
    page = await _customer_page(panel, child.id)
    [germany] = [row for row in _rows(page.text, "customer-prices") if " DE " in f" {row} "]
    lira = f"{floor / 100:,.2f} TL"
    assert germany == f"Germany DE {lira} {lira}"

    below = await panel.post(
        f"/panel/customers/{child.id}/prices", {"region": "de", "price": "0,01"}
    )
    assert below.status_code == 400
    assert (
        f"0.01 TL a segment to Germany is below your own price, {lira}: a customer's price"
        " cannot be lower. (TS-1035)"
    ) in _text(below.text)
    assert (await panel.services.resellers.prices(child.id))["DE"] == floor

    above = floor + 10
    kept = await panel.post(
        f"/panel/customers/{child.id}/prices",
        {"region": "DE", "price": f"{above // 100},{above % 100:02d}"},
    )
    assert kept.status_code == 303, kept.text
    assert (await panel.services.resellers.prices(child.id))["DE"] == above
    page = await panel.get(kept.headers["location"])
    [germany] = [row for row in _rows(page.text, "customer-prices") if " DE " in f" {row} "]
    assert germany == f"Germany DE {lira} {above / 100:,.2f} TL set by you Reset to yours"

    reset = await panel.post(f"/panel/customers/{child.id}/prices/reset", {"region": "DE"})
    assert reset.status_code == 303
    assert (await panel.services.resellers.prices(child.id))["DE"] == floor

    turkey = await panel.post(f"/panel/customers/{child.id}/prices", {"region": "TR", "price": "1"})
    assert turkey.status_code == 400
    assert "messages to Turkey cost one credit a segment" in turkey.text


# Usage.


async def test_usage_shows_a_days_messages_and_charges(panel: Panel) -> None:
    child = await _child(panel)
    async with panel.db.write() as conn:
        await accounts.add_title(conn, child.id, "SHOP", panel.clock.now(), active=True)
    assert (await _transfer(panel, child.id, amount="10")).status_code == 303
    segments = await _send(panel, child.id, "Merhaba") + await _send(panel, child.id, "x" * 200)
    assert segments > 2

    page = await _customer_page(panel, child.id)
    [today] = _rows(page.text, "usage")
    assert today.split(" ", 1)[1] == f"2 {segments} {segments} 0 0.00 TL 0.00 TL"
    listed = await panel.get("/panel/customers")
    assert "no messages yet" not in _rows(listed.text, "customers")[0]

    earlier = await panel.get(
        f"/panel/customers/{child.id}?date_from=2020-01-01&date_to=2020-01-31"
    )
    assert "No messages in these days." in earlier.text
    too_long = await panel.get(
        f"/panel/customers/{child.id}?date_from=2020-01-01&date_to=2022-01-01"
    )
    assert too_long.status_code == 400
    assert "is at most 366 days before date_to" in too_long.text


# The customer's users, and what a customer sees.


async def test_a_panel_user_for_the_customer_sees_no_customers_of_its_own(
    panel: Panel,
) -> None:
    child = await _child(panel)
    made = await panel.post(
        f"/panel/customers/{child.id}/users", {"email": "boss@shop.test", "role": "owner"}
    )
    assert made.status_code == 200, made.text
    password = NEW_PASSWORD.search(made.text)
    assert password, made.text
    assert "boss@shop.test" in _part(made.text, "customer-users", "</ul>")
    taken = await panel.post(
        f"/panel/customers/{child.id}/users", {"email": "boss@shop.test", "role": "owner"}
    )
    assert taken.status_code == 400 and "A user with this email exists already." in taken.text

    customer = await panel.login("boss@shop.test", password.group(1))
    home = await customer.get("/panel/")
    assert home.status_code == 200 and 'href="/panel/customers"' not in home.text
    for path in ("/panel/customers", "/panel/customers/new", f"/panel/customers/{child.id}"):
        assert (await customer.get(path)).status_code == 404, path
    made_child = await panel.post("/panel/customers/new", {"name": "x"}, client=customer)
    assert made_child.status_code == 404
    assert await panel.services.resellers.children(child.id) == []


# Isolation.


async def test_another_resellers_customer_is_not_found_and_nothing_changes(
    panel: Panel,
) -> None:
    theirs = await panel.services.resellers.create_child(
        panel.rival_account_id, "rival-shop", actor="test"
    )
    await panel.services.transfers.transfer(
        panel.rival_account_id, theirs.id, Balance.MAIN, 40, "to_child", None, None
    )
    for named in (theirs.id, panel.rival_account_id, panel.account_id, 2**40):
        base = f"/panel/customers/{named}"
        for path in (base, f"{base}/suspend", f"{base}/reactivate"):
            assert (await panel.get(path)).status_code == 404, path
        posts = {
            f"{base}/transfer": {"amount": "5", "direction": "from_child", "nonce": "n"},
            f"{base}/suspend": {},
            f"{base}/prices": {"region": "DE", "price": "99"},
            f"{base}/prices/reset": {"region": "DE"},
            f"{base}/users": {"email": "spy@acme.test", "role": "owner"},
        }
        for path, form in posts.items():
            answer = await panel.post(path, form)
            assert answer.status_code == 404, path
            assert "There is nothing here, or it belongs to another account." in answer.text
    still = await panel.services.resellers.child(panel.rival_account_id, theirs.id)
    assert (still.active, still.credits) == (True, 40)
    assert await panel.services.resellers.own_prices(theirs.id) == {}
    assert await panel.services.users.of_account(theirs.id) == []
    assert await _credits(panel, panel.account_id) == (100, 0)
    listed = await panel.get("/panel/customers")
    assert "rival-shop" not in listed.text


async def test_a_customer_never_reaches_its_reseller(panel: Panel) -> None:
    child = await _child(panel)
    sibling = await _child(panel, "other-shop")
    customer = await _customer_login(panel, child)
    for named in (panel.account_id, sibling.id, child.id):
        assert (await customer.get(f"/panel/customers/{named}")).status_code == 404
        moved = await panel.post(
            f"/panel/customers/{named}/transfer",
            {"amount": "5", "direction": "to_child", "nonce": "n"},
            client=customer,
        )
        assert moved.status_code == 404
    assert await _credits(panel, panel.account_id) == (100, 0)
    assert await _credits(panel, sibling.id) == (0, 0)


# The low-balance banner and its threshold.


async def test_the_banner_shows_below_the_threshold_and_not_above(panel: Panel) -> None:
    billing = await panel.get("/panel/billing")
    assert 'action="/panel/billing/low-balance"' in billing.text
    assert 'data-testid="low-balance"' not in billing.text

    raised = await panel.post("/panel/billing/low-balance", {"threshold": "150"})
    assert raised.status_code == 303
    assert raised.headers["location"] == "/panel/billing?done=threshold#low-balance"
    saved = await panel.get("/panel/billing?done=threshold")
    assert "The low-balance threshold is saved." in saved.text
    assert 'name="threshold" value="150"' in saved.text
    for path in ("/panel/", "/panel/send", "/panel/customers"):
        page = await panel.get(path)
        assert "Low balance: 100 credits left, below the 150 you set." in _text(page.text), path
    # Members see it too; only owners change it.
    member = await panel.get("/panel/", client=panel.member.client)
    assert 'data-testid="low-balance"' in member.text
    member_billing = await panel.get("/panel/billing", client=panel.member.client)
    assert 'action="/panel/billing/low-balance"' not in member_billing.text
    refused = await panel.post(
        "/panel/billing/low-balance", {"threshold": "0"}, client=panel.member.client
    )
    assert refused.status_code == 404

    lowered = await panel.post("/panel/billing/low-balance", {"threshold": "50"})
    assert lowered.status_code == 303
    assert 'data-testid="low-balance"' not in (await panel.get("/panel/")).text
    # At the threshold is not below it.
    await panel.post("/panel/billing/low-balance", {"threshold": "100"})
    assert 'data-testid="low-balance"' not in (await panel.get("/panel/")).text
    await panel.post("/panel/billing/low-balance", {"threshold": "101"})
    assert 'data-testid="low-balance"' in (await panel.get("/panel/")).text
    cleared = await panel.post("/panel/billing/low-balance", {"threshold": ""})
    assert cleared.status_code == 303
    assert 'data-testid="low-balance"' not in (await panel.get("/panel/")).text

    unreadable = await panel.post("/panel/billing/low-balance", {"threshold": "lots"})
    assert unreadable.status_code == 400
    assert "The threshold is a whole number of credits (empty: none)." in unreadable.text


async def test_the_banner_follows_the_balance(panel: Panel) -> None:
    await panel.post("/panel/billing/low-balance", {"threshold": "90"})
    child = await _child(panel)
    assert 'data-testid="low-balance"' not in (await panel.get("/panel/")).text
    assert (await _transfer(panel, child.id, amount="20")).status_code == 303
    page = await panel.get("/panel/customers")
    assert "Low balance: 80 credits left, below the 90 you set." in _text(page.text)


# The key form's permission.


async def test_the_key_form_offers_managing_customers_unticked(panel: Panel) -> None:
    page = await panel.get("/panel/keys")
    box = re.search(r'<input type="checkbox" name="manage_subaccounts"[^>]*>', page.text)
    assert box and "checked" not in box.group(0), page.text
    assert "Manage customer accounts" in page.text
    ticked = {p.value: "on" for p in Permission if p is not Permission.MANAGE_SUBACCOUNTS}
    # As the form comes: the key does not get it.
    plain = await panel.post("/panel/keys", ticked)
    assert plain.status_code == 200 and NEW_KEY.search(plain.text)
    # Ticked: the key runs the reseller's customers through the API.
    managing = await panel.post("/panel/keys", ticked | {"manage_subaccounts": "on"})
    key = NEW_KEY.search(managing.text)
    assert key, managing.text
    records = await panel.services.keys.of_account(panel.account_id)
    assert [Permission.MANAGE_SUBACCOUNTS in r.permissions for r in records] == [False, True]
    listed = await panel.owner.client.post("/reseller/account/list", json={"api_key": key.group(1)})
    assert listed.json()["result_code"] == "TS-1040", listed.json()


async def test_a_customers_key_form_has_no_such_permission(panel: Panel) -> None:
    child = await _child(panel)
    customer = await _customer_login(panel, child)
    page = await customer.get("/panel/keys")
    assert page.status_code == 200
    assert 'name="manage_subaccounts"' not in page.text
    assert "Manage customer accounts" not in page.text
    # A forged field is not a permission the form offers: the key is made without it.
    ticked = {p.value: "on" for p in Permission}
    made = await panel.post("/panel/keys", ticked, client=customer)
    assert made.status_code == 200 and NEW_KEY.search(made.text)
    [record] = await panel.services.keys.of_account(child.id)
    assert Permission.MANAGE_SUBACCOUNTS not in record.permissions
    assert Permission.SEND_SINGLE_SMS in record.permissions
