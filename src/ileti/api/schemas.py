"""Request and response bodies as the OpenAPI document describes them.

Requests ignore unknown fields (the contract says so); responses may only gain fields within V4.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, RootModel, WithJsonSchema

from ileti.domain.lifecycle import MessageStatus


class ApiRequest(BaseModel):
    """Every request carries the key in the body (or in a header)."""

    model_config = ConfigDict(extra="ignore")

    api_key: str | None = Field(
        default=None,
        description="The API key. May instead come as `Authorization: Bearer` or `X-API-Key`.",
    )


class Envelope(BaseModel):
    result: bool
    result_code: str = Field(pattern=r"^TS-\d{4}$")
    result_message: str


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


Number = str | int


class ScheduleFields(ApiRequest):
    sms_lang: int | str | None = Field(
        default=None, description="0 English, 1 Turkish, 2 Unicode (default), or 'auto'."
    )
    content_type: int | None = Field(
        default=None, description="0 Transactional (default), 1 High Quality, 2 Advertising."
    )
    scheduled_sms: int | str | bool | None = Field(default=None, description="1: scheduled.")
    scheduled_date: str | None = Field(default=None, description="YYYY-MM-DD, Europe/Istanbul.")
    scheduled_time: str | None = Field(default=None, description="HH:MM, Europe/Istanbul.")
    validity_minutes: int | None = Field(
        default=None, ge=1, le=4320, description="Expiry after dispatch; default 1440."
    )


class SmsSendRequest(ScheduleFields):
    title: str | None = Field(default=None, description="Sender ID, case-sensitive, active.")
    text: str | None = None
    sentto: Number | None = Field(default=None, description="Recipient; wins over `mobile`.")
    mobile: Number | None = Field(default=None, description="Recipient, as the SDKs send it.")


class GroupSendRequest(ScheduleFields):
    title: str | None = None
    text: str | None = None
    sentto: list[Number] | None = Field(default=None, description="Up to 100,000 recipients.")


class GroupSendMixedRequest(ScheduleFields):
    title: str | None = None
    text: list[str] | None = Field(default=None, description="One text per recipient.")
    sentto: list[Number] | None = Field(default=None, description="Same length as `text`.")


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


def _whole(value: object) -> int | None:
    """An integer as JSON Schema counts them: ``5`` and ``5.0``, but not ``true`` or ``"5"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


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


def _phone_text(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str):
        return value
    raise ValueError("must be a string (or an integer)")


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
PhoneText = Annotated[
    str,
    PlainValidator(_phone_text),
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
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


class MessageReportRequest(PageRequest):
    date_from: IstanbulDay | None = Field(default=None, description="First day, inclusive.")
    date_to: IstanbulDay | None = Field(default=None, description="Last day, inclusive.")
    status: MessageStatus | None = None
    title: str | None = Field(default=None, pattern=r"^[A-Za-z0-9 .\-]{3,11}$")
    number: PhoneText | None = Field(default=None, description="Recipient, in any accepted form.")
    group_id: MessageId | None = None


class SummaryRequest(ApiRequest):
    date_from: IstanbulDay | None = Field(
        default=None, description="First day, inclusive; default six days before `date_to`."
    )
    date_to: IstanbulDay | None = Field(
        default=None, description="Last day, inclusive; default today (Europe/Istanbul)."
    )


class BlacklistNumberRequest(ApiRequest):
    number: PhoneText = Field(description="The number, in any accepted form.")


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


class MessageStatusResponse(Envelope, MessageFields):
    pass


class StatusCounts(BaseModel):
    queued: int
    sent: int
    delivered: int
    failed: int
    expired: int


class GroupStatusResponse(Envelope):
    group_id: int
    sms_id: int = Field(description="The group id again.")
    title: str
    total_recipients: int
    accepted: int
    number_of_sms: int = Field(description="Segments in all.")
    created_at: dt.datetime
    counts: StatusCounts


class SmsStatusResponse(RootModel[MessageStatusResponse | GroupStatusResponse]):
    """A message's state, or for a group id its messages' counts per state."""


class MessageReportResponse(Envelope):
    messages: list[MessageFields] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Null on the last page.")


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
    next_cursor: str | None = Field(description="Null on the last page.")


class WebhookTestResponse(Envelope):
    event_id: str = Field(description="The key.test event's id, as its webhook-id header says.")
    url: str = Field(description="Where the event goes.")


class OtpFields(ApiRequest):
    mobile: Number | None = Field(default=None, description="The recipient.")
    sentto: Number | None = Field(default=None, description="The recipient; wins over `mobile`.")
    digits: int | None = Field(default=None, description="4 to 6 digits; default 6.")
    ttl_seconds: int | None = Field(default=None, description="60 to 1800 s; default 300.")


class OtpSendRequest(OtpFields):
    lang: int | None = Field(
        default=None,
        description="0 English, 1 Turkish, 2 Arabic (default): template language and encoding.",
    )


class OtpDetailedRequest(OtpFields):
    title: str | None = Field(default=None, description="Sender ID, case-sensitive, active.")
    text: str | None = Field(
        default=None, description="Contains TS-CODE (or TS_CODE); each one becomes the code."
    )
    lang: int | str | None = Field(
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
    otp_id: str | None = Field(default=None, description="The OTP to check; or give `mobile`.")
    mobile: Number | None = Field(
        default=None, description="The number whose latest live OTP is checked."
    )
    code: str | int | None = Field(default=None, description="The code the user typed.")


class OtpVerifyResponse(Envelope):
    otp_id: str
    sms_id: int
    verified: bool
