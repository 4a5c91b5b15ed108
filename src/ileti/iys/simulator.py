"""İYS as a server of its own, on loopback: for tests, for demos and for ``ileti iys-sim``.

It speaks İYS's API (tokens, one record, many at once, the latest record, the citizens' changes)
and refuses records by the same rules the gateway checks (``domain.consent``), with their ``H…``
codes. ``POST /admin/changes/{iysCode}/{brandCode}`` (no token) plays a citizen changing a
consent on İYS's side: the record, with a source such as ``IYS_WEB``, joins that brand's changes
feed. For tests it can answer the next requests with an error (``fail_next``), wait before each
answer (``delay``); it counts the requests per path (``requests``) and the tokens it gave per
grant type (``grants``).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.consent import (
    RECIPIENT_TYPES,
    TYPES,
    Consent,
    Problem,
    Refused,
    iys_date,
    recipient_digits,
)
from ileti.iys.registry import Brand, Entry, Registry

BATCH_LIMIT = 1000
# The simulator's own codes, for what is not a record's fault.
WRONG_CREDENTIALS = "H001"
BAD_TOKEN = "H002"
BAD_REQUEST = "H003"
NO_RECORD = "H120"
NO_REQUEST = "H121"
INJECTED_FAULT = "H500"

Handler = Callable[[Request], Awaitable[Response]]


def _errors(status: int, code: str, location: str, message: str, **headers: str) -> JSONResponse:
    body = {"errors": [{"code": code, "location": location, "message": message}]}
    return JSONResponse(body, status_code=status, headers=headers or None)


def _refused(refused: Refused) -> JSONResponse:
    return JSONResponse({"errors": [asdict(refused.error)]}, status_code=422)


class _BadRequest(Exception):
    def __init__(self, location: str, message: str) -> None:
        super().__init__(message)
        self.response = _errors(400, BAD_REQUEST, location, message)


async def _body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise _BadRequest("body", "must be JSON") from None


async def _object(request: Request) -> dict[str, Any]:
    body = await _body(request)
    if not isinstance(body, dict):
        raise _BadRequest("body", "must be a JSON object")
    return body


def _brand(request: Request) -> Brand:
    return (request.path_params["iys_code"], request.path_params["brand_code"])


class _Tokens:
    """Access and refresh tokens, each valid until its time on the simulator's clock."""

    def __init__(self, access_ttl: int, refresh_ttl: int, clock: Clock) -> None:
        self._access_ttl = access_ttl
        self._refresh_ttl = refresh_ttl
        self._clock = clock
        self._access: dict[str, float] = {}
        self._refresh: dict[str, float] = {}

    def issue(self) -> dict[str, object]:
        now = self._clock.monotonic()
        access, refresh = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        self._access[access] = now + self._access_ttl
        self._refresh[refresh] = now + self._refresh_ttl
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expires_in": self._access_ttl,
            "refresh_expires_in": self._refresh_ttl,
            "token_type": "Bearer",
        }

    def valid(self, access: str) -> bool:
        return self._access.get(access, 0.0) > self._clock.monotonic()

    def use_refresh(self, refresh: object) -> bool:
        """Spend a refresh token: true if it was valid (a refresh token serves once)."""
        if not isinstance(refresh, str):
            return False
        return self._refresh.pop(refresh, 0.0) > self._clock.monotonic()


@dataclass
class _Batch:
    brand: Brand
    outcomes: list[dict[str, object]]


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: whoever started the simulator decides when it ends."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class IysSimulator:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str | None = None,
        password: str | None = None,
        access_ttl: int = 7200,
        refresh_ttl: int = 14400,
        clock: Clock = SYSTEM_CLOCK,
        *,
        delay: float = 0.0,
        batch_delay: float = 0.05,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("a username and a password go together")
        self.host = host
        self.port = port
        self.delay = delay  # seconds before each answer
        self.batch_delay = batch_delay  # seconds before a batch's records are processed
        self.requests: Counter[str] = Counter()  # by path, faults included
        self.grants: Counter[str] = Counter()  # tokens given, by grant_type
        self._credentials = (username, password) if username is not None else None
        self._clock = clock
        self._tokens = _Tokens(access_ttl, refresh_ttl, clock)
        self._registry = Registry()
        self._batches: dict[str, _Batch] = {}
        self._processing: set[asyncio.Task[None]] = set()
        self._failures = 0
        self._failure_status = 503
        self._failure_headers: dict[str, str] = {}
        self._app = Starlette(routes=self._routes())
        self._server: _Server | None = None
        self._serving: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def fail_next(self, count: int, status: int = 503, retry_after: float | None = None) -> None:
        """Answer the next ``count`` requests, whatever they are, with ``status``."""
        self._failures = count
        self._failure_status = status
        self._failure_headers = {} if retry_after is None else {"Retry-After": f"{retry_after:g}"}

    def latest(
        self,
        iys_code: str,
        brand_code: str,
        recipient_digits: str,
        recipient_type: str = "BIREYSEL",
        type: str = "MESAJ",
    ) -> Consent | None:
        history = self.history(iys_code, brand_code, recipient_digits, recipient_type, type)
        return history[-1] if history else None

    def history(
        self,
        iys_code: str,
        brand_code: str,
        recipient_digits: str,
        recipient_type: str = "BIREYSEL",
        type: str = "MESAJ",
    ) -> list[Consent]:
        """Every record kept for one recipient, recipient type and type, oldest first."""
        brand = (iys_code, brand_code)
        entries = self._registry.history(brand, recipient_digits, recipient_type, type)
        return [entry.consent for entry in entries]

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.create_server((self.host, self.port), family=family)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",
            lifespan="off",
            access_log=False,
            log_config=None,
            server_header=False,
            timeout_graceful_shutdown=1,
        )
        self._server = _Server(config)
        self._serving = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._serving.done():
                await self._serving
                raise RuntimeError("the İYS simulator did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        for task in self._processing:
            task.cancel()
        await asyncio.gather(*self._processing, return_exceptions=True)
        if self._server is not None and self._serving is not None:
            self._server.should_exit = True
            await self._serving
            self._server = self._serving = None

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.requests[scope["path"]] += 1
            if self.delay > 0:
                await asyncio.sleep(self.delay)
            if self._failures > 0:
                self._failures -= 1
                fault = _errors(
                    self._failure_status,
                    INJECTED_FAULT,
                    "",
                    "a fault the simulator was asked for",
                    **self._failure_headers,
                )
                await fault(scope, receive, send)
                return
        await self._app(scope, receive, send)

    def _routes(self) -> list[Route]:
        consents = "/sps/{iys_code}/brands/{brand_code}/consents"
        return [
            Route("/oauth2/token", self._open(self._token), methods=["POST"]),
            Route(consents, self._guarded(self._add), methods=["POST"]),
            Route(f"{consents}/request", self._guarded(self._add_many), methods=["POST"]),
            Route(
                f"{consents}/request/{{request_id}}", self._guarded(self._outcome), methods=["GET"]
            ),
            Route(f"{consents}/status", self._guarded(self._status), methods=["POST"]),
            Route(f"{consents}/changes", self._guarded(self._changes), methods=["GET"]),
            Route(
                "/admin/changes/{iys_code}/{brand_code}",
                self._open(self._citizen_change),
                methods=["POST"],
            ),
        ]

    def _open(self, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except _BadRequest as bad:
                return bad.response

        return endpoint

    def _guarded(self, handler: Handler) -> Handler:
        opened = self._open(handler)

        async def endpoint(request: Request) -> Response:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not self._tokens.valid(token.strip()):
                return _errors(401, BAD_TOKEN, "Authorization", "a valid Bearer token is required")
            return await opened(request)

        return endpoint

    async def _token(self, request: Request) -> Response:
        body = await _object(request)
        grant = body.get("grant_type")
        if grant == "password":
            username, password = body.get("username"), body.get("password")
            if not isinstance(username, str) or not isinstance(password, str):
                raise _BadRequest("username", "username and password are required")
            if self._credentials is not None and (username, password) != self._credentials:
                return _errors(401, WRONG_CREDENTIALS, "username", "wrong username or password")
        elif grant == "refresh_token":
            if not self._tokens.use_refresh(body.get("refresh_token")):
                return _errors(401, BAD_TOKEN, "refresh_token", "unknown or expired")
        else:
            raise _BadRequest("grant_type", "password or refresh_token")
        self.grants[grant] += 1
        return JSONResponse(self._tokens.issue())

    def _accept(
        self, brand: Brand, fields: dict[str, Any], *, citizen: bool = False
    ) -> JSONResponse:
        try:
            entry = self._registry.add(brand, fields, self._clock.now(), citizen=citizen)
        except Refused as refused:
            return _refused(refused)
        return JSONResponse(
            {"transactionId": entry.transaction_id, "creationDate": iys_date(entry.created)}
        )

    async def _add(self, request: Request) -> Response:
        return self._accept(_brand(request), await _object(request))

    async def _citizen_change(self, request: Request) -> Response:
        return self._accept(_brand(request), await _object(request), citizen=True)

    async def _add_many(self, request: Request) -> Response:
        records = await _body(request)
        if not isinstance(records, list) or not 0 < len(records) <= BATCH_LIMIT:
            raise _BadRequest("body", f"must be a list of 1 to {BATCH_LIMIT} records")
        request_id = str(uuid.uuid4())
        batch = _Batch(
            _brand(request), [{"index": i, "status": "enqueue"} for i in range(len(records))]
        )
        self._batches[request_id] = batch
        task = asyncio.create_task(self._process(batch, records))
        self._processing.add(task)
        task.add_done_callback(self._processing.discard)
        return JSONResponse({"requestId": request_id})

    async def _process(self, batch: _Batch, records: list[Any]) -> None:
        # Later, as İYS does: a poll straight after the request finds the records enqueued.
        await asyncio.sleep(self.batch_delay)
        for index, fields in enumerate(records):
            batch.outcomes[index] = self._outcome_of(batch.brand, index, fields)

    def _outcome_of(self, brand: Brand, index: int, fields: object) -> dict[str, object]:
        if not isinstance(fields, dict):
            error = {"code": BAD_REQUEST, "location": f"[{index}]", "message": "not a record"}
            return {"index": index, "status": "failure", "errors": [error]}
        try:
            entry = self._registry.add(brand, fields, self._clock.now())
        except Refused as refused:
            return {"index": index, "status": "failure", "errors": [asdict(refused.error)]}
        return {
            "index": index,
            "status": "success",
            "transactionId": entry.transaction_id,
            "creationDate": iys_date(entry.created),
        }

    async def _outcome(self, request: Request) -> Response:
        batch = self._batches.get(request.path_params["request_id"])
        if batch is None or batch.brand != _brand(request):
            return _errors(404, NO_REQUEST, "requestId", "no such request")
        return JSONResponse(batch.outcomes)

    async def _status(self, request: Request) -> Response:
        body = await _object(request)
        try:
            recipient = recipient_digits(body.get("recipient"))
        except Refused as refused:
            return _refused(refused)
        recipient_type, kind = body.get("recipientType"), body.get("type")
        if recipient_type not in RECIPIENT_TYPES:
            return _errors(422, Problem.RECIPIENT_TYPE.value, "recipientType", "BIREYSEL or TACIR")
        if kind not in TYPES:
            return _errors(422, Problem.TYPE.value, "type", f"one of {', '.join(TYPES)}")
        history = self._registry.history(_brand(request), recipient, recipient_type, kind)
        if not history:
            return _errors(404, NO_RECORD, "recipient", "no record for this recipient")
        return JSONResponse(history[-1].answer())

    async def _changes(self, request: Request) -> Response:
        query = request.query_params
        if query.get("source") != "HS":
            raise _BadRequest("source", "must be HS")
        after, limit = query.get("after"), query.get("limit", str(BATCH_LIMIT))
        if after is not None and not after.isdigit():
            raise _BadRequest("after", "not a cursor this feed gave")
        if not limit.isdigit() or not 0 < int(limit) <= BATCH_LIMIT:
            raise _BadRequest("limit", f"1 to {BATCH_LIMIT}")
        cursor = int(after) if after is not None else None
        found: list[Entry] = self._registry.changes(
            _brand(request), cursor, int(limit), self._clock.now()
        )
        last = str(found[-1].cursor) if found else after
        return JSONResponse({"after": last, "list": [entry.answer() for entry in found]})
