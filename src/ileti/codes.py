"""The TS-#### catalogue: the one place where a result code, its HTTP status and its text live.

Clients branch on the code, so codes and statuses never change within V4; messages may.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ResultCode:
    code: str
    http_status: int
    message: str

    @property
    def ok(self) -> bool:
        return self.http_status < 400


def _c(code: str, status: int, message: str) -> ResultCode:
    return ResultCode(code, status, message)


AUTH_OK = _c("TS-1000", 200, "Authentication check successful.")
SMS_ACCEPTED = _c("TS-1024", 200, "SMS accepted for dispatch.")
NUMBER_MISSING = _c("TS-1025", 400, "Recipient number is missing.")
TEXT_EMPTY = _c("TS-1026", 400, "Message text is empty.")
INSUFFICIENT_BALANCE = _c("TS-1027", 403, "Insufficient balance.")
TITLE_INACTIVE = _c("TS-1028", 403, "Sender ID (title) is not active.")
TITLE_UNKNOWN = _c("TS-1029", 403, "Sender ID (title) is unknown.")
ACCOUNT_INACTIVE = _c("TS-1030", 403, "Account is not active.")
INVALID_KEY = _c("TS-1031", 401, "Invalid API key.")
INTERNATIONAL_DISABLED = _c(
    "TS-1032", 403, "Destination is outside Turkey and the account has no international sending."
)
INVALID_JSON = _c("TS-1033", 400, "Request body is not a valid JSON object.")
INVALID_NUMBER = _c("TS-1034", 400, "Invalid phone number.")
INVALID_FIELD = _c("TS-1035", 400, "A field is missing or invalid.")
OTP_TEMPLATE_NO_CODE = _c("TS-1036", 400, "OTP text must contain the TS-CODE placeholder.")
MIXED_LENGTH_MISMATCH = _c("TS-1037", 400, "The text and sentto arrays differ in length.")
INVALID_SCHEDULE = _c("TS-1038", 400, "Invalid or past schedule.")
NOT_FOUND = _c("TS-1039", 404, "Unknown sms_id or group_id for this account.")
QUERY_OK = _c("TS-1040", 200, "Query successful.")
IP_NOT_ALLOWED = _c("TS-1041", 403, "Caller IP address is not in the key's allowlist.")
OTP_WRONG = _c("TS-1042", 400, "OTP code is wrong.")
OTP_UNUSABLE = _c("TS-1043", 400, "OTP is expired, already used, or out of attempts.")
BLACKLISTED = _c("TS-1044", 403, "Recipient is blacklisted.")
TOO_MANY_RECIPIENTS = _c("TS-1045", 413, "Too many recipients in one request.")
TOO_LONG = _c("TS-1046", 400, "Message is longer than the segment cap.")
NO_CONSENT = _c("TS-1052", 403, "No İYS consent for a commercial (Advertising) message.")
IYS_NOT_SET_UP = _c("TS-1053", 403, "İYS is not set up for this account.")
INTERNAL_ERROR = _c("TS-1050", 500, "Internal error; nothing was charged.")
UNAVAILABLE = _c("TS-1051", 503, "Temporarily unavailable; safe to retry.")
RATE_LIMITED = _c("TS-1060", 403, "Per-minute rate limit exceeded.")
API_DISABLED = _c("TS-1061", 403, "POST (API) permission is not enabled for this key.")
OPERATION_OK = _c("TS-1064", 200, "Operation successful.")
PERMISSION_DENIED = _c("TS-1065", 403, "Key permissions do not cover this operation.")

CATALOGUE: dict[str, ResultCode] = {
    rc.code: rc
    for rc in (
        AUTH_OK,
        SMS_ACCEPTED,
        NUMBER_MISSING,
        TEXT_EMPTY,
        INSUFFICIENT_BALANCE,
        TITLE_INACTIVE,
        TITLE_UNKNOWN,
        ACCOUNT_INACTIVE,
        INVALID_KEY,
        INTERNATIONAL_DISABLED,
        INVALID_JSON,
        INVALID_NUMBER,
        INVALID_FIELD,
        OTP_TEMPLATE_NO_CODE,
        MIXED_LENGTH_MISMATCH,
        INVALID_SCHEDULE,
        NOT_FOUND,
        QUERY_OK,
        IP_NOT_ALLOWED,
        OTP_WRONG,
        OTP_UNUSABLE,
        BLACKLISTED,
        TOO_MANY_RECIPIENTS,
        TOO_LONG,
        NO_CONSENT,
        IYS_NOT_SET_UP,
        INTERNAL_ERROR,
        UNAVAILABLE,
        RATE_LIMITED,
        API_DISABLED,
        OPERATION_OK,
        PERMISSION_DENIED,
    )
}


class GatewayError(Exception):
    """A refusal with a catalogue entry; the API's one handler turns it into the envelope."""

    def __init__(
        self,
        result: ResultCode,
        message: str | None = None,
        *,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or result.message)
        self.result = result
        self.message = message or result.message
        self.errors = errors
        self.headers = headers
