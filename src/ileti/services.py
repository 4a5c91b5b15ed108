"""The services of one process, made once and shared by every door in it."""

from __future__ import annotations

from dataclasses import dataclass

from ileti.access.authenticator import Authenticator
from ileti.access.logins import Logins
from ileti.access.ratelimit import RequestLimiter
from ileti.accounts.accounts import Accounts
from ileti.accounts.audit import Audit
from ileti.accounts.keys import Keys
from ileti.accounts.prices import Prices
from ileti.accounts.resellers import Resellers
from ileti.accounts.transfers import Transfers
from ileti.accounts.users import Users
from ileti.accounts.webhooks import Webhooks
from ileti.campaigns.service import Campaigns
from ileti.compliance.blacklist import Blacklist
from ileti.compliance.consents import Consents
from ileti.compliance.contacts import Contacts
from ileti.compliance.privacy import Privacy
from ileti.config import Settings
from ileti.domain.clock import SYSTEM_CLOCK, Clock
from ileti.reporting.reports import Reports
from ileti.sending.otp import Otps
from ileti.sending.service import Sending
from ileti.store.db import Database
from ileti.store.keyring import Keyring
from ileti.wakeups import Wakeups


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    # Rung when new work is queued, so that in-process workers start on it at once.
    wakeups: Wakeups
    # The installation's secret key: seals webhook secrets, keys OTP code hashes.
    keyring: Keyring
    access: Authenticator
    sending: Sending
    otps: Otps
    reports: Reports
    blacklist: Blacklist
    accounts: Accounts
    keys: Keys
    prices: Prices
    webhooks: Webhooks
    users: Users
    # Who is using the panel: passwords, TOTP codes, sessions.
    logins: Logins
    contacts: Contacts
    audit: Audit
    # Excel to SMS: files of customers made into personalised group sends.
    campaigns: Campaigns
    # KVKK: what is kept about a phone number, exported or erased.
    privacy: Privacy
    # İYS: the brand's consent records, which Advertising sends are checked against.
    consents: Consents
    # Credits moved between resellers and their customers.
    transfers: Transfers
    # Resellers' customer accounts: made, listed, suspended, priced, their usage.
    resellers: Resellers

    @classmethod
    def create(cls, settings: Settings, db: Database, clock: Clock = SYSTEM_CLOCK) -> Services:
        wakeups = Wakeups()
        keyring = Keyring.from_settings(settings)
        sending = Sending(db, settings, clock=clock, wakeups=wakeups)
        access = Authenticator(
            db,
            RequestLimiter(settings.redis_url, settings.redis_namespace),
            default_per_minute=settings.default_per_minute,
            cache_seconds=settings.key_cache_seconds,
            clock=clock,
        )
        accounts, keys, users = Accounts(db, clock), Keys(db, clock), Users(db, clock)
        return cls(
            settings=settings,
            db=db,
            clock=clock,
            wakeups=wakeups,
            keyring=keyring,
            access=access,
            sending=sending,
            otps=Otps(sending, settings, keyring),
            reports=Reports(db, clock),
            blacklist=Blacklist(db, clock),
            accounts=accounts,
            keys=keys,
            prices=Prices(db, clock),
            webhooks=Webhooks(
                db,
                allow_private=settings.webhook_allow_private,
                clock=clock,
                wakeups=wakeups,
                keyring=keyring,
            ),
            users=users,
            logins=Logins(
                db,
                keyring,
                require_totp=settings.panel_require_totp,
                idle_minutes=settings.panel_idle_minutes,
                clock=clock,
            ),
            contacts=Contacts(db, clock),
            audit=Audit(db, clock),
            campaigns=Campaigns(db, settings, sending, clock=clock),
            privacy=Privacy(db, keyring, clock),
            consents=Consents(db, keyring, clock),
            transfers=Transfers(db, clock),
            resellers=Resellers(db, accounts, keys, users, clock),
        )
