"""An async client of İYS's API, for one brand of one service provider.

It takes a token when first needed, renews it with the refresh token before it runs out (by the
injected clock) and with the password when that fails, and authenticates once more when a call
is answered 401. 429, 5xx, timeouts and lost connections are tried again with exponential
backoff (``Retry-After`` first); what is still failing after ``attempts`` is ``IysUnavailable``.
The password and the tokens are never logged nor put in an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.domain.consent import Consent, fields_of, iys_recipient
from ileti.iys import answers
from ileti.iys.answers import Added, Change, ChangesPage, ItemOutcome
from ileti.iys.errors import IysAuthError, IysError, IysRejected, IysUnavailable

log = structlog.get_logger("ileti.iys")

BATCH_LIMIT = 1000  # records İYS takes in one asynchronous request
RENEW_MARGIN = 60.0  # seconds before a token runs out that it is renewed
LONGEST_WAIT = 60.0  # a Retry-After longer than this is not waited for in full
TIMEOUT = 10.0


@dataclass(frozen=True)
class IysAccess:
    """Where İYS is and who the gateway is there: the service provider's and the brand's codes
    and the API user."""

    url: str
    iys_code: str
    brand_code: str
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class _Token:
    access: str = field(repr=False)
    refresh: str = field(repr=False)
    renew_at: float  # on the clock's monotonic time
    refresh_until: float


class IysClient:
    def __init__(
        self,
        access: IysAccess,
        http: httpx.AsyncClient | None = None,
        clock: Clock = SYSTEM_CLOCK,
        attempts: int = 5,
        backoff: float = 0.5,
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be at least 1")
        self._access = access
        self._base = access.url.rstrip("/")
        self._consents = (
            f"/sps/{quote(access.iys_code, safe='')}/brands/{quote(access.brand_code, safe='')}"
            "/consents"
        )
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=TIMEOUT)
        self._clock = clock
        self._attempts = attempts
        self._backoff = backoff
        self._token: _Token | None = None
        self._token_lock = asyncio.Lock()

    async def __aenter__(self) -> IysClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def add(self, record: Consent) -> Added:
        """Send one record; ``IysRejected`` when İYS's rules refuse it."""
        response = await self._call("POST", self._consents, fields_of(record))
        if response.status_code == 422:
            raise IysRejected(answers.consent_errors(_json(response)))
        return answers.added(self._answer(response))

    async def add_many(self, records: Sequence[Consent]) -> str:
        """Hand up to 1000 records to İYS to process later; its request id, to ask how it went."""
        if not 0 < len(records) <= BATCH_LIMIT:
            raise ValueError(f"a request takes 1 to {BATCH_LIMIT} records, not {len(records)}")
        body = [fields_of(record) for record in records]
        return answers.request_id(self._answer(await self._call("POST", self._requests, body)))

    async def outcome(self, request_id: str, size: int | None = None) -> list[ItemOutcome]:
        """How each record of a request went, by its index in the request."""
        path = f"{self._requests}/{quote(request_id, safe='')}"
        body = self._answer(await self._call("GET", path))
        return answers.outcomes(body, len(body) if size is None else size)

    async def add_all(
        self, records: Sequence[Consent], poll_seconds: float = 1.0, max_wait: float = 60.0
    ) -> list[ItemOutcome]:
        """Send any number of records, 1000 a request, and wait until İYS has processed them
        all or ``max_wait`` seconds have passed (those left are ``enqueue``); one outcome per
        record, in their order."""
        pending: dict[str, tuple[int, int]] = {}  # request id → (first index, records)
        for start in range(0, len(records), BATCH_LIMIT):
            chunk = records[start : start + BATCH_LIMIT]
            pending[await self.add_many(chunk)] = (start, len(chunk))
        found = [ItemOutcome(index, "enqueue") for index in range(len(records))]
        deadline = self._clock.monotonic() + max_wait
        while pending:
            for request_id, (start, size) in list(pending.items()):
                outcomes = await self.outcome(request_id, size)
                for item in outcomes:
                    found[start + item.index] = replace(item, index=start + item.index)
                if all(item.status != "enqueue" for item in outcomes):
                    del pending[request_id]
            if not pending or self._clock.monotonic() >= deadline:
                break
            await self._clock.sleep(poll_seconds)
        return found

    async def status(
        self, recipient_digits: str, recipient_type: str, type: str = "MESAJ"
    ) -> Change | None:
        """The recipient's latest record of this recipient type and type; None if it has none."""
        body = {
            "recipient": iys_recipient(recipient_digits),
            "recipientType": recipient_type,
            "type": type,
        }
        response = await self._call("POST", f"{self._consents}/status", body)
        if response.status_code == 404:
            return None
        return answers.change(self._answer(response))

    async def changes(self, after: str | None, limit: int = 1000) -> ChangesPage:
        """Citizens' changes after the cursor ``after`` (None: of the last seven days), oldest
        first; the page's ``after`` asks for the next."""
        params: dict[str, str | int] = {"source": "HS", "limit": limit}
        if after is not None:
            params["after"] = after
        response = await self._call("GET", f"{self._consents}/changes", params=params)
        return answers.changes_page(self._answer(response))

    @property
    def _requests(self) -> str:
        return f"{self._consents}/request"

    async def _call(
        self,
        method: str,
        path: str,
        body: object = None,
        params: dict[str, str | int] | None = None,
    ) -> httpx.Response:
        """The answer to a call with a token; a 401 is answered by authenticating once more."""
        bearer = await self._bearer()
        response = await self._send(method, path, body, params, bearer)
        if response.status_code != 401:
            return response
        log.info("iys_token_refused", path=path)
        async with self._token_lock:
            if self._token is not None and self._token.access == bearer:
                self._token = None
        return await self._send(method, path, body, params, await self._bearer())

    async def _bearer(self) -> str:
        async with self._token_lock:
            now = self._clock.monotonic()
            if self._token is None or now >= self._token.renew_at:
                self._token = await self._renewed(self._token, now)
            return self._token.access

    async def _renewed(self, token: _Token | None, now: float) -> _Token:
        if token is not None and now < token.refresh_until:
            refresh = {"grant_type": "refresh_token", "refresh_token": token.refresh}
            try:
                return await self._grant(refresh)
            except IysUnavailable:
                raise
            except IysError:
                log.info("iys_refresh_refused")
        return await self._grant(
            {
                "grant_type": "password",
                "username": self._access.username,
                "password": self._access.password,
            }
        )

    async def _grant(self, body: dict[str, str]) -> _Token:
        response = await self._send("POST", "/oauth2/token", body, None, None)
        if response.status_code in (400, 401):
            raise IysAuthError(
                f"İYS refused the {body['grant_type']} grant for {self._access.username!r}"
                f" ({response.status_code})"
            )
        token = answers.token(self._answer(response))
        now = self._clock.monotonic()
        return _Token(
            token.access,
            token.refresh,
            renew_at=now + token.expires_in - min(RENEW_MARGIN, token.expires_in / 10),
            refresh_until=now
            + token.refresh_expires_in
            - min(RENEW_MARGIN, token.refresh_expires_in / 10),
        )

    async def _send(
        self,
        method: str,
        path: str,
        body: object,
        params: dict[str, str | int] | None,
        bearer: str | None,
    ) -> httpx.Response:
        """One call, tried again on 429, 5xx and transport failures."""
        headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
        trouble = ""
        for attempt in range(1, self._attempts + 1):
            wait = self._backoff * 2 ** (attempt - 1)
            try:
                response = await self._http.request(
                    method, self._base + path, json=body, params=params, headers=headers
                )
            except httpx.TransportError as exc:
                trouble = type(exc).__name__
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                trouble = f"HTTP {response.status_code}"
                asked = _retry_after(response)
                wait = wait if asked is None else asked
            if attempt < self._attempts:
                log.warning("iys_retry", path=path, trouble=trouble, attempt=attempt, wait=wait)
                await self._clock.sleep(wait)
        raise IysUnavailable(
            f"İYS at {self._base} did not answer {method} {path}: {trouble}"
            f" after {self._attempts} attempts"
        )

    def _answer(self, response: httpx.Response) -> Any:
        """The body of a 200 answer; any other is an ``IysError`` with İYS's reason."""
        if response.status_code == 200:
            return _json(response)
        errors = answers.consent_errors(_json(response, strict=False))
        reason = "; ".join(f"{e.code} {e.message}" for e in errors) or response.reason_phrase
        path = response.request.url.path
        error = IysAuthError if response.status_code == 401 else IysError
        raise error(f"İYS answered {response.status_code} to {path}: {reason}")


def _json(response: httpx.Response, *, strict: bool = True) -> Any:
    try:
        return response.json()
    except ValueError:
        if strict:
            raise IysError(f"İYS's answer to {response.request.url.path} is not JSON") from None
        return None


def _retry_after(response: httpx.Response) -> float | None:
    """``Retry-After`` in seconds, up to ``LONGEST_WAIT``; None when absent or a date."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), LONGEST_WAIT)
