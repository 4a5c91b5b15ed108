"""Who am I and what do I have: ``/auth/check``, ``/balance``, ``/senderid/list``."""

from __future__ import annotations

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import ApiRequest, AuthCheckResponse, BalanceResponse, TitleListResponse
from ileti.domain.permissions import Permission

router = APIRouter()


def _balance(credits: int, kurus: int) -> dict[str, object]:
    return {"main": credits, "international": round(kurus / 100, 2)}


@endpoint(
    router,
    "/auth/check",
    summary="Check a key: its permissions and its account's balances.",
    request_model=ApiRequest,
    response_model=AuthCheckResponse,
    success_code=codes.AUTH_OK,
    permission=None,
    tags=("account",),
)
async def auth_check(ctx: Context, _body: ApiRequest) -> Reply:
    key = ctx.caller.key
    return Reply(
        codes.AUTH_OK,
        {
            "key_details": {
                "status": "active",
                "permissions": {p.value: p in key.permissions for p in Permission},
            },
            "account_summary": {
                "account_status": "active",
                # As the key's cache read them: at most its second old.
                "balance": _balance(key.credits, key.international_kurus),
            },
        },
    )


@endpoint(
    router,
    "/balance",
    summary="The account's balances: domestic credits and international TRY.",
    request_model=ApiRequest,
    response_model=BalanceResponse,
    success_code=codes.QUERY_OK,
    permission=Permission.CHECK_BALANCE,
    tags=("account",),
)
async def balance(ctx: Context, _body: ApiRequest) -> Reply:
    now = await ctx.services.accounts.balances(ctx.caller.account_id)
    return Reply(codes.QUERY_OK, {"balance": _balance(now.credits, now.international_kurus)})


@endpoint(
    router,
    "/senderid/list",
    summary="The account's sender IDs (titles) and their status.",
    request_model=ApiRequest,
    response_model=TitleListResponse,
    success_code=codes.QUERY_OK,
    permission=Permission.CHECK_BALANCE,
    tags=("account",),
)
async def senderid_list(ctx: Context, _body: ApiRequest) -> Reply:
    titles = await ctx.services.accounts.titles(ctx.caller.account_id)
    return Reply(
        codes.QUERY_OK, {"titles": [{"title": t.title, "status": t.status} for t in titles]}
    )
