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
