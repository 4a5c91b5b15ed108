"""Customers (a reseller's owners only): the accounts it runs, each with its balance and last
activity; a new one; and a customer's page: credits moved to or from it, suspension, its prices
abroad, its usage per day, its panel users and its recent transfers.

A customer is named by its id in the address, and the reseller service reads it only together
with the reseller: another account's customer is the 404 page, as anything not the caller's. A
customer account sees none of this (it has no customers of its own).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date
from functools import wraps
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ileti import codes
from ileti.accounts.resellers import ChildView, Usage, UsageRow
from ileti.accounts.transfers import FROM_CHILD, TO_CHILD
from ileti.codes import GatewayError
from ileti.domain.numbers import country_name
from ileti.domain.pricing import Balance
from ileti.web.pages import Handler, Screen, page
from ileti.web.routes.billing import EVERY_OTHER, in_name_order

RECENT_TRANSFERS = 20
# Account ids are 32-bit: a larger one in an address names nothing.
LARGEST_ID = 2**31 - 1
# Lira as people type them: 12, 12,5, 12.50.
_LIRA = re.compile(r"([0-9]{1,9})(?:[.,]([0-9]{1,2}))?")


def _reseller(handler: Handler) -> Any:
    """An owner's page of an account that may have customers; a customer account's users get
    the 404 page, as for anything not theirs."""

    @wraps(handler)
    async def checked(screen: Screen) -> Response:
        if screen.user.is_customer:
            return screen.not_found()
        return await handler(screen)

    return page(checked, owner=True)


async def _customer(screen: Screen) -> ChildView | None:
    """The customer the address names, if it is this account's."""
    customer_id: int = screen.request.path_params["customer_id"]
    if customer_id > LARGEST_ID:
        return None
    try:
        return await screen.services.resellers.child(screen.account_id, customer_id)
    except GatewayError as error:
        if error.result is codes.NOT_FOUND:
            return None
        raise


def _field(error: GatewayError) -> tuple[str, str]:
    """The field a refusal names, and what it says of it (empty when it names none)."""
    if not error.errors:
        return "", ""
    return error.errors[0].get("field", ""), error.errors[0].get("message", "")


def _kurus(text: str) -> int | None:
    """An amount in lira as typed, in kuruş; None for anything else."""
    found = _LIRA.fullmatch(text.strip())
    if found is None:
        return None
    whole, fraction = found.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def _credits(text: str) -> int | None:
    value = text.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 12 else None


# The list.


@_reseller
async def customers(screen: Screen) -> Response:
    return screen.render(
        "customers/list.html",
        customers=await screen.services.resellers.children(screen.account_id),
        balances=await screen.services.accounts.balances(screen.account_id),
    )


# A new customer.


@dataclass(frozen=True)
class NewCustomer:
    name: str = ""
    shared: bool = False
    daily_cap: str = ""


@_reseller
async def new(screen: Screen) -> Response:
    if screen.form is None:
        return screen.render("customers/new.html", form=NewCustomer())
    form = NewCustomer(
        name=screen.field("name"),
        shared=screen.field("balance") == "shared",
        daily_cap=screen.field("daily_cap").strip(),
    )
    cap: int | None = None
    if form.daily_cap:
        cap = _credits(form.daily_cap)
        if cap is None:
            error = screen.t.text("The daily cap is a whole number of credits.")
            return screen.render("customers/new.html", 400, form=form, error=error)
    try:
        made = await screen.services.resellers.create_child(
            screen.account_id,
            form.name,
            shared_balance=form.shared,
            daily_cap=cap,
            actor=screen.user.email,
        )
    except GatewayError as error:
        said = _name_refusal(screen, error, form.name.strip())
        return screen.render("customers/new.html", 400, form=form, error=said)
    return screen.redirect(f"/panel/customers/{made.id}?done=created")


def _name_refusal(screen: Screen, error: GatewayError, name: str) -> str:
    """The service's refusal; one of the name in the panel's words (the catalogue's text of
    a missing name is a contact group's)."""
    field, said = _field(error)
    if field == "name" and said == "is required":
        text = screen.t.text("Give the customer a name.")
    elif field == "name" and said.endswith("is taken: choose another"):
        text = screen.t.text("The name “{name}” is taken: choose another.", name=name)
    else:
        return screen.refusal(error)
    return f"{text} ({error.result.code})"


# A customer's page.


@dataclass(frozen=True)
class TransferForm:
    balance: str = Balance.MAIN.value
    amount: str = ""
    direction: str = TO_CHILD
    # The transfer's idempotency key: a double click (or a reload) moves the credits once.
    nonce: str = ""


@dataclass(frozen=True)
class PriceRow:
    region: str
    name: str
    # What the reseller pays there: the lowest price the customer may be given.
    floor: int
    price: int
    # Set for the customer (else it pays the reseller's price).
    own: bool


@_reseller
async def customer(screen: Screen) -> Response:
    found = await _customer(screen)
    if found is None:
        return screen.not_found()
    return await _customer_page(screen, found)


async def _customer_page(
    screen: Screen, child: ChildView, status: int = 200, **context: Any
) -> Response:
    services = screen.services
    context.setdefault("transfer", TransferForm(nonce=secrets.token_urlsafe(16)))
    context.setdefault("price_form", {"region": "", "price": ""})
    context.setdefault("user_form", {"email": "", "role": "owner"})
    usage, usage_error = await _usage(screen, child)
    if usage_error:
        status = max(status, 400)
    return screen.render(
        "customers/customer.html",
        status,
        customer=child,
        balances=await services.accounts.balances(screen.account_id),
        prices=await _prices(screen, child),
        usage=usage,
        usage_total=_total(usage.rows) if usage else None,
        usage_error=usage_error,
        usage_from=screen.query.get("date_from", ""),
        usage_to=screen.query.get("date_to", ""),
        transfers=await services.transfers.history(screen.account_id, child.id, RECENT_TRANSFERS),
        users=await services.users.of_account(child.id),
        done=screen.query.get("done", ""),
        **context,
    )


async def _prices(screen: Screen, child: ChildView) -> list[PriceRow]:
    """Every region the customer's table names (its reseller's and its own), by the country's
    name; every other country last."""
    resellers = screen.services.resellers
    floor = await resellers.prices(screen.account_id)
    table = await resellers.prices(child.id)
    own = await resellers.own_prices(child.id)
    named = in_name_order(screen.t, set(table) - {EVERY_OTHER})
    rows = [
        PriceRow(region, name, floor.get(region, floor[EVERY_OTHER]), table[region], region in own)
        for region, name in named
    ]
    rows.append(
        PriceRow(
            EVERY_OTHER,
            screen.t.text("Every other country"),
            floor[EVERY_OTHER],
            table[EVERY_OTHER],
            EVERY_OTHER in own,
        )
    )
    return rows


async def _usage(screen: Screen, child: ChildView) -> tuple[Usage | None, str]:
    """The usage for the days the query asks (this month by default), or why there is none."""
    try:
        first = _day(screen.query.get("date_from", ""))
        last = _day(screen.query.get("date_to", ""))
    except ValueError:
        return None, screen.t.text("Choose the days as dates.")
    try:
        usage = await screen.services.resellers.usage(screen.account_id, child.id, first, last)
    except GatewayError as error:
        return None, screen.refusal(error)
    return usage, ""


def _day(value: str) -> date | None:
    return date.fromisoformat(value) if value else None


def _total(rows: list[UsageRow]) -> dict[str, int]:
    fields = (
        "messages",
        "segments",
        "credits",
        "refunded_credits",
        "international_kurus",
        "refunded_international_kurus",
    )
    return {name: sum(getattr(row, name) for row in rows) for name in fields}


# Credits moved.


@_reseller
async def transfer(screen: Screen) -> Response:
    child = await _customer(screen)
    if child is None:
        return screen.not_found()
    form = TransferForm(
        balance=screen.field("balance"),
        amount=screen.field("amount").strip(),
        direction=screen.field("direction"),
        nonce=screen.field("nonce"),
    )
    main = form.balance != Balance.INTERNATIONAL.value
    amount = _credits(form.amount) if main else _kurus(form.amount)
    if amount is None:
        if main:
            error = screen.t.text("Write the amount as a whole number of credits.")
        else:
            error = screen.t.text("Write the amount in TL, e.g. 12,50.")
        return await _customer_page(screen, child, 400, transfer_error=error, transfer=form)
    try:
        await screen.services.transfers.transfer(
            screen.account_id,
            child.id,
            Balance.MAIN if main else Balance.INTERNATIONAL,
            amount,
            form.direction,
            (await screen.caller()).key_id,
            form.nonce or None,
        )
    except GatewayError as error:
        if error.result is codes.NOT_FOUND:
            return screen.not_found()
        said = _transfer_refusal(screen, error, form, main)
        return await _customer_page(screen, child, 400, transfer_error=said, transfer=form)
    return screen.redirect(f"/panel/customers/{child.id}?done=transferred")


def _transfer_refusal(screen: Screen, error: GatewayError, form: TransferForm, main: bool) -> str:
    """Which side could not cover it, in the panel's words; a form sent before, as such."""
    t = screen.t
    if error.result is codes.INSUFFICIENT_BALANCE:
        if form.direction == FROM_CHILD and main:
            text = t.text("The customer's credits cannot cover this transfer.")
        elif form.direction == FROM_CHILD:
            text = t.text("The customer's international balance cannot cover this transfer.")
        elif main:
            text = t.text("Your credits cannot cover this transfer.")
        else:
            text = t.text("Your international balance cannot cover this transfer.")
    elif _field(error)[0] == "Idempotency-Key":
        text = t.text("This form was sent already with another amount: open the page again.")
    else:
        return screen.refusal(error)
    return f"{text} ({error.result.code})"


# Suspension.


@_reseller
async def suspend(screen: Screen) -> Response:
    return await _status(screen, active=False)


@_reseller
async def reactivate(screen: Screen) -> Response:
    return await _status(screen, active=True)


async def _status(screen: Screen, *, active: bool) -> Response:
    """A GET asks to confirm (no script needed); the POST changes it."""
    child = await _customer(screen)
    if child is None:
        return screen.not_found()
    if screen.form is None:
        return screen.render("customers/status.html", customer=child, reactivating=active)
    resellers = screen.services.resellers
    change = resellers.reactivate if active else resellers.suspend
    await change(screen.account_id, child.id, actor=screen.user.email)
    done = "reactivated" if active else "suspended"
    return screen.redirect(f"/panel/customers/{child.id}?done={done}")


# Prices abroad.


@_reseller
async def set_price(screen: Screen) -> Response:
    child = await _customer(screen)
    if child is None:
        return screen.not_found()
    region = screen.field("region").strip().upper()
    typed = screen.field("price").strip()
    form = {"region": region, "price": typed}
    kurus = _kurus(typed)
    if kurus is None:
        error = screen.t.text("Write the price in TL, e.g. 0,45.")
        return await _customer_page(screen, child, 400, price_error=error, price_form=form)
    try:
        await screen.services.resellers.set_price(
            screen.account_id, child.id, region, kurus, actor=screen.user.email
        )
    except GatewayError as error:
        said = await _price_refusal(screen, error, region, kurus)
        return await _customer_page(screen, child, 400, price_error=said, price_form=form)
    return screen.redirect(f"/panel/customers/{child.id}?done=priced#prices")


async def _price_refusal(screen: Screen, error: GatewayError, region: str, kurus: int) -> str:
    """A price below the reseller's own is refused naming that floor, in the panel's words."""
    if _field(error)[0] != "price":
        return screen.refusal(error)
    floor = await screen.services.resellers.prices(screen.account_id)
    if region == EVERY_OTHER:
        where = screen.t.text("every other country")
    else:
        where = screen.t.text(country_name(region))
    text = screen.t.text(
        "{price} a segment to {where} is below your own price, {floor}: a customer's price"
        " cannot be lower.",
        price=screen.t.money(kurus),
        where=where,
        floor=screen.t.money(floor.get(region, floor[EVERY_OTHER])),
    )
    return f"{text} ({error.result.code})"


@_reseller
async def reset_price(screen: Screen) -> Response:
    child = await _customer(screen)
    if child is None:
        return screen.not_found()
    try:
        await screen.services.resellers.reset_price(
            screen.account_id, child.id, screen.field("region"), actor=screen.user.email
        )
    except GatewayError as error:
        return await _customer_page(screen, child, 400, price_error=screen.refusal(error))
    return screen.redirect(f"/panel/customers/{child.id}?done=reset#prices")


# The customer's panel users.


@_reseller
async def add_user(screen: Screen) -> Response:
    child = await _customer(screen)
    if child is None:
        return screen.not_found()
    email, role = screen.field("email").strip(), screen.field("role")
    try:
        made, password = await screen.services.resellers.add_user(
            screen.account_id, child.id, email, role
        )
    except GatewayError as error:
        form = {"email": email, "role": role}
        said = _user_refusal(screen, error, email)
        return await _customer_page(screen, child, 400, user_error=said, user_form=form)
    return await _customer_page(screen, child, new_password=password, for_email=made.email)


def _user_refusal(screen: Screen, error: GatewayError, email: str) -> str:
    """An email taken or none, as the account's own users page says it."""
    field, said = _field(error)
    if field != "email":
        return screen.refusal(error)
    if said == "has a panel user already":
        return screen.t.text("A user with this email exists already.")
    return screen.t.text("“{email}” is not an email address.", email=email)


routes = [
    Route("/customers", customers, methods=["GET"]),
    Route("/customers/new", new, methods=["GET", "POST"]),
    Route("/customers/{customer_id:int}", customer, methods=["GET"]),
    Route("/customers/{customer_id:int}/transfer", transfer, methods=["POST"]),
    Route("/customers/{customer_id:int}/suspend", suspend, methods=["GET", "POST"]),
    Route("/customers/{customer_id:int}/reactivate", reactivate, methods=["GET", "POST"]),
    Route("/customers/{customer_id:int}/prices", set_price, methods=["POST"]),
    Route("/customers/{customer_id:int}/prices/reset", reset_price, methods=["POST"]),
    Route("/customers/{customer_id:int}/users", add_user, methods=["POST"]),
]
