"""Request and response bodies as the OpenAPI document describes them.

Requests ignore unknown fields (the contract says so); responses may only gain fields within V4.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
