"""``/webhook/test``: a signed ``key.test`` event to the key's receiver."""

from __future__ import annotations

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import ApiRequest, WebhookTestResponse

router = APIRouter()


@endpoint(
    router,
    "/webhook/test",
    summary="Send a signed key.test event to the key's webhook (through the outbox).",
    request_model=ApiRequest,
    response_model=WebhookTestResponse,
    success_code=codes.OPERATION_OK,
    permission=None,
    errors=(codes.NOT_FOUND,),
    tags=("webhooks",),
)
async def webhook_test(ctx: Context, _body: ApiRequest) -> Reply:
    key = ctx.caller.key
    sent = await ctx.services.webhooks.send_test(key.id, key.prefix)
    return Reply(codes.OPERATION_OK, {"event_id": sent.event_id, "url": sent.url})
