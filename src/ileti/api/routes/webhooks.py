"""``/webhook/test``: a signed ``key.test`` event to the key's receiver."""

from __future__ import annotations

from fastapi import APIRouter

from ileti import codes
from ileti.api.endpoint import Context, Reply, endpoint
from ileti.api.schemas import ApiRequest, WebhookTestResponse
from ileti.codes import GatewayError
from ileti.store import webhooks
from ileti.store.models import utcnow
from ileti.webhooks.events import EventType, make_event

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
    async with ctx.state.db.write() as conn:
        config = await webhooks.get_config(conn, key.id)
        if config is None or not config.enabled:
            raise GatewayError(codes.NOT_FOUND, "No webhook is configured for this key.")
        data = {"key": key.prefix, "status": "test"}
        event = make_event(key.id, EventType.KEY_TEST, data, utcnow())
        await webhooks.add(conn, [event])
    ctx.state.notify_queued()
    return Reply(codes.OPERATION_OK, {"event_id": event.id, "url": config.url})
