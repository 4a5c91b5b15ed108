"""The account's blacklist: ``/blacklist/add``, ``/blacklist/remove``, ``/blacklist/list``.

No permission beyond a valid key: the contract names none, and listing a number only ever stops
messages.
"""

from __future__ import annotations

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import (
    BlacklistListResponse,
    BlacklistNumberRequest,
    BlacklistNumberResponse,
    PageRequest,
    cursor_of,
    timestamp,
)
from ileti.codes import GatewayError
from ileti.domain.numbers import InvalidNumber, normalise
from ileti.store import blacklist
from ileti.store.blacklist import Removal

router = APIRouter()


def _number(raw: str) -> str:
    try:
        return normalise(raw).digits
    except InvalidNumber:
        raise GatewayError(
            codes.INVALID_NUMBER,
            errors=[{"field": "number", "message": "is not a valid phone number"}],
        ) from None


@endpoint(
    router,
    "/blacklist/add",
    summary="Refuse every send to a number; adding it again changes nothing.",
    request_model=BlacklistNumberRequest,
    response_model=BlacklistNumberResponse,
    success_code=codes.OPERATION_OK,
    permission=None,
    errors=(codes.INVALID_NUMBER,),
    tags=("blacklist",),
)
async def blacklist_add(ctx: Context, body: BlacklistNumberRequest) -> Reply:
    number = _number(body.number)
    async with ctx.state.db.write() as conn:
        await blacklist.add(conn, ctx.caller.account_id, number)
    return Reply(codes.OPERATION_OK, {"number": number})


@endpoint(
    router,
    "/blacklist/remove",
    summary="Take a number the account listed off the blacklist.",
    request_model=BlacklistNumberRequest,
    response_model=BlacklistNumberResponse,
    success_code=codes.OPERATION_OK,
    permission=None,
    errors=(codes.INVALID_NUMBER, codes.NOT_FOUND),
    tags=("blacklist",),
)
async def blacklist_remove(ctx: Context, body: BlacklistNumberRequest) -> Reply:
    number = _number(body.number)
    async with ctx.state.db.write() as conn:
        removal = await blacklist.remove(conn, ctx.caller.account_id, number)
    if removal is Removal.NOT_LISTED:
        raise GatewayError(
            codes.NOT_FOUND,
            f"{number} is not on the account's blacklist (a recipient's own RET opt-out stays).",
        )
    return Reply(codes.OPERATION_OK, {"number": number})


@endpoint(
    router,
    "/blacklist/list",
    summary="The account's blacklisted numbers, newest first, paged by cursor.",
    request_model=PageRequest,
    response_model=BlacklistListResponse,
    success_code=codes.OPERATION_OK,
    permission=None,
    tags=("blacklist",),
)
async def blacklist_list(ctx: Context, body: PageRequest) -> Reply:
    async with ctx.state.db.read() as conn:
        page, next_position = await blacklist.listed_page(
            conn, ctx.caller.account_id, limit=body.limit, before=body.cursor
        )
    return Reply(
        codes.OPERATION_OK,
        {
            "numbers": [
                {
                    "number": entry.number,
                    "scope": entry.scope,
                    "source": entry.source,
                    "created_at": timestamp(entry.created_at),
                }
                for entry in page
            ],
            "next_cursor": cursor_of(next_position) if next_position is not None else None,
        },
    )
