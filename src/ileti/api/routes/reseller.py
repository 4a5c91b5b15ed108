"""A reseller's API: its customer accounts (``/reseller/*``), for keys with
``manage_subaccounts``. A customer is named by id or name; one that is not the caller's own is
TS-1039, as one that does not exist."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from fastapi import APIRouter

from ileti import codes
from ileti.accounts.resellers import MAX_AMOUNT, ChildView
from ileti.accounts.transfers import TransferView
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import (
    ApiRequest,
    ResellerAccountListResponse,
    ResellerAccountRequest,
    ResellerAccountResponse,
    ResellerCreateRequest,
    ResellerKeyRequest,
    ResellerKeyResponse,
    ResellerPriceListRequest,
    ResellerPriceRequest,
    ResellerPriceResetRequest,
    ResellerPricesResponse,
    ResellerTitleRequest,
    ResellerTitleResponse,
    ResellerTransferRequest,
    ResellerTransferResponse,
    ResellerTransfersRequest,
    ResellerTransfersResponse,
    ResellerUsageRequest,
    ResellerUsageResponse,
    ResellerUserRequest,
    ResellerUserResponse,
)
from ileti.domain.permissions import Permission
from ileti.domain.pricing import Balance
from ileti.validation import invalid, quoted

router = APIRouter()

_TAGS = ("reseller",)
_MANAGE = Permission.MANAGE_SUBACCOUNTS


def _actor(ctx: Context) -> str:
    """Who did it, as the reseller's audit log names it: the key, by its prefix."""
    return f"key {ctx.caller.key.prefix}"


def _lira(kurus: int) -> float:
    return round(kurus / 100, 2)


def _kurus(value: object, field: str) -> int:
    """TRY as JSON gives it (12.5, 12.50, 12) in kuruş, exactly: at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid(field, "must be an amount in TRY, such as 12.50")
    kurus = Decimal(str(value)) * 100
    if kurus != kurus.to_integral_value():
        raise invalid(field, "has at most two decimals")
    return int(kurus)


async def _child_id(ctx: Context, account: object) -> int:
    if account is None:
        raise invalid("account", "is required")
    child = await ctx.services.resellers.find_child(ctx.caller.account_id, account)
    return child.id


def _customer(child: ChildView) -> dict[str, Any]:
    return {
        "id": child.id,
        "name": child.name,
        "status": child.status,
        "shared_balance": child.shared_balance,
        "daily_cap": child.daily_cap,
        "balance": {"main": child.credits, "international": _lira(child.international_kurus)},
        "low_balance_threshold": child.low_balance_threshold,
        "created_at": child.created_at.astimezone(UTC).isoformat(),
        "last_activity": child.last_activity.astimezone(UTC).isoformat()
        if child.last_activity is not None
        else None,
    }


def _in_units(balance: Balance, amount: int | None) -> float | None:
    if amount is None:
        return None
    return amount if balance is Balance.MAIN else _lira(amount)


def _transfer(view: TransferView) -> dict[str, Any]:
    main = view.balance is Balance.MAIN
    return {
        "transfer_id": view.id,
        "account_id": view.child_id,
        "direction": view.direction,
        "credits": view.amount if main else None,
        "international": None if main else _lira(view.amount),
        "created_at": view.created_at.astimezone(UTC).isoformat(),
    }


# Customer accounts.


@endpoint(
    router,
    "/reseller/account/create",
    summary="Create a customer account under yours.",
    request_model=ResellerCreateRequest,
    response_model=ResellerAccountResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    tags=_TAGS,
)
async def account_create(ctx: Context, body: ResellerCreateRequest) -> Reply:
    child = await ctx.services.resellers.create_child(
        ctx.caller.account_id,
        body.name,
        shared_balance=bool(body.shared_balance),
        daily_cap=body.daily_cap,
        actor=_actor(ctx),
    )
    return Reply(codes.OPERATION_OK, {"account": _customer(child)})


@endpoint(
    router,
    "/reseller/account/list",
    summary="Your customer accounts with their balances, status and last activity.",
    request_model=ApiRequest,
    response_model=ResellerAccountListResponse,
    success_code=codes.QUERY_OK,
    permission=_MANAGE,
    tags=_TAGS,
)
async def account_list(ctx: Context, _body: ApiRequest) -> Reply:
    children = await ctx.services.resellers.children(ctx.caller.account_id)
    return Reply(codes.QUERY_OK, {"accounts": [_customer(child) for child in children]})


@endpoint(
    router,
    "/reseller/account/show",
    summary="One of your customer accounts.",
    request_model=ResellerAccountRequest,
    response_model=ResellerAccountResponse,
    success_code=codes.QUERY_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def account_show(ctx: Context, body: ResellerAccountRequest) -> Reply:
    if body.account is None:
        raise invalid("account", "is required")
    child = await ctx.services.resellers.find_child(ctx.caller.account_id, body.account)
    return Reply(codes.QUERY_OK, {"account": _customer(child)})


@endpoint(
    router,
    "/reseller/account/suspend",
    summary="Suspend a customer account: its keys are refused (TS-1030); nobody else's are.",
    request_model=ResellerAccountRequest,
    response_model=ResellerAccountResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def account_suspend(ctx: Context, body: ResellerAccountRequest) -> Reply:
    child_id = await _child_id(ctx, body.account)
    child = await ctx.services.resellers.suspend(ctx.caller.account_id, child_id, actor=_actor(ctx))
    return Reply(codes.OPERATION_OK, {"account": _customer(child)})


@endpoint(
    router,
    "/reseller/account/reactivate",
    summary="Reactivate a suspended customer account.",
    request_model=ResellerAccountRequest,
    response_model=ResellerAccountResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def account_reactivate(ctx: Context, body: ResellerAccountRequest) -> Reply:
    child_id = await _child_id(ctx, body.account)
    child = await ctx.services.resellers.reactivate(
        ctx.caller.account_id, child_id, actor=_actor(ctx)
    )
    return Reply(codes.OPERATION_OK, {"account": _customer(child)})


# What a customer sends with.


@endpoint(
    router,
    "/reseller/key/create",
    summary="A key for a customer account, shown this once.",
    request_model=ResellerKeyRequest,
    response_model=ResellerKeyResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def key_create(ctx: Context, body: ResellerKeyRequest) -> Reply:
    child_id = await _child_id(ctx, body.account)
    deny: set[Permission] = set()
    for name in body.deny or []:
        try:
            deny.add(Permission(name))
        except ValueError:
            raise invalid("deny", f"{quoted(name)} is no permission") from None
    key, record = await ctx.services.resellers.create_key(
        ctx.caller.account_id,
        child_id,
        deny=deny,
        allow_ips=body.allow_ips,
        per_minute=body.per_minute,
    )
    return Reply(
        codes.OPERATION_OK,
        {
            "account_id": child_id,
            "key": key,
            "prefix": record.prefix,
            "permissions": {p.value: p in record.permissions for p in Permission},
            "allowed_ips": list(record.allowed_ips),
            "per_minute": record.per_minute,
        },
    )


@endpoint(
    router,
    "/reseller/title/add",
    summary="Ask for a sender ID for a customer account: pending until the operator approves.",
    request_model=ResellerTitleRequest,
    response_model=ResellerTitleResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def title_add(ctx: Context, body: ResellerTitleRequest) -> Reply:
    child_id = await _child_id(ctx, body.account)
    record = await ctx.services.resellers.add_title(
        ctx.caller.account_id, child_id, body.title, body.reason
    )
    return Reply(
        codes.OPERATION_OK,
        {"account_id": child_id, "title": record.title, "status": record.status},
    )


@endpoint(
    router,
    "/reseller/user/add",
    summary="A panel user for a customer account; the password is shown this once.",
    request_model=ResellerUserRequest,
    response_model=ResellerUserResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def user_add(ctx: Context, body: ResellerUserRequest) -> Reply:
    child_id = await _child_id(ctx, body.account)
    user, password = await ctx.services.resellers.add_user(
        ctx.caller.account_id, child_id, body.email, body.role or "member"
    )
    return Reply(
        codes.OPERATION_OK,
        {
            "account_id": child_id,
            "email": user.email,
            "role": user.role.value,
            "password": password,
        },
    )


# Credits.


@endpoint(
    router,
    "/reseller/transfer",
    summary="Move credits or TRY between you and a customer account, either way; a retry"
    " with the same Idempotency-Key moves nothing again.",
    request_model=ResellerTransferRequest,
    response_model=ResellerTransferResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND, codes.INSUFFICIENT_BALANCE),
    tags=_TAGS,
)
async def transfer(ctx: Context, body: ResellerTransferRequest) -> Reply:
    if (body.credits is None) == (body.international is None):
        raise invalid("credits", "give credits or international, one of them")
    child_id = await _child_id(ctx, body.account)
    if body.credits is not None:
        balance, amount, field = Balance.MAIN, body.credits, "credits"
    else:
        balance, field = Balance.INTERNATIONAL, "international"
        amount = _kurus(body.international, field)
    if amount > MAX_AMOUNT:
        raise invalid(field, "is more than any balance holds")
    moved = await ctx.services.transfers.transfer(
        ctx.caller.account_id,
        child_id,
        balance,
        amount,
        body.direction,
        ctx.caller.key_id,
        ctx.request.headers.get("idempotency-key") or None,
    )
    return Reply(
        codes.OPERATION_OK,
        {
            "transfer": _transfer(moved),
            "your_balance_after": _in_units(balance, moved.parent_balance_after),
            "account_balance_after": _in_units(balance, moved.child_balance_after),
        },
    )


@endpoint(
    router,
    "/reseller/transfers",
    summary="Your transfers, newest first (with one customer account, or all).",
    request_model=ResellerTransfersRequest,
    response_model=ResellerTransfersResponse,
    success_code=codes.QUERY_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def transfers(ctx: Context, body: ResellerTransfersRequest) -> Reply:
    child_id = None if body.account is None else await _child_id(ctx, body.account)
    found = await ctx.services.transfers.history(
        ctx.caller.account_id, child_id, body.limit + 1, body.before
    )
    page = found[: body.limit]
    last = page[-1].created_at.astimezone(UTC).isoformat() if len(found) > body.limit else None
    return Reply(
        codes.QUERY_OK, {"transfers": [_transfer(view) for view in page], "next_before": last}
    )


# Prices abroad.


async def _prices(ctx: Context, account_id: int) -> Reply:
    resellers = ctx.services.resellers
    table, own = await resellers.prices(account_id), await resellers.own_prices(account_id)
    return Reply(
        codes.QUERY_OK,
        {
            "account_id": account_id,
            "prices": [
                {"region": region, "price": _lira(kurus), "own": region in own}
                for region, kurus in sorted(table.items())
            ],
        },
    )


@endpoint(
    router,
    "/reseller/price/set",
    summary="A customer account's price a segment to a country, never below yours.",
    request_model=ResellerPriceRequest,
    response_model=ResellerPricesResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def price_set(ctx: Context, body: ResellerPriceRequest) -> Reply:
    child_id = await _child_id(ctx, body.account)
    if body.price is None:
        raise invalid("price", "is required")
    await ctx.services.resellers.set_price(
        ctx.caller.account_id,
        child_id,
        body.region,
        _kurus(body.price, "price"),
        actor=_actor(ctx),
    )
    answer = await _prices(ctx, child_id)
    return Reply(codes.OPERATION_OK, answer.fields)


@endpoint(
    router,
    "/reseller/price/reset",
    summary="A customer account pays your price to a country again.",
    request_model=ResellerPriceResetRequest,
    response_model=ResellerPricesResponse,
    success_code=codes.OPERATION_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def price_reset(ctx: Context, body: ResellerPriceResetRequest) -> Reply:
    child_id = await _child_id(ctx, body.account)
    await ctx.services.resellers.reset_price(
        ctx.caller.account_id, child_id, body.region, actor=_actor(ctx)
    )
    answer = await _prices(ctx, child_id)
    return Reply(codes.OPERATION_OK, answer.fields)


@endpoint(
    router,
    "/reseller/price/list",
    summary="Prices a segment abroad in force: a customer account's, or your own.",
    request_model=ResellerPriceListRequest,
    response_model=ResellerPricesResponse,
    success_code=codes.QUERY_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def price_list(ctx: Context, body: ResellerPriceListRequest) -> Reply:
    if body.account is None:
        return await _prices(ctx, ctx.caller.account_id)
    return await _prices(ctx, await _child_id(ctx, body.account))


# Usage, to bill customers by.


@endpoint(
    router,
    "/reseller/usage",
    summary="Messages and charges per customer account and Europe/Istanbul day.",
    request_model=ResellerUsageRequest,
    response_model=ResellerUsageResponse,
    success_code=codes.QUERY_OK,
    permission=_MANAGE,
    errors=(codes.NOT_FOUND,),
    tags=_TAGS,
)
async def usage(ctx: Context, body: ResellerUsageRequest) -> Reply:
    child_id = None if body.account is None else await _child_id(ctx, body.account)
    report = await ctx.services.resellers.usage(
        ctx.caller.account_id, child_id, body.date_from, body.date_to
    )
    return Reply(
        codes.QUERY_OK,
        {
            "date_from": report.first.isoformat(),
            "date_to": report.last.isoformat(),
            "usage": [
                {
                    "account_id": row.child_id,
                    "name": row.name,
                    "date": row.day.isoformat(),
                    "messages": row.messages,
                    "segments": row.segments,
                    "credits": row.credits,
                    "refunded_credits": row.refunded_credits,
                    "international_kurus": row.international_kurus,
                    "refunded_international_kurus": row.refunded_international_kurus,
                }
                for row in report.rows
            ],
        },
    )
