"""Tables. Money is integers: main credits as whole credits, international balance in kuruş."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import text as sql_text
from sqlalchemy import true as sa_true
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ileti.domain.clock import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


# A message's or group's id: 64-bit. On SQLite, declared INTEGER so that the primary key is the
# table's rowid: a BIGINT key is an index of its own beside the rowid, one more B-tree to write
# on every insert and to walk on every lookup by id.
MessageId = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def table_of(model: type[Base]) -> Table:
    """A model's table, typed as one (``__table__`` is declared as any ``FromClause``)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


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
    # Whether /otp/send answers with the code (an account that only verifies turns it off).
    otp_code_in_response: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true()
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A reseller's customer: its parent (one level: a child has no children). No foreign key:
    # SQLite could add one only by rebuilding the table, and accounts are never deleted.
    parent_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # A child that spends its parent's balance (its own stays at zero), within ``daily_cap``
    # credits an Istanbul day when one is set.
    shared_balance: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    daily_cap: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Below this many credits, an ``account.low_balance`` event (once per crossing).
    low_balance_threshold: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    low_balance_notified: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )


class AccountPrice(Base):
    """An account's own price per segment for a country (kuruş), over the installation's."""

    __tablename__ = "account_prices"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    region: Mapped[str] = mapped_column(String(2), primary_key=True)
    kurus: Mapped[int] = mapped_column(Integer)


class DailySpending(Base):
    """Credits a shared-balance child spent of its parent's balance on an Istanbul day."""

    __tablename__ = "daily_spending"

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    credits: Mapped[int] = mapped_column(BigInteger)


class Transfer(Base):
    """Credits moved between a reseller and its child: two ledger entries with its id."""

    __tablename__ = "transfers"
    __table_args__ = (Index("ix_transfers_parent_id_created_at", "parent_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    parent_id: Mapped[int] = mapped_column(Integer)
    child_id: Mapped[int] = mapped_column(Integer)
    balance: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    # to_child | from_child
    direction: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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
    # ``api``: a key a client holds. ``panel``: the account's own key that the panel's sends
    # are recorded under; it has no secret and the API never accepts it.
    kind: Mapped[str] = mapped_column(String(8), default="api", server_default="api")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A reseller's key: manages its child accounts (never granted by default).
    manage_subaccounts: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )


class SenderId(Base):
    __tablename__ = "sender_ids"
    __table_args__ = (UniqueConstraint("account_id", "title", name="uq_sender_ids_account_title"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    title: Mapped[str] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Why the account asks for it (a request made in the panel), for the operator to judge.
    reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class LedgerEntry(Base):
    """Append-only: a balance changes only together with a new entry recording it."""

    __tablename__ = "credit_ledger"
    __table_args__ = (
        UniqueConstraint("reference", "kind", name="uq_credit_ledger_reference_kind"),
        Index("ix_credit_ledger_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # No foreign key: an entry is written beside the change of its account's balance, in the
    # same transaction, and accounts are never deleted; checking it cost a lookup and a row
    # lock per entry.
    account_id: Mapped[int] = mapped_column(Integer)
    # Which balance moved: "main" (credits) or "international" (kuruş).
    balance: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    balance_after: Mapped[int] = mapped_column(BigInteger)
    # topup, debit, refund, adjustment
    kind: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdSequence(Base):
    """Where message and group ids come from on SQLite (PostgreSQL uses a real sequence).

    Messages and groups share one sequence so that an id names one thing only.
    """

    __tablename__ = "id_sequence"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    next_id: Mapped[int] = mapped_column(BigInteger)


class Group(Base):
    __tablename__ = "groups"
    __table_args__ = (Index("ix_groups_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    key_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(11))
    total_recipients: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    number_of_sms: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


_IN_A_GROUP = sql_text("group_id IS NOT NULL")


class Message(Base):
    """One recipient's message. Its state moves only along the lifecycle in ``domain``."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_account_id_id", "account_id", "id"),
        # The panel's lists by number, newest first, stop after a page.
        Index("ix_messages_account_id_sentto_id", "account_id", "sentto", "id"),
        # Single sends have no group: leaving them out spares each of their inserts and state
        # changes an index update. A lookup by group (group_id = x) implies the condition.
        Index(
            "ix_messages_group_id_id",
            "group_id",
            "id",
            sqlite_where=_IN_A_GROUP,
            postgresql_where=_IN_A_GROUP,
        ),
        # The sweeper's walk to overdue messages, from where it stopped (``sweep_marks``).
        Index("ix_messages_expires_at_id", "expires_at", "id"),
        # No index holds ``status``, and a fifth of each page is kept free: a message's moves
        # are then updated in place on PostgreSQL (HOT), with no new index entries (migration
        # 0018).
        {"postgresql_with": {"fillfactor": 80}},
    )

    id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=False)
    # No foreign key: checking it costs a lookup and a row lock per message, and a message's
    # account comes from the key that authenticated it; accounts are never deleted.
    account_id: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(Integer)
    group_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # single, group, otp
    kind: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(11))
    sentto: Mapped[str] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    text: Mapped[str] = mapped_column(String)
    sms_lang: Mapped[str] = mapped_column(String(8))
    # The sms_lang the customer asked for (0, 1, 2 or auto): splitting again with it at
    # dispatch gives exactly the parts that were priced.
    lang: Mapped[str] = mapped_column(String(4))
    segments: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    # What was charged, on which balance (refunds give back exactly this).
    cost: Mapped[int] = mapped_column(BigInteger)
    cost_balance: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    carrier: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # When its text was emptied (retention or an erasure, KVKK); None while it is kept.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class QueueEntry(Base):
    """A message waiting for the dispatcher. Times are epoch milliseconds: cheap to compare."""

    __tablename__ = "dispatch_queue"
    __table_args__ = (Index("ix_dispatch_queue_priority_due", "priority", "due_ms"),)

    message_id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=False)
    # 0 OTP, 1 single, 2 bulk: lower goes first.
    priority: Mapped[int] = mapped_column(Integer)
    due_ms: Mapped[int] = mapped_column(BigInteger)
    lease_until_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class MessagePart(Base):
    """One submitted segment and the operator's id for it, by which its receipt is found."""

    __tablename__ = "message_parts"
    # The operator id leads: receipts look parts up by a list of ids, and a plan that walks
    # every part of a carrier to filter them is quadratic in the end.
    __table_args__ = (Index("ix_message_parts_operator_id_carrier", "operator_id", "carrier"),)

    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    part: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    carrier: Mapped[str] = mapped_column(String(64))
    # The operator's message id in its normal form (see carriers' receipt matching).
    operator_id: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)


class BlacklistEntry(Base):
    __tablename__ = "blacklist"
    __table_args__ = (UniqueConstraint("account_id", "number", name="uq_blacklist_account_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    number: Mapped[str] = mapped_column(String(20))
    # all: every send; advertising: Advertising content only (an inbound RET/IPTAL).
    scope: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IdempotentResponse(Base):
    """A response kept so that the same request from the same key gets it again."""

    __tablename__ = "idempotency"
    __table_args__ = (Index("ix_idempotency_expires_ms", "expires_ms"),)

    key_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(String)
    expires_ms: Mapped[int] = mapped_column(BigInteger)


class CountryPrice(Base):
    """Price per segment for a destination country, in kuruş, from the international balance."""

    __tablename__ = "country_prices"

    region: Mapped[str] = mapped_column(String(2), primary_key=True)
    kurus_per_segment: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PendingReceipt(Base):
    """A receipt whose part is not recorded yet (it can overtake the submit's record).

    Kept until its part appears or the matching window (the longest validity) runs out, then
    counted as unmatched: never an error loop, never lost while it can still match.
    """

    __tablename__ = "pending_receipts"
    __table_args__ = (Index("ix_pending_receipts_operator_id_carrier", "operator_id", "carrier"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    carrier: Mapped[str] = mapped_column(String(64))
    operator_id: Mapped[str] = mapped_column(String(80))
    # Every form of the id the receipt could mean (hex/decimal), space separated.
    candidates: Mapped[str] = mapped_column(String(400))
    state: Mapped[str] = mapped_column(String(10))
    error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    received_ms: Mapped[int] = mapped_column(BigInteger)


class WebhookEvent(Base):
    """The webhook outbox: an event to deliver, written with the state change that caused it.

    The body is serialised once, when the event is made, so that every attempt (and a replay)
    sends the same bytes under the same id. Times are epoch milliseconds, as in the queue.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (
        Index("ix_webhook_events_status_due_ms", "status", "due_ms"),
        Index("ix_webhook_events_key_id_created_ms", "key_id", "created_ms"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(String)
    # pending, delivered, dead
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    due_ms: Mapped[int] = mapped_column(BigInteger)
    lease_until_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    done_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class WebhookAttempt(Base):
    """One delivery attempt of an event: what the receiver answered, and how fast."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_event_id", "event_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int] = mapped_column(Integer)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    # None: no HTTP answer (timeout, refused connection, unsafe address).
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    latency_ms: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Otp(Base):
    """A one-time password: its code only as a keyed hash, and what is left of its attempts."""

    __tablename__ = "otps"
    __table_args__ = (
        Index("ix_otps_account_id_sentto_created_ms", "account_id", "sentto", "created_ms"),
        Index("ix_otps_account_id_region_created_ms", "account_id", "region", "created_ms"),
        Index("ix_otps_message_id", "message_id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(Integer)
    message_id: Mapped[int] = mapped_column(BigInteger)
    sentto: Mapped[str] = mapped_column(String(20))
    region: Mapped[str] = mapped_column(String(2))
    code_hash: Mapped[str] = mapped_column(String(64))
    # The message's text with the code hidden, put in its place once the message leaves.
    masked_text: Mapped[str] = mapped_column(String)
    created_ms: Mapped[int] = mapped_column(BigInteger)
    expires_ms: Mapped[int] = mapped_column(BigInteger)
    attempts_left: Mapped[int] = mapped_column(Integer)
    # live, verified, spent (no attempts left)
    status: Mapped[str] = mapped_column(String(10))
    verified_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class OtpTemplate(Base):
    """The operator's OTP text for a language, in place of the one that ships."""

    __tablename__ = "otp_templates"

    lang: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    text: Mapped[str] = mapped_column(String(1000))


class MessageCount(Base):
    """An account's messages created in one UTC hour that are in one state now, and what they
    were charged: kept by triggers on ``messages`` (migration 0010), read for day totals.

    ``hour`` is the UTC hour as 'YYYY-MM-DD HH', the form the report's scan grouped by.
    """

    __tablename__ = "message_counts"
    # The gauges of messages on their way read the states queued and sent, from an hour on.
    __table_args__ = (Index("ix_message_counts_status_hour", "status", "hour"),)

    account_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hour: Mapped[str] = mapped_column(String(13), primary_key=True)
    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    # Segments charged to the main balance; cost in kuruş charged to any other.
    credits: Mapped[int] = mapped_column(BigInteger)
    kurus: Mapped[int] = mapped_column(BigInteger)


# PostgreSQL's triggers append what each statement changed here, without a key: concurrent
# transactions never touch one row, and the worker's upkeep folds them into ``message_counts``.
# SQLite adds to ``message_counts`` at once and leaves it empty.
message_count_changes = Table(
    "message_count_changes",
    Base.metadata,
    Column("account_id", Integer, nullable=False),
    Column("hour", String(13), nullable=False),
    Column("status", String(10), nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("kurus", BigInteger, nullable=False),
    Index("ix_message_count_changes_account_id_hour", "account_id", "hour"),
)


class SweepMark(Base):
    """Where a walk of the sweeper stopped: the last message it read, by (expires_at, id)."""

    __tablename__ = "sweep_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    message_id: Mapped[int] = mapped_column(BigInteger)


class User(Base):
    """A person who logs into the panel for an account: a password kept only as an Argon2
    hash, and a TOTP secret kept sealed with the installation's key."""

    __tablename__ = "users"
    __table_args__ = (Index("ix_users_account_id", "account_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    # Lower case: one address is one user, however it was typed.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # owner | member
    role: Mapped[str] = mapped_column(String(8))
    totp_secret: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # False while a secret is offered but not yet confirmed by a code.
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    # The 30-second step of the last code accepted: a code is good once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PanelSession(Base):
    """A login: the cookie's token only as a hash. ``stage`` is ``totp`` between the password
    and the code, ``in`` after."""

    __tablename__ = "panel_sessions"
    __table_args__ = (
        Index("ix_panel_sessions_user_id", "user_id"),
        Index("ix_panel_sessions_seen_ms", "seen_ms"),
    )

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(8))
    created_ms: Mapped[int] = mapped_column(BigInteger)
    seen_ms: Mapped[int] = mapped_column(BigInteger)


class LoginFailure(Base):
    """A failed login, by what it counts against (``address:…``, ``user:…``)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_subject_at_ms", "subject", "at_ms"),
        # The sweeper forgets old failures by time.
        Index("ix_login_failures_at_ms", "at_ms"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    at_ms: Mapped[int] = mapped_column(BigInteger)


class ContactGroup(Base):
    __tablename__ = "contact_groups"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Contact(Base):
    """A number in a contact group (normalised, as the API stores recipients), with optional
    name fields."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("group_id", "number"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("contact_groups.id"))
    account_id: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    last_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """A change to an account's keys, webhooks or users: who, what, when."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    # Who: a panel user's email, or ``operator`` for the command line.
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignUpload(Base):
    """A campaign's file as it was uploaded, kept for a day so that any API process can preview
    and start it (the id is random text: it is all a caller needs to name it)."""

    __tablename__ = "campaign_uploads"
    __table_args__ = (Index("ix_campaign_uploads_created_ms", "created_ms"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    file_name: Mapped[str] = mapped_column(String(255))
    bytes: Mapped[bytes] = mapped_column(LargeBinary)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class Campaign(Base):
    """A group sent from a file: its id is the group's, and it keeps where the texts came from."""

    __tablename__ = "campaigns"
    __table_args__ = (Index("ix_campaigns_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(MessageId, primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    file_name: Mapped[str] = mapped_column(String(255))
    template: Mapped[str] = mapped_column(String)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IysSettings(Base):
    """An account's İYS access (the password sealed with the installation's key), whether its
    Advertising sends are checked against its consents, and where its sync stands."""

    __tablename__ = "iys_settings"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(300))
    iys_code: Mapped[str] = mapped_column(String(40))
    brand_code: Mapped[str] = mapped_column(String(40))
    username: Mapped[str] = mapped_column(String(200))
    password: Mapped[str] = mapped_column(String(500))
    # off: consents are kept and synced, sends are not checked; enforce: they are.
    mode: Mapped[str] = mapped_column(String(8))
    # The changes feed's cursor: where the next pull starts.
    changes_after: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)


_LATEST = sql_text("latest")
_CONSENTED = sql_text("latest AND status = 'ONAY'")
_UNSYNCED = sql_text("sync_state = 'pending'")


class ConsentRecord(Base):
    """One İYS record of a brand's consent history for a recipient: the brand's legal proof,
    kept as given. ``latest`` marks the record in force for (brand, recipient type, type,
    recipient); the send check reads only those."""

    __tablename__ = "consents"
    __table_args__ = (
        Index(
            "ix_consents_latest",
            "account_id",
            "brand_code",
            "recipient_type",
            "type",
            "recipient",
            unique=True,
            sqlite_where=_LATEST,
            postgresql_where=_LATEST,
        ),
        # The send check reads this index alone.
        Index(
            "ix_consents_consented",
            "account_id",
            "brand_code",
            "recipient_type",
            "type",
            "recipient",
            sqlite_where=_CONSENTED,
            postgresql_where=_CONSENTED,
        ),
        Index("ix_consents_account_id_id", "account_id", "id"),
        Index("ix_consents_account_id_recipient", "account_id", "recipient"),
        Index(
            "ix_consents_sync",
            "next_sync_ms",
            sqlite_where=_UNSYNCED,
            postgresql_where=_UNSYNCED,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(Integer)
    brand_code: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(20))
    # BIREYSEL | TACIR
    recipient_type: Mapped[str] = mapped_column(String(8))
    # MESAJ | ARAMA | EPOSTA
    type: Mapped[str] = mapped_column(String(8))
    # ONAY | RET
    status: Mapped[str] = mapped_column(String(4))
    source: Mapped[str | None] = mapped_column(String(20), nullable=True)
    consent_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Where the record came from: api, file, panel, sms (a RET reply), iys (a citizen's change).
    origin: Mapped[str] = mapped_column(String(8))
    latest: Mapped[bool] = mapped_column(Boolean)
    # pending (to push), synced (İYS has it), failed (İYS refused it), pulled (İYS's own).
    sync_state: Mapped[str] = mapped_column(String(8))
    sync_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_sync_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    transaction_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
