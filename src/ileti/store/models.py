"""Tables. Money is integers: main credits as whole credits, international balance in kuruş."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on both engines (SQLite keeps no zone, so it is put back on read)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("credits >= 0", name="credits_not_negative"),
        CheckConstraint("international_kurus >= 0", name="international_not_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    international_kurus: Mapped[int] = mapped_column(BigInteger, default=0)
    international_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    otp_title: Mapped[str | None] = mapped_column(String(11), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    api_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    send_single_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    send_otp: Mapped[bool] = mapped_column(Boolean, default=True)
    send_bulk_sms: Mapped[bool] = mapped_column(Boolean, default=True)
    check_balance: Mapped[bool] = mapped_column(Boolean, default=True)
    check_sms_status: Mapped[bool] = mapped_column(Boolean, default=True)
    allowed_ips: Mapped[list[str]] = mapped_column(JSON, default=list)
    # None: the operator's default; 0: no limit.
    per_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    webhook: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SenderId(Base):
    __tablename__ = "sender_ids"
    __table_args__ = (UniqueConstraint("account_id", "title", name="uq_sender_ids_account_title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    title: Mapped[str] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(Base):
    """Append-only: a balance changes only together with a new entry recording it."""

    __tablename__ = "credit_ledger"
    __table_args__ = (
        UniqueConstraint("reference", "kind", name="uq_credit_ledger_reference_kind"),
        Index("ix_credit_ledger_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # Which balance moved: "main" (credits) or "international" (kuruş).
    balance: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    # topup, debit, refund, adjustment
    kind: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
