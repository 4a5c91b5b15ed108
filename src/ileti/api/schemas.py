"""Request and response bodies as the OpenAPI document describes them.

Requests ignore unknown fields (the contract says so); responses may only gain fields within V4.

Request fields are typed strictly (a boolean is no number, ``1.0`` and ``"1"`` are no integers)
and otherwise passed on as given: the services check their values, name the field and answer
with the contract's codes (a missing number TS-1025 before an empty text TS-1026…). So a field
the services require is optional here, and the document marks it required (``_requires``) and
describes its values exactly where they can be: the document is never stricter than what is
accepted, and a body it allows is refused only for what no schema can tell (a number that
exists, a title the account owns, a time not yet past).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    RootModel,
    Strict,
    WithJsonSchema,
)

from ileti.accounts.resellers import MAX_AMOUNT, MAX_PER_MINUTE, MAX_PRICE, REGIONS
from ileti.domain.lifecycle import MessageStatus
from ileti.domain.permissions import Permission
from ileti.sending.orders import Schedule


def _requires(
    *fields: str, one_of: tuple[str, ...] = (), scheduled: bool = False
) -> Callable[[dict[str, Any]], None]:
    """A model's document marks ``fields`` required (dropping their null default: the body may
    leave them out but not give them as null), one of ``one_of`` given and not null (not empty
    either, for a text), and with ``scheduled``, the date and time when ``scheduled_sms`` is 1."""

    def mark(schema: dict[str, Any]) -> None:
        schema["required"] = list(dict.fromkeys([*schema.get("required", ()), *fields]))
        for name in fields:
            prop = schema["properties"][name]
            if prop.get("default", 0) is None:
                del prop["default"]
        if one_of:
            schema["anyOf"] = [
                {"required": [name], "properties": {name: _GIVEN}} for name in one_of
            ]
        if scheduled:
            schema["if"] = {
                "required": ["scheduled_sms"],
                "properties": {"scheduled_sms": {"enum": [1, "1"]}},
            }
            schema["then"] = {
                "required": ["scheduled_date", "scheduled_time"],
                "properties": {
                    "scheduled_date": {"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
                    "scheduled_time": {"type": "string", "pattern": "^[0-9]{1,2}:[0-9]{2}$"},
                },
            }

    return mark


# One of two fields (``sentto`` or ``mobile``…) names what the request is about: not null, and
# not an empty text.
_GIVEN = {"not": {"anyOf": [{"type": "null"}, {"const": ""}]}}


class ApiRequest(BaseModel):
    """Every request carries the key in the body (or in a header)."""

    model_config = ConfigDict(extra="ignore")

    api_key: str | None = Field(
        default=None,
        description="The API key. May instead come as `Authorization: Bearer` or `X-API-Key`.",
    )


# Fields as clients send them ---------------------------------------------------------------------

# Python's whitespace (what ``str.strip`` and ``str.isspace`` see), for patterns that must match
# exactly what the services strip or call empty.
_SPACE = "\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# Control characters other than tab, newline and carriage return (refused in texts and titles).
_CONTROL = "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f"
# A text says something (a character that is no whitespace) and holds no control character.
_TEXT_PATTERN = f"^[^{_CONTROL}]*[^{_SPACE}{_CONTROL}][^{_CONTROL}]*$"
# Sender IDs are 3 to 11 ASCII letters, digits, spaces, dots and dashes, not only spaces.
_TITLE_PATTERN = "^[A-Za-z0-9 .\\-]*[A-Za-z0-9.\\-][A-Za-z0-9 .\\-]*$"


# An OTP text holds TS-CODE (or TS_CODE) where the code goes.
_OTP_TEXT_PATTERN = f"^[^{_CONTROL}]*TS[-_]CODE[^{_CONTROL}]*$"


def _whole(value: object) -> int | None:
    """A JSON integer: not ``true``, not ``5.0``, not ``"5"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def _phone(value: object) -> object:
    if value is None or isinstance(value, str):
        return value
    whole = _whole(value)
    if whole is None:
        raise ValueError("must be a string or an integer")
    if whole < 0:
        raise ValueError("must not be negative")
    return whole


def _phones(value: object) -> object:
    if value is None:
        return value
    if not isinstance(value, list):
        raise ValueError("must be an array of numbers")
    # A list of 100,000 is checked on every group: by its items' types first, at C speed.
    kinds = set(map(type, value))
    if kinds <= {str} or (kinds <= {str, int} and min(i for i in value if type(i) is int) >= 0):
        return value
    for index, item in enumerate(value):
        if type(item) is not str and (type(item) is not int or item < 0):
            raise ValueError(f"item {index} must be a string or a non-negative integer")
    return value


def _code_or_none(value: object) -> object:
    if value is None or isinstance(value, str) or _whole(value) is not None:
        return value
    raise ValueError("must be 0, 1, 2 or 'auto'")


def _otp_code(value: object) -> object:
    if value is None or isinstance(value, str) or _whole(value) is not None:
        return value
    raise ValueError("must be 4 to 6 digits")


def _flag(value: object) -> object:
    if value is None or isinstance(value, str) or _whole(value) is not None:
        return value
    raise ValueError("must be 1 or 0")


_PHONE_SCHEMA = {
    "anyOf": [
        {"type": "string", "minLength": 1, "description": "`905321234567`, `+90 532 …`, `0532 …`"},
        # 16 digits at most; the JSON reader takes larger integers as floats.
        {"type": "integer", "minimum": 0, "maximum": 10**16 - 1},
    ]
}
# A phone number as people write one; the services normalise it (TS-1034 for one that is no
# number, or cannot receive SMS).
Phone = Annotated[str | int | None, PlainValidator(_phone), WithJsonSchema(_PHONE_SCHEMA)]
# Where another field may stand in for it (``sentto`` or ``mobile``), or as a filter.
OptionalPhone = Annotated[
    str | int | None,
    PlainValidator(_phone),
    WithJsonSchema({"anyOf": [*_PHONE_SCHEMA["anyOf"], {"type": "null"}]}),
]
PhoneList = Annotated[
    list[str | int] | None,
    PlainValidator(_phones),
    WithJsonSchema({"type": "array", "items": _PHONE_SCHEMA, "minItems": 1, "maxItems": 100_000}),
]
# 0, 1, 2 (also as strings) or "auto"; null: the default.
LangCode = Annotated[
    int | str | None,
    PlainValidator(_code_or_none),
    WithJsonSchema({"enum": [0, 1, 2, "0", "1", "2", "auto", None]}),
]
OtpLangCode = Annotated[
    int | str | None,
    PlainValidator(_code_or_none),
    WithJsonSchema({"enum": [0, 1, 2, "0", "1", "2", None]}),
]
ScheduledFlag = Annotated[
    int | str | None, PlainValidator(_flag), WithJsonSchema({"enum": [0, 1, "0", "1", None]})
]
# What a user typed: 4 to 6 digits (a string keeps leading zeros), spaces around it ignored.
OtpCode = Annotated[
    str | int | None,
    PlainValidator(_otp_code),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": f"^[{_SPACE}]*[0-9]{{4,6}}[{_SPACE}]*$"},
                {"type": "integer", "minimum": 1000, "maximum": 999999},
            ]
        }
    ),
]
Whole = Annotated[int, Strict()]
Text = Annotated[str, Strict()]
IysRecipientType = Annotated[
    str | None, Strict(), WithJsonSchema({"enum": ["BIREYSEL", "TACIR", None]})
]
# A message's text: something that is not whitespace, no control character but tab, newline
# and carriage return.
MessageText = Annotated[
    str | None,
    Strict(),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": _TEXT_PATTERN,
            "description": "Not only spaces; no control characters but tab, newline, CR.",
        }
    ),
]
# A sender ID the account owns and the operator approved (case-sensitive).
Title = Annotated[
    str | None,
    Strict(),
    WithJsonSchema({"type": "string", "pattern": _TITLE_PATTERN, "minLength": 3, "maxLength": 11}),
]


class FieldWarning(BaseModel):
    field: str = Field(description="The field it concerns; empty when none is meant.")
    message: str


class Envelope(BaseModel):
    result: bool
    result_code: str = Field(pattern=r"^TS-\d{4}$")
    result_message: str
    warnings: list[FieldWarning] | None = Field(
        default=None,
        description="What the request was accepted despite: fields it ignored, an encoding"
        " other than the one asked for, letters a transliteration changed. Absent when none.",
    )


class FieldError(BaseModel):
    field: str
    message: str


class ErrorEnvelope(Envelope):
    request_id: str
    errors: list[FieldError] | None = None


class Permissions(BaseModel):
    send_single_sms: bool
    send_otp: bool
    send_bulk_sms: bool
    check_balance: bool
    check_sms_status: bool
    manage_subaccounts: bool = Field(
        description="Runs the account's customer accounts (`/reseller/*`); only when granted."
    )


class KeyDetails(BaseModel):
    status: str
    permissions: Permissions


class Balances(BaseModel):
    main: int = Field(description="Domestic credits; one per segment.")
    international: float = Field(description="International balance in TRY, two decimals.")


class AccountSummary(BaseModel):
    account_status: str
    balance: Balances


class AuthCheckResponse(Envelope):
    key_details: KeyDetails
    account_summary: AccountSummary


class BalanceResponse(Envelope):
    balance: Balances


class TitleItem(BaseModel):
    title: str
    status: str = Field(description="pending, active or inactive")


class TitleListResponse(Envelope):
    titles: list[TitleItem]


class ScheduleFields(ApiRequest):
    sms_lang: LangCode = Field(
        default=None, description="0 English, 1 Turkish, 2 Unicode (default), or 'auto'."
    )
    content_type: Whole | None = Field(
        default=None,
        json_schema_extra={"enum": [0, 1, 2, None]},
        description="0 Transactional (default), 1 High Quality, 2 Advertising.",
    )
    scheduled_sms: ScheduledFlag = Field(
        default=None, description="1: at `scheduled_date` and `scheduled_time`; 0: now."
    )
    scheduled_date: Text | None = Field(
        default=None, description="YYYY-MM-DD, Europe/Istanbul; read when scheduled_sms is 1."
    )
    scheduled_time: Text | None = Field(
        default=None, description="HH:MM, Europe/Istanbul; read when scheduled_sms is 1."
    )
    validity_minutes: Whole | None = Field(
        default=None,
        json_schema_extra={"minimum": 1, "maximum": 4320},
        description="Expiry after dispatch, 1 to 4320; default 1440.",
    )
    iys_recipient_type: IysRecipientType = Field(
        default=None,
        description="Advertising only, for an account whose sends are checked against İYS:"
        " whose consent each number needs, BIREYSEL (individual, the default) or TACIR (trader).",
    )

    def schedule(self) -> Schedule:
        """When the messages go and how long they are valid, as the sending service takes it."""
        return Schedule(
            self.scheduled_sms, self.scheduled_date, self.scheduled_time, self.validity_minutes
        )


class SmsSendRequest(ScheduleFields):
    model_config = ConfigDict(
        json_schema_extra=_requires("title", "text", one_of=("sentto", "mobile"), scheduled=True)
    )

    title: Title = Field(default=None, description="Sender ID, case-sensitive, active.")
    text: MessageText = None
    sentto: OptionalPhone = Field(default=None, description="Recipient; wins over `mobile`.")
    mobile: OptionalPhone = Field(default=None, description="Recipient, as the SDKs send it.")


class GroupSendRequest(ScheduleFields):
    model_config = ConfigDict(
        json_schema_extra=_requires("title", "text", "sentto", scheduled=True)
    )

    title: Title = Field(default=None, description="Sender ID, case-sensitive, active.")
    text: MessageText = Field(default=None, description="The one text every recipient gets.")
    sentto: PhoneList = Field(
        default=None,
        description="The recipients, up to 100,000: an array of numbers, each in any form"
        " `/sms/send` takes. Invalid and repeated ones are left out (`rejected`).",
    )


class GroupSendMixedRequest(ScheduleFields):
    model_config = ConfigDict(
        json_schema_extra=_requires("title", "text", "sentto", scheduled=True)
    )

    title: Title = Field(default=None, description="Sender ID, case-sensitive, active.")
    text: Annotated[
        list[Text] | None,
        WithJsonSchema(
            {"type": "array", "items": {"type": "string", "pattern": _TEXT_PATTERN}, "minItems": 1}
        ),
    ] = Field(default=None, description="An array: the text of each recipient, in order.")
    sentto: PhoneList = Field(
        default=None,
        description="An array of as many numbers as `text` has texts: `text[i]` goes to"
        " `sentto[i]`.",
    )


class SendResponse(Envelope):
    sms_id: int
    number_of_sms: int
    total_recipients: int
    success_count: int
    sms_lang: str
    content_type: str
    country: str


class Rejected(BaseModel):
    index: int
    sentto: str
    result_code: str


class GroupSendResponse(SendResponse):
    group_id: int
    rejected: list[Rejected]


# Queries: ids, dates and page positions as clients send them -----------------------------------

_MAX_ID = 2**63 - 1
_ID_TEXT = re.compile(r"[0-9]{1,19}")
_DAY_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CURSOR_TEXT = re.compile(r"[0-9a-f]{16}")


def _id(value: object) -> int:
    whole = _whole(value)
    if whole is not None and 0 < whole <= _MAX_ID:
        return whole
    if isinstance(value, str) and _ID_TEXT.fullmatch(value):
        return int(value)
    raise ValueError("must be a positive integer or a string of digits")


def _page_size(value: object) -> int:
    whole = _whole(value)
    if whole is None or not 1 <= whole <= 1000:
        raise ValueError("must be an integer from 1 to 1000")
    return whole


def _day(value: object) -> dt.date:
    if isinstance(value, str) and _DAY_TEXT.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("must be a date as YYYY-MM-DD")


def _position(value: object) -> int:
    if isinstance(value, str) and _CURSOR_TEXT.fullmatch(value):
        return int(value, 16)
    raise ValueError("must be the next_cursor of an earlier page")


# The SDKs send ids as integers or as strings of digits.
MessageId = Annotated[
    int,
    PlainValidator(_id),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": _MAX_ID},
                {"type": "string", "pattern": "^[0-9]{1,19}$"},
            ]
        }
    ),
]
IstanbulDay = Annotated[
    dt.date,
    PlainValidator(_day),
    WithJsonSchema({"type": "string", "format": "date", "description": "Europe/Istanbul day."}),
]
Cursor = Annotated[
    int,
    PlainValidator(_position),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": "^[0-9a-f]{16}$",
            "description": "The `next_cursor` of the previous page.",
        }
    ),
]
PageSize = Annotated[
    int,
    PlainValidator(_page_size),
    WithJsonSchema(
        {"type": "integer", "minimum": 1, "maximum": 1000, "description": "Rows per page."}
    ),
]


def cursor_of(position: int) -> str:
    """The opaque form of a page position (the id the next page starts below)."""
    return f"{position:016x}"


def timestamp(moment: dt.datetime | None) -> str | None:
    """ISO-8601 in UTC with a ``Z``, to the second."""
    if moment is None:
        return None
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PageRequest(ApiRequest):
    limit: PageSize = 100
    cursor: Cursor | None = None


class SmsStatusRequest(ApiRequest):
    sms_id: MessageId = Field(description="A message id or a group id.")


def _exactly_one(*fields: str) -> Callable[[dict[str, Any]], None]:
    """A model's document asks for exactly one of ``fields``, given and not null."""

    def mark(schema: dict[str, Any]) -> None:
        schema["oneOf"] = [{"required": [name], "properties": {name: _GIVEN}} for name in fields]

    return mark


class CancelRequest(ApiRequest):
    model_config = ConfigDict(json_schema_extra=_exactly_one("sms_id", "group_id"))

    sms_id: MessageId | None = Field(
        default=None,
        description="A message to cancel (needs `send_single_sms`). Give this or `group_id`.",
    )
    group_id: MessageId | None = Field(
        default=None,
        description="A group whose messages to cancel (needs `send_bulk_sms`). Give this or"
        " `sms_id`.",
    )


class CancelResponse(Envelope):
    cancelled: int = Field(
        description="Messages cancelled now: they waited in the queue, unclaimed (scheduled, or"
        " due and not yet taken by a dispatcher), and are now `cancelled`, refunded and"
        " announced by an `sms.cancelled` webhook event."
    )
    refunded_credits: int = Field(description="Credits given back to the main balance.")
    refunded_international: int = Field(
        description="Kuruş given back to the international balance."
    )
    left: int = Field(
        description="Messages left as they were: being handed to an operator, sent, or final"
        " already (a second cancel leaves everything the first one cancelled)."
    )


class MessageReportRequest(PageRequest):
    date_from: IstanbulDay | None = Field(default=None, description="First day, inclusive.")
    date_to: IstanbulDay | None = Field(default=None, description="Last day, inclusive.")
    status: MessageStatus | None = None
    title: str | None = Field(default=None, pattern=r"^[A-Za-z0-9 .\-]{3,11}$")
    number: OptionalPhone = Field(default=None, description="Recipient, in any accepted form.")
    group_id: MessageId | None = None
    with_text: Annotated[bool, Strict()] = Field(
        default=False,
        description="true: each message's `text` too (an OTP's masked; absent once purged).",
    )


class SummaryRequest(ApiRequest):
    date_from: IstanbulDay | None = Field(
        default=None, description="First day, inclusive; default six days before `date_to`."
    )
    date_to: IstanbulDay | None = Field(
        default=None, description="Last day, inclusive; default today (Europe/Istanbul)."
    )


class BlacklistNumberRequest(ApiRequest):
    number: Phone = Field(description="The number, in any accepted form.")


class MessageFields(BaseModel):
    sms_id: int
    status: MessageStatus
    title: str
    sentto: str
    number_of_sms: int = Field(description="Segments.")
    country: str
    operator: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None
    done_at: dt.datetime | None
    error_reason: str | None
    scheduled_at: dt.datetime | None = Field(
        description="When a scheduled message is due (null when it was sent at once)."
    )


class MessageStatusResponse(Envelope, MessageFields):
    pass


class StatusCounts(BaseModel):
    queued: int
    sent: int
    delivered: int
    failed: int
    expired: int
    cancelled: int


class GroupStatusResponse(Envelope):
    group_id: int
    sms_id: int = Field(description="The group id again.")
    title: str
    total_recipients: int
    accepted: int
    number_of_sms: int = Field(description="Segments in all.")
    created_at: dt.datetime
    scheduled_at: dt.datetime | None = Field(
        description="When a scheduled group is due (null when it was sent at once)."
    )
    counts: StatusCounts


class SmsStatusResponse(RootModel[MessageStatusResponse | GroupStatusResponse]):
    """A message's state, or for a group id its messages' counts per state."""


class ReportedMessage(MessageFields):
    text: str | None = Field(
        default=None,
        description="The text as sent (an OTP's masked), when `with_text` was asked for and"
        " it is still kept.",
    )


class MessageReportResponse(Envelope):
    messages: list[ReportedMessage] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Null on the last page. A page filtered by `status` or `title` alone looks"
        " through a bounded number of the account's messages: it may hold fewer than `limit`,"
        " or none, and still have a cursor; follow it until null."
    )


class DayTotalItem(BaseModel):
    date: dt.date = Field(description="Europe/Istanbul day.")
    status: MessageStatus
    count: int
    credits: int = Field(description="Domestic credits (segments) charged at acceptance.")
    international_kurus: int = Field(description="International charges in kuruş.")


class SummaryResponse(Envelope):
    date_from: dt.date
    date_to: dt.date
    days: list[DayTotalItem] = Field(description="Only days and states with messages.")


class BlacklistNumberResponse(Envelope):
    number: str = Field(description="The number in its normal form.")


class ListedNumberItem(BaseModel):
    number: str
    scope: Literal["all", "advertising"] = Field(
        description="all: every send is refused; advertising: Advertising content only."
    )
    source: str = Field(description="api: added by the account; sms: the recipient sent RET.")
    created_at: dt.datetime


class BlacklistListResponse(Envelope):
    numbers: list[ListedNumberItem] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Null on the last page. A page filtered by `status` or `title` alone looks"
        " through a bounded number of the account's messages: it may hold fewer than `limit`,"
        " or none, and still have a cursor; follow it until null."
    )


class WebhookTestResponse(Envelope):
    event_id: str = Field(description="The key.test event's id, as its webhook-id header says.")
    url: str = Field(description="Where the event goes.")


class OtpFields(ApiRequest):
    mobile: OptionalPhone = Field(default=None, description="The recipient.")
    sentto: OptionalPhone = Field(default=None, description="The recipient; wins over `mobile`.")
    digits: Whole | None = Field(
        default=None,
        json_schema_extra={"minimum": 4, "maximum": 6},
        description="4 to 6 digits; default 6.",
    )
    ttl_seconds: Whole | None = Field(
        default=None,
        json_schema_extra={"minimum": 60, "maximum": 1800},
        description="60 to 1800 s; default 300.",
    )


class OtpSendRequest(OtpFields):
    model_config = ConfigDict(json_schema_extra=_requires(one_of=("sentto", "mobile")))

    lang: OtpLangCode = Field(
        default=None,
        description="0 English, 1 Turkish, 2 Arabic (default): template language and encoding.",
    )


class OtpDetailedRequest(OtpFields):
    model_config = ConfigDict(
        json_schema_extra=_requires("title", "text", one_of=("sentto", "mobile"))
    )

    title: Title = Field(default=None, description="Sender ID, case-sensitive, active.")
    text: Annotated[
        str | None,
        Strict(),
        WithJsonSchema({"type": "string", "pattern": _OTP_TEXT_PATTERN}),
    ] = Field(default=None, description="Contains TS-CODE (or TS_CODE); each one becomes the code.")
    lang: LangCode = Field(
        default=None, description="Encoding: 0 English, 1 Turkish, 2 Unicode (default), 'auto'."
    )


class OtpSendResponse(SendResponse):
    otp_id: str
    expires_at: str = Field(description="ISO-8601 UTC.")
    otp_code: str | None = Field(
        default=None,
        description="The code, unless the account turned it off (and not in a repeat's answer).",
    )


class OtpVerifyRequest(ApiRequest):
    model_config = ConfigDict(json_schema_extra=_requires("code", one_of=("otp_id", "mobile")))

    otp_id: Annotated[str | None, Strict()] = Field(
        default=None, description="The OTP to check; or give `mobile`."
    )
    mobile: OptionalPhone = Field(
        default=None, description="The number whose latest live OTP is checked."
    )
    code: OtpCode = Field(default=None, description="The code the user typed.")


class OtpVerifyResponse(Envelope):
    otp_id: str
    sms_id: int
    verified: bool


# Campaigns (Excel to SMS) ------------------------------------------------------------------------

# A form sends every field as text: flags and numbers are read from their text here.
FormFlag = Annotated[
    bool | None, WithJsonSchema({"enum": [True, False, "true", "false", "1", "0", None]})
]
FormWhole = Annotated[int | None, WithJsonSchema({"enum": [0, 1, 2, "0", "1", "2", None]})]
FileField = Annotated[
    Any, WithJsonSchema({"type": "string", "format": "binary", "description": "The file."})
]


class CampaignOptions(ApiRequest):
    """How the file is read and what each row's message says."""

    text: MessageText = Field(
        default=None,
        description="The template: `{Column}` placeholders (case and Turkish İ/ı folded),"
        " `{Column|default}` for empty cells.",
    )
    title: Title = Field(default=None, description="Sender ID, case-sensitive, active.")
    phone_column: Text | None = Field(
        default=None, description="The phone column's header; found by header or values if absent."
    )
    sheet: Text | None = Field(default=None, description="The sheet to read; the first if absent.")
    header: FormFlag = Field(default=None, description="Whether the first row is a header (true).")
    encoding: Text | None = Field(
        default=None, description="A CSV's encoding; UTF-8, else Windows-1254, if absent."
    )
    sms_lang: LangCode = Field(
        default=None, description="0 English, 1 Turkish, 2 Unicode, or 'auto' (the default)."
    )
    content_type: FormWhole = Field(
        default=None, description="0 Transactional (default), 1 High Quality, 2 Advertising."
    )
    iys_recipient_type: IysRecipientType = Field(
        default=None, description="As /sms/send's: BIREYSEL (the default) or TACIR."
    )


class CampaignPreviewRequest(CampaignOptions):
    model_config = ConfigDict(json_schema_extra=_requires("file", "title", "text"))

    file: FileField = Field(default=None, description=".xlsx, .xls, .ods or .csv.")


class CampaignRejectsRequest(CampaignOptions):
    model_config = ConfigDict(json_schema_extra=_requires("upload_id", "title", "text"))

    upload_id: Text | None = Field(default=None, description="The `upload_id` of a preview.")


class CampaignStartRequest(ScheduleFields):
    model_config = ConfigDict(
        json_schema_extra=_requires("upload_id", "title", "text", scheduled=True)
    )

    upload_id: Text | None = Field(default=None, description="The `upload_id` of a preview.")
    text: MessageText = Field(default=None, description="The template, as /campaign/preview's.")
    title: Title = Field(default=None, description="Sender ID, case-sensitive, active.")
    name: Text | None = Field(
        default=None, max_length=200, description="The campaign's name; the file's if absent."
    )
    phone_column: Text | None = Field(default=None, description="As /campaign/preview's.")
    sheet: Text | None = Field(default=None, description="As /campaign/preview's.")
    header: Annotated[bool, Strict()] | None = Field(
        default=None, description="Whether the first row is a header (true)."
    )
    encoding: Text | None = Field(default=None, description="As /campaign/preview's.")


class CampaignSample(BaseModel):
    row: int = Field(description="The row as Excel numbers it (the header is row 1).")
    sentto: str = Field(description="The number in its normal form.")
    text: str = Field(description="The message as it goes out.")
    sms_lang: str = Field(description="English, Turkish or Unicode.")
    segments: int


class CampaignReject(BaseModel):
    row: int = Field(description="The row as Excel numbers it (the header is row 1).")
    sentto: str = Field(description="The phone cell as written.")
    reason: str
    result_code: str = Field(description="The code a send gives for the same.")


class CampaignPreviewResponse(Envelope):
    upload_id: str = Field(description="Names the file for /campaign/start, for 24 hours.")
    file_name: str
    sheet: str | None = Field(description="The sheet read; null for a CSV file.")
    sheets: list[str]
    columns: list[str]
    phone_column: str
    rows: int
    valid: int = Field(
        description="Recipients that will be sent: not invalid, duplicate, blacklisted or"
        " without İYS consent."
    )
    invalid: int
    duplicates: int
    blacklisted: int
    no_consent: int = Field(
        description="Advertising to numbers without an İYS ONAY, where the account enforces İYS."
    )
    segments: int = Field(description="Segments of the valid recipients' messages, in all.")
    credits: int = Field(description="From the main balance.")
    international_kurus: int = Field(description="From the international balance.")
    balance: int = Field(description="The main balance, in credits.")
    international_balance_kurus: int
    encodings: dict[str, int] = Field(description="Valid recipients by encoding.")
    samples: list[CampaignSample] = Field(description="The first 20 personalised messages.")
    rejects: list[CampaignReject] = Field(description="The first 1,000 rows left out, by row.")
    rejects_total: int


class CampaignStartResponse(GroupSendResponse):
    campaign_id: int = Field(description="The group's id.")
    left_out: list[CampaignReject] = Field(
        description="The first 1,000 rows left out before the group was formed (no number, a"
        " damaged one, an empty placeholder, a text over the cap); `rejected` holds the rest."
    )
    left_out_total: int


class CampaignIdRequest(ApiRequest):
    model_config = ConfigDict(json_schema_extra=_requires("campaign_id"))

    campaign_id: MessageId = Field(description="The campaign's id (its group's).")


class CampaignItem(BaseModel):
    id: int
    name: str
    file_name: str
    template: str
    title: str
    created_at: str = Field(description="ISO-8601 UTC.")
    due_at: str = Field(description="ISO-8601 UTC.")
    total: int = Field(description="Recipients given to the group.")
    accepted: int
    queued: int
    sent: int
    delivered: int
    failed: int
    expired: int
    cancelled: int


class CampaignStatusResponse(Envelope):
    campaign: CampaignItem


class CampaignListRequest(ApiRequest):
    limit: PageSize = 50
    before: MessageId | None = Field(default=None, description="The `next_before` of a page.")


class CampaignListResponse(Envelope):
    campaigns: list[CampaignItem] = Field(description="Newest first.")
    next_before: int | None = Field(description="Null on the last page.")


_CONSENT_ITEM = {
    "type": "object",
    "required": ["recipient", "status"],
    "properties": {
        "recipient": {"description": "A Turkish mobile number (+90…, 05…, 5…)."},
        "recipient_type": {"enum": ["BIREYSEL", "TACIR"], "description": "BIREYSEL if absent."},
        "type": {"enum": ["MESAJ", "ARAMA", "EPOSTA"], "description": "MESAJ (SMS) if absent."},
        "status": {"enum": ["ONAY", "RET"]},
        "source": {
            "type": "string",
            "description": "Where the consent was collected: HS_WEB, HS_MESAJ, HS_FIZIKSEL_ORTAM,"
            " HS_ISLAK_IMZA, HS_CAGRI_MERKEZI, HS_SOSYAL_MEDYA, HS_EPOSTA, HS_MOBIL, HS_EORTAM,"
            " HS_ETKINLIK, HS_ATM, HS_KARAR or HS_2015; optional for TACIR.",
        },
        "consent_date": {
            "type": "string",
            "description": "YYYY-MM-DD HH:mm:ss, Turkey time; not before 2015-05-01, not in the"
            " future, after the recipient's last record; optional for TACIR.",
        },
    },
}


class ConsentAddRequest(ApiRequest):
    model_config = ConfigDict(json_schema_extra=_requires("consents"))

    # Each record is checked on its own: one that is not even an object is refused by index.
    consents: Annotated[
        list[Any] | None,
        WithJsonSchema({"type": "array", "items": _CONSENT_ITEM, "minItems": 1, "maxItems": 5_000}),
    ] = Field(default=None, description="Up to 5,000 records, kept in the order given.")


class ConsentRejected(BaseModel):
    index: int = Field(description="The record's place in `consents`, from 0.")
    code: str = Field(description="İYS's code for what is wrong (H1xx), or TS-1035.")
    message: str


class ConsentAddResponse(Envelope):
    accepted: int = Field(description="Records kept; each is pushed to İYS by the gateway.")
    rejected: list[ConsentRejected]


class ConsentFields(BaseModel):
    recipient: str
    recipient_type: str
    type: str
    status: Literal["ONAY", "RET"]
    source: str | None
    consent_date: str | None = Field(description="YYYY-MM-DD HH:mm:ss, Turkey time.")
    origin: str = Field(description="api, file, panel, sms (a RET reply) or iys (a citizen's).")
    in_force: bool = Field(description="Whether it is the recipient's record in force.")
    sync_state: str = Field(
        description="pending (not yet in İYS), synced, failed (İYS refused it), pulled (İYS's)."
    )
    sync_error: str | None
    transaction_id: str | None = Field(description="İYS's id for the record, once it has it.")
    created_at: dt.datetime


class ConsentStatusRequest(ApiRequest):
    recipient: Phone = Field(description="A Turkish mobile number.")
    recipient_type: IysRecipientType = Field(default=None, description="BIREYSEL if absent.")
    type: Annotated[
        str | None, Strict(), WithJsonSchema({"enum": ["MESAJ", "ARAMA", "EPOSTA", None]})
    ] = Field(default=None, description="MESAJ if absent.")


class ConsentStatusResponse(Envelope):
    consent: ConsentFields | None = Field(description="The record in force; null when none.")


class ConsentListRequest(PageRequest):
    recipient: OptionalPhone = None
    status: Annotated[str | None, Strict(), WithJsonSchema({"enum": ["ONAY", "RET", None]})] = None
    recipient_type: IysRecipientType = None
    sync_state: Annotated[
        str | None,
        Strict(),
        WithJsonSchema({"enum": ["pending", "synced", "failed", "pulled", None]}),
    ] = None
    in_force: Annotated[bool, Strict()] | None = Field(
        default=None, description="true: only each recipient's record in force."
    )


class ConsentListResponse(Envelope):
    consents: list[ConsentFields] = Field(description="Newest first.")
    next_cursor: str | None = Field(
        description="Null on the last page. A page filtered by `status` or `title` alone looks"
        " through a bounded number of the account's messages: it may hold fewer than `limit`,"
        " or none, and still have a cursor; follow it until null."
    )


# Resellers ---------------------------------------------------------------------------------------

# No control character at all (a name is shown in lists and logs), something that is not space.
_NAME_PATTERN = (
    f"^[^\\x00-\\x1f\\x7f-\\x9f]*[^{_SPACE}\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
)


def _account_ref(value: object) -> object:
    if isinstance(value, str) or _whole(value) is not None:
        return value
    raise ValueError("must be a customer account's id or name")


def _lira(value: object) -> object:
    """An amount in TRY as JSON gives it: a number, not a boolean or a string."""
    if value is None or _whole(value) is not None or isinstance(value, float):
        return value
    raise ValueError("must be an amount in TRY, such as 12.50")


def _moment(value: object) -> dt.datetime | None:
    """An ISO-8601 time (UTC unless it says otherwise), as a page's ``next_before`` gives it."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)
    raise ValueError("must be a time as ISO-8601, as next_before gives it")


# A customer account: its id, or its name.
AccountRef = Annotated[
    int | str | None,
    PlainValidator(_account_ref),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": _MAX_ID,
                    "description": "The customer account's id.",
                },
                {"type": "string", "pattern": f"[^{_SPACE}]", "description": "Or its name."},
            ]
        }
    ),
]
Price = Annotated[
    int | float | None,
    PlainValidator(_lira),
    WithJsonSchema(
        {"type": "number", "minimum": 0, "maximum": MAX_PRICE // 100, "multipleOf": 0.01}
    ),
]


def _cap_needs_shared(schema: dict[str, Any]) -> None:
    """A daily cap is for a customer that shares the reseller's balance."""
    _requires("name")(schema)
    schema["if"] = {"required": ["daily_cap"], "properties": {"daily_cap": {"type": "integer"}}}
    schema["then"] = {
        "required": ["shared_balance"],
        "properties": {"shared_balance": {"const": True}},
    }


class ResellerCreateRequest(ApiRequest):
    model_config = ConfigDict(json_schema_extra=_cap_needs_shared)

    name: Annotated[
        str | None,
        Strict(),
        WithJsonSchema({"type": "string", "pattern": _NAME_PATTERN, "maxLength": 100}),
    ] = Field(default=None, description="The new account's name, unique in the gateway.")
    shared_balance: Annotated[bool, Strict()] | None = Field(
        default=None,
        description="true: it spends your balance (its own stays at zero); false (the default):"
        " a balance of its own, filled by `/reseller/transfer`. Set once, never changed.",
    )
    daily_cap: Whole | None = Field(
        default=None,
        json_schema_extra={"minimum": 1, "maximum": MAX_AMOUNT},
        description="With `shared_balance`: credits it may spend of yours an Istanbul day.",
    )


class ResellerAccountRequest(ApiRequest):
    model_config = ConfigDict(json_schema_extra=_requires("account"))

    account: AccountRef = Field(default=None, description="Your customer account: id or name.")


class CustomerAccount(BaseModel):
    id: int
    name: str
    status: str = Field(description="active or inactive (suspended).")
    shared_balance: bool
    daily_cap: int | None = Field(description="Credits an Istanbul day; null: no cap.")
    balance: Balances = Field(description="Its own (a shared-balance account's stay at zero).")
    low_balance_threshold: int | None
    created_at: dt.datetime
    last_activity: dt.datetime | None = Field(description="Its newest message; null: none yet.")


class ResellerAccountResponse(Envelope):
    account: CustomerAccount


class ResellerAccountListResponse(Envelope):
    accounts: list[CustomerAccount] = Field(description="Oldest first.")


class ResellerKeyRequest(ResellerAccountRequest):
    deny: Annotated[
        list[Text] | None,
        WithJsonSchema({"type": "array", "items": {"enum": [p.value for p in Permission]}}),
    ] = Field(default=None, description="Permissions the key must not have (it has the rest).")
    allow_ips: Annotated[
        list[Text] | None, WithJsonSchema({"type": "array", "items": {"type": "string"}})
    ] = Field(default=None, description="Addresses or CIDRs the key may be used from.")
    per_minute: Whole | None = Field(
        default=None,
        json_schema_extra={"minimum": 0, "maximum": MAX_PER_MINUTE},
        description="Requests a minute; 0: no limit; absent: the gateway's default.",
    )


class ResellerKeyResponse(Envelope):
    account_id: int
    key: str = Field(description="The key, shown this once: only its hash is kept.")
    prefix: str = Field(description="How lists and logs name it.")
    permissions: Permissions
    allowed_ips: list[str]
    per_minute: int | None


class ResellerTitleRequest(ResellerAccountRequest):
    model_config = ConfigDict(json_schema_extra=_requires("account", "title", "reason"))

    title: Title = Field(default=None, description="Sender ID, case-sensitive.")
    reason: MessageText = Field(
        default=None, description="What it is for, for the operator (at most 300 characters)."
    )


class ResellerTitleResponse(Envelope):
    account_id: int
    title: str
    status: str = Field(description="pending: the operator approves it.")


class ResellerUserRequest(ResellerAccountRequest):
    model_config = ConfigDict(json_schema_extra=_requires("account", "email"))

    email: Annotated[
        str | None, Strict(), WithJsonSchema({"type": "string", "format": "email"})
    ] = Field(default=None, description="The user's email address.")
    role: Annotated[str | None, Strict(), WithJsonSchema({"enum": ["owner", "member", None]})] = (
        Field(default=None, description="owner or member (the default).")
    )


class ResellerUserResponse(Envelope):
    account_id: int
    email: str
    role: str
    password: str = Field(description="The user's password, shown this once.")


def _transfer_schema(schema: dict[str, Any]) -> None:
    """An account, a direction, and an amount of exactly one balance."""
    _requires("account", "direction")(schema)
    _exactly_one("credits", "international")(schema)


class ResellerTransferRequest(ResellerAccountRequest):
    model_config = ConfigDict(json_schema_extra=_transfer_schema)

    credits: Whole | None = Field(
        default=None,
        json_schema_extra={"minimum": 1, "maximum": MAX_AMOUNT},
        description="Main credits to move.",
    )
    international: Annotated[
        int | float | None,
        PlainValidator(_lira),
        WithJsonSchema(
            {
                "type": "number",
                "exclusiveMinimum": 0,
                "maximum": MAX_AMOUNT // 100,
                "multipleOf": 0.01,
            }
        ),
    ] = Field(default=None, description="Or TRY of the international balance, e.g. 12.50.")
    direction: Annotated[
        str | None, Strict(), WithJsonSchema({"enum": ["to_child", "from_child"]})
    ] = Field(default=None, description="to_child: from you to it; from_child: back to you.")


class TransferItem(BaseModel):
    transfer_id: str
    account_id: int = Field(description="The customer account.")
    direction: Literal["to_child", "from_child"]
    credits: int | None = Field(description="Main credits moved; null for TRY.")
    international: float | None = Field(description="TRY moved; null for credits.")
    created_at: dt.datetime


class ResellerTransferResponse(Envelope):
    transfer: TransferItem
    your_balance_after: float | None = Field(
        description="Your balance of that kind after it (credits, or TRY); null in a repeat's"
        " answer (the same `Idempotency-Key`: nothing moved again)."
    )
    account_balance_after: float | None = Field(description="The customer's, likewise.")


class ResellerTransfersRequest(ApiRequest):
    account: AccountRef = Field(default=None, description="One customer's; absent: all.")
    limit: PageSize = 50
    before: Annotated[
        dt.datetime | None,
        PlainValidator(_moment),
        WithJsonSchema({"type": "string", "format": "date-time"}),
    ] = Field(default=None, description="The `next_before` of the previous page.")


class ResellerTransfersResponse(Envelope):
    transfers: list[TransferItem] = Field(description="Newest first.")
    next_before: str | None = Field(description="Null on the last page.")


Region = Annotated[
    str | None,
    Strict(),
    WithJsonSchema(
        {
            "enum": sorted(REGIONS),
            "description": "An ISO country code, or * for every other country.",
        }
    ),
]


class ResellerPriceRequest(ResellerAccountRequest):
    model_config = ConfigDict(json_schema_extra=_requires("account", "region", "price"))

    region: Region = None
    price: Price = Field(
        default=None,
        description="TRY a segment, at least what you pay yourself for the country.",
    )


class ResellerPriceResetRequest(ResellerAccountRequest):
    model_config = ConfigDict(json_schema_extra=_requires("account", "region"))

    region: Region = None


class ResellerPriceListRequest(ApiRequest):
    account: AccountRef = Field(default=None, description="A customer's; absent: your own.")


class PriceItem(BaseModel):
    region: str = Field(description="ISO country code; * for every other country.")
    price: float = Field(description="TRY a segment.")
    own: bool = Field(description="Set for this account; false: inherited.")


class ResellerPricesResponse(Envelope):
    account_id: int
    prices: list[PriceItem]


class ResellerUsageRequest(ApiRequest):
    account: AccountRef = Field(default=None, description="One customer's; absent: all.")
    date_from: IstanbulDay | None = Field(
        default=None, description="First day, inclusive; default the first of `date_to`'s month."
    )
    date_to: IstanbulDay | None = Field(
        default=None, description="Last day, inclusive; default today (Europe/Istanbul)."
    )


class UsageItem(BaseModel):
    account_id: int
    name: str
    date: dt.date = Field(description="Europe/Istanbul day the messages were accepted.")
    messages: int
    segments: int = Field(description="Segments to Turkey (one credit each).")
    credits: int = Field(description="Charged when accepted.")
    refunded_credits: int = Field(description="Given back: failed, expired or cancelled.")
    international_kurus: int
    refunded_international_kurus: int


class ResellerUsageResponse(Envelope):
    date_from: dt.date
    date_to: dt.date
    usage: list[UsageItem] = Field(description="By account, then day; only days with messages.")
