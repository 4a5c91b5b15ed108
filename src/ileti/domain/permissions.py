"""The permissions a key can hold; each endpoint needs at most one of them."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    SEND_SINGLE_SMS = "send_single_sms"
    SEND_OTP = "send_otp"
    SEND_BULK_SMS = "send_bulk_sms"
    CHECK_BALANCE = "check_balance"
    CHECK_SMS_STATUS = "check_sms_status"
    # A reseller's key: runs its child accounts. Granted only when asked for, never to a child.
    MANAGE_SUBACCOUNTS = "manage_subaccounts"


# What a new key holds unless its maker denies it; the rest only when asked for.
GRANTED_BY_DEFAULT = frozenset(Permission) - {Permission.MANAGE_SUBACCOUNTS}


class Role(StrEnum):
    """What a panel user may do: an owner also manages keys, webhooks and users."""

    OWNER = "owner"
    MEMBER = "member"
