"""Sending from the panel: the form (sender ID, content type, text with a live counter,
recipients typed or from a contact group, schedule, validity), the send through the sending
service as the API makes it, and the answer's facts.

One recipient makes a single send, several or a contact group a group send. The form carries a
random ``nonce``: the send's idempotency key, so a double click (or a reload of the answer)
sends once, and a new form sends again.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from ileti import codes
from ileti.codes import GatewayError
from ileti.compliance.contact_files import typed as typed_lines
from ileti.domain.encoding import (
    Encoding,
    InvalidSmsLang,
    SmsLang,
    parse_sms_lang,
    replaced_letters,
)
from ileti.domain.errors import NotFound
from ileti.sending.identity import RequestIdentity
from ileti.sending.orders import GroupSend, Schedule, SingleSend
from ileti.sending.preview import Estimate, estimate
from ileti.sending.results import Accepted
from ileti.validation import CONTENT_TYPES as API_TYPES
from ileti.web.pages import Screen, page

DEFAULT_LANG = "auto"

# The API's values, and what the panel calls them.
LANGS = (
    ("auto", "Automatic"),
    ("1", "Turkish (GSM 7-bit)"),
    ("0", "English (GSM 7-bit, no Turkish letters)"),
    ("2", "Unicode (UCS-2)"),
)
# The API's content types (its answer names them so), as the panel calls them.
CONTENT_TYPE_NAMES = {
    "Transactional": "Informational (transactional)",
    "High Quality": "Informational, high quality",
    "Advertising": "Commercial (advertising)",
}
CONTENT_TYPES = tuple((str(value), CONTENT_TYPE_NAMES[api]) for value, api in API_TYPES.items())
# Why a group's recipient was left out, by the answer's result code.
REJECTIONS = {
    codes.INVALID_NUMBER.code: "Not a number that can receive SMS",
    codes.INVALID_FIELD.code: "Given more than once",
    codes.BLACKLISTED.code: "Blacklisted",
    codes.INTERNATIONAL_DISABLED.code: "Abroad, and the account has no international sending",
}


def schedule_at(local: str, validity_minutes: object = None) -> Schedule:
    """A ``datetime-local`` value (Istanbul time, as are the API's date and time; empty: now)
    as the API's schedule; a value that is neither is passed on for the service to refuse."""
    if not local:
        return Schedule(validity_minutes=validity_minutes)
    day, _, time = local.partition("T")
    return Schedule(1, day, time[:5], validity_minutes)


@dataclass(frozen=True, slots=True)
class SendForm:
    """The form as posted (or as a GET fills it)."""

    title: str = ""
    content_type: str = "0"
    iys_recipient_type: str = "BIREYSEL"
    text: str = ""
    sms_lang: str = DEFAULT_LANG
    sentto: str = ""
    contact_group: str = ""
    scheduled_at: str = ""
    validity_minutes: str = ""
    nonce: str = ""

    @classmethod
    def posted(cls, screen: Screen) -> SendForm:
        return cls(
            title=screen.field("title"),
            content_type=screen.field("content_type", "0"),
            iys_recipient_type=screen.field("iys_recipient_type", "BIREYSEL"),
            # Browsers post a textarea's line breaks as CRLF; the user typed one character.
            text=screen.field("text").replace("\r\n", "\n"),
            sms_lang=screen.field("sms_lang", DEFAULT_LANG),
            sentto=screen.field("sentto"),
            contact_group=screen.field("contact_group"),
            scheduled_at=screen.field("scheduled_at").strip(),
            validity_minutes=screen.field("validity_minutes").strip(),
            nonce=screen.field("nonce"),
        )

    @property
    def typed(self) -> list[str]:
        """One a line, or separated by commas or semicolons; spaces belong to a number."""
        return [line.number for line in typed_lines(self.sentto)]

    @property
    def lang(self) -> SmsLang:
        """For the counter: what the send will be told, or "auto" while it is no value."""
        try:
            return parse_sms_lang(self.sms_lang)
        except InvalidSmsLang:
            return SmsLang.AUTO

    def schedule(self) -> Schedule:
        """As the API takes it: the ``datetime-local`` value is Istanbul time, as are the API's
        date and time; a value that is neither is passed on for the service to refuse."""
        return schedule_at(self.scheduled_at, _whole_or_given(self.validity_minutes))

    def content(self, numbers: Sequence[str]) -> dict[str, Any]:
        """Everything the send says: two posts of one nonce must say the same."""
        return {
            "title": self.title,
            "content_type": self.content_type,
            "iys_recipient_type": self.iys_recipient_type,
            "text": self.text,
            "sms_lang": self.sms_lang,
            "sentto": list(numbers),
            "contact_group": self.contact_group,
            "scheduled_at": self.scheduled_at,
            "validity_minutes": self.validity_minutes,
        }


def _whole_or_given(value: str) -> int | str | None:
    """A form's number as the service takes one; anything else as given, for it to refuse."""
    if not value:
        return None
    return int(value) if value.isascii() and value.isdigit() else value


async def _numbers(screen: Screen, form: SendForm) -> list[str]:
    """The typed numbers, then the chosen group's; NotFound for a group not the account's."""
    numbers = form.typed
    if form.contact_group:
        if not form.contact_group.isascii() or not form.contact_group.isdigit():
            raise NotFound("no such contact group")
        numbers += await screen.services.contacts.numbers(
            screen.account_id, int(form.contact_group)
        )
    return numbers


@dataclass(frozen=True, slots=True)
class Counter:
    """The counter under the text, as a template shows it."""

    estimate: Estimate
    encoding_key: str  # stable, for tests and styles
    encoding_name: str  # English, for the catalogue
    letters: str  # what a transliteration changes, "ş→s, ğ→g"; "" when nothing
    cost_abroad: int  # kuruş
    credits_available: int


async def _counter(screen: Screen, text: str, lang: SmsLang, numbers: Sequence[str]) -> Counter:
    services = screen.services
    measured = estimate(text, lang, numbers, services.settings.max_segments, services.clock.now())
    key, name = _encoding_name(measured.encoding)
    letters = ""
    if measured.encoding is not None and measured.encoding.transliterated is not None:
        pairs = replaced_letters(text, measured.encoding.transliterated)
        letters = ", ".join(f"{a}→{b}" for a, b in pairs)
    prices = await services.resellers.prices(screen.account_id) if measured.abroad else {}
    cost = measured.cost_abroad(prices) if measured.abroad else 0
    balances = await services.accounts.balances(screen.account_id)
    return Counter(measured, key, name, letters, cost, balances.credits)


# How the counter names an encoding: a stable key (for tests and styles), and its name.
ENCODING_NAMES = {
    "": "—",
    "ucs2": "UCS-2 (Unicode)",
    "gsm7": "GSM 7-bit",
    "gsm7-turkish-single": "GSM 7-bit, Turkish single shift",
    "gsm7-turkish-locking": "GSM 7-bit, Turkish locking shift",
    "gsm7-turkish-locking-single": "GSM 7-bit, Turkish locking and single shift",
}


def _encoding_name(encoding: Encoding | None) -> tuple[str, str]:
    if encoding is None:
        key = ""
    elif encoding.data_coding != 0:
        key = "ucs2"
    else:
        shifts = ("-locking" if encoding.locking_shift else "") + (
            "-single" if encoding.single_shift else ""
        )
        key = f"gsm7-turkish{shifts}" if shifts else "gsm7"
    return key, ENCODING_NAMES[key]


async def _form_page(
    screen: Screen, form: SendForm, *, refusal: Refusal | None = None, status: int = 200
) -> Response:
    account_id = screen.account_id
    titles = [
        t.title for t in await screen.services.accounts.titles(account_id) if t.status == "active"
    ]
    groups = await screen.services.contacts.groups(account_id)
    try:
        numbers = await _numbers(screen, form)
    except NotFound:
        numbers = form.typed
    return screen.render(
        "send/form.html",
        status=status,
        form=form,
        nonce=secrets.token_urlsafe(16),
        titles=titles,
        groups=groups,
        langs=LANGS,
        content_types=CONTENT_TYPES,
        refusal=refusal,
        counter=await _counter(screen, form.text, form.lang, numbers),
    )


@page
async def send(screen: Screen) -> Response:
    if screen.form is None:
        return await _form_page(
            screen,
            SendForm(
                contact_group=screen.query.get("contact_group", ""),
                sentto=screen.query.get("sentto", ""),
            ),
        )
    form = SendForm.posted(screen)
    try:
        numbers = await _numbers(screen, form)
    except NotFound:
        return screen.not_found()
    try:
        accepted = await _send(screen, form, numbers)
    except GatewayError as error:
        return await _form_page(
            screen, form, refusal=_refusal(screen, error), status=error.result.http_status
        )
    return await _result_page(screen, form, numbers, accepted)


async def _send(screen: Screen, form: SendForm, numbers: list[str]) -> Accepted:
    identity = RequestIdentity.of("panel/send", form.content(numbers), form.nonce or None)
    caller = await screen.caller()
    sending = screen.services.sending
    content_type = _whole_or_given(form.content_type)
    if len(numbers) <= 1 and not form.contact_group:
        single = SingleSend(
            title=form.title,
            text=form.text,
            number=numbers[0] if numbers else "",
            sms_lang=form.sms_lang,
            content_type=content_type,
            schedule=form.schedule(),
            iys_recipient_type=form.iys_recipient_type,
        )
        return await sending.single(caller, single, identity)
    group = GroupSend(
        title=form.title,
        numbers=numbers,
        text=form.text,
        sms_lang=form.sms_lang,
        content_type=content_type,
        schedule=form.schedule(),
        iys_recipient_type=form.iys_recipient_type,
    )
    return await sending.group(caller, group, identity)


@dataclass(frozen=True, slots=True)
class Refusal:
    said: str  # in the panel's language, with the code
    detail: str = ""  # the service's own English words, where the language has none for them


def _refusal(screen: Screen, error: GatewayError) -> Refusal:
    said = screen.refusal(error)
    if error.message == error.result.message or screen.t.text(error.message) != error.message:
        return Refusal(said)
    if screen.t.lang == "en":
        return Refusal(said)
    general = screen.refusal(GatewayError(error.result))
    return Refusal(general, error.message)


async def _result_page(
    screen: Screen, form: SendForm, numbers: list[str], accepted: Accepted
) -> Response:
    rejected = accepted.rejected or ()
    left_out = {r.index for r in rejected}
    sent_to = [n for i, n in enumerate(numbers) if i not in left_out]
    counter = await _counter(screen, form.text, form.lang, sent_to)
    if accepted.group_id is not None:
        link = f"/panel/sends/group/{accepted.group_id}"
    else:
        link = f"/panel/sends/message/{accepted.sms_id}"
    return screen.render(
        "send/result.html",
        accepted=accepted,
        form=form,
        link=link,
        counter=counter,
        rejected=[(r, REJECTIONS.get(r.result.code, r.result.message)) for r in rejected],
        content_type=CONTENT_TYPE_NAMES.get(accepted.content_type, accepted.content_type),
    )


@page
async def counter(screen: Screen) -> Response:
    """The counter alone, for the form's live updates."""
    form = SendForm.posted(screen)
    try:
        numbers = await _numbers(screen, form)
    except NotFound:
        return screen.not_found()
    return screen.render(
        "send/counter.html", counter=await _counter(screen, form.text, form.lang, numbers)
    )


routes = [
    Route("/send", send, methods=["GET", "POST"]),
    Route("/send/counter", counter, methods=["POST"]),
]
