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

router = APIRouter()


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
    number = await ctx.services.blacklist.add(ctx.caller.account_id, body.number)
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
    number = await ctx.services.blacklist.remove(ctx.caller.account_id, body.number)
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
    page, next_position = await ctx.services.blacklist.page(
        ctx.caller.account_id, body.limit, body.cursor
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
