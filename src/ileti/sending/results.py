"""What accepting gives back, in the contract's terms (its field names are the V4 API's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ileti.codes import CATALOGUE
from ileti.sending.orders import FieldWarning, Rejection


@dataclass(frozen=True, slots=True)
class Accepted:
    """Messages stored, paid for and queued."""

    sms_id: int  # the message's id, or the group's
    number_of_sms: int  # segments charged
    total_recipients: int
    success_count: int
    sms_lang: str
    content_type: str
    country: str
    group_id: int | None = None
    rejected: tuple[Rejection, ...] | None = None  # a group's recipients left out
    otp_id: str | None = None
    expires_at: str | None = None
    otp_code: str | None = None  # only in the first answer, and only if the account wants it
    # How the texts went out, where it is not what was asked for (absent from the answer
    # when there is none).
    warnings: tuple[FieldWarning, ...] = ()

    def fields(self) -> dict[str, Any]:
        """The answer's fields, in the contract's order."""
        fields: dict[str, Any] = {
            "sms_id": self.sms_id,
            "number_of_sms": self.number_of_sms,
            "total_recipients": self.total_recipients,
            "success_count": self.success_count,
            "sms_lang": self.sms_lang,
            "content_type": self.content_type,
            "country": self.country,
        }
        if self.rejected is not None:
            fields["group_id"] = self.group_id
            fields["rejected"] = [
                {"index": r.index, "sentto": r.sentto, "result_code": r.result.code}
                for r in self.rejected
            ]
        if self.otp_id is not None:
            fields["otp_id"] = self.otp_id
            fields["expires_at"] = self.expires_at
        if self.otp_code is not None:
            fields["otp_code"] = self.otp_code
        if self.warnings:
            fields["warnings"] = [{"field": w.field, "message": w.message} for w in self.warnings]
        return fields

    @classmethod
    def from_fields(cls, fields: Mapping[str, Any]) -> Accepted:
        """The answer kept for a repeat of the request, read back."""
        rejected = fields.get("rejected")
        return cls(
            sms_id=fields["sms_id"],
            number_of_sms=fields["number_of_sms"],
            total_recipients=fields["total_recipients"],
            success_count=fields["success_count"],
            sms_lang=fields["sms_lang"],
            content_type=fields["content_type"],
            country=fields["country"],
            group_id=fields.get("group_id"),
            rejected=None
            if rejected is None
            else tuple(
                Rejection(r["index"], r["sentto"], CATALOGUE[r["result_code"]]) for r in rejected
            ),
            otp_id=fields.get("otp_id"),
            expires_at=fields.get("expires_at"),
            otp_code=fields.get("otp_code"),
            warnings=tuple(
                FieldWarning(w["field"], w["message"]) for w in fields.get("warnings", ())
            ),
        )


@dataclass(frozen=True, slots=True)
class Verified:
    """An OTP code checked and found right (once)."""

    otp_id: str
    sms_id: int
