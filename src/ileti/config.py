"""Settings from the environment (prefix ``ILETI_``) or a ``.env`` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path('ileti-data') / 'ileti.db'}"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ILETI_", env_file=".env", extra="ignore")

    # Storage: a SQLite file by default; a postgresql+asyncpg:// URL for scale-out.
    database_url: str = _default_database_url()
    # PostgreSQL only: the schema to use (search_path), e.g. one per environment.
    database_schema: str | None = None
    # SQLite only: FULL (survives a power cut) or NORMAL (survives a crash; faster commits).
    sqlite_synchronous: str = "FULL"
    # PostgreSQL only: how often the worker checks whether its tables need an ANALYZE or a
    # VACUUM, and runs what is due (0: leave it all to the server's autovacuum).
    database_upkeep_seconds: float = 10.0
    # Shared per-key rate limits when several API processes run.
    redis_url: str | None = None
    # Prefix of every Redis key, so several gateways can share one Redis.
    redis_namespace: str = "ileti"

    # Keys.
    default_per_minute: int = 3000
    # Verified keys are cached this long; a revocation is seen within this time.
    key_cache_seconds: float = 1.0

    # Requests.
    max_body_bytes: int = 1_048_576
    # Proxies in front of the API (comma-separated addresses or CIDRs). X-Forwarded-For is
    # believed only from these; the caller is its rightmost address that is none of them.
    trusted_proxies: str = ""
    # A request's head larger than this is refused (431) before more of it is read.
    max_header_bytes: int = 16_384
    # A request whose head has not all arrived this long after it began, or whose body brings
    # nothing new for this long, is cut (408); a new connection must start a request within it.
    stall_seconds: float = 15.0
    # Connections one client address (an IPv6 client's /64) may hold open (more are refused at
    # once, 503); loopback and the trusted proxies, which carry other clients' connections, are
    # not bound. 0: no bound.
    connections_per_address: int = 256

    # Messages.
    max_segments: int = 10
    # When sends have been waiting this long to be stored (the database cannot keep up), new
    # ones are refused at once, TS-1051 with Retry-After, until the wait is shorter: an answer
    # in milliseconds that says "retry", rather than one after tens of seconds. 0: never.
    overload_seconds: float = 2.0
    # KVKK: a message's text (an OTP's masked text too) is emptied this many days after it was
    # created, once it is final; its number, state, counts and charges stay (0: keep texts).
    retention_days: int = 180

    # Campaign files (Excel to SMS): the upload's size, an xlsx's size once unzipped (a zip
    # bomb is refused before it is expanded), rows and columns read, and how long an upload
    # is kept for its preview and start.
    campaign_max_bytes: int = 50 * 1024 * 1024
    campaign_max_uncompressed_bytes: int = 500 * 1024 * 1024
    campaign_max_rows: int = 1_000_000
    campaign_max_columns: int = 200
    campaign_upload_hours: float = 24.0

    # Carriers: a TOML file of carriers and routes; without one, the built-in SMSC simulator.
    carriers_file: Path | None = None
    # The built-in simulator's SMPP port (0: any free port on loopback).
    simulator_port: int = 0
    dispatch_loops: int = 4
    dispatch_batch: int = 500

    # Webhooks. Receivers on loopback, link-local and private addresses are refused unless
    # this is set (a customer must not make the gateway call its own internal network).
    webhook_allow_private: bool = False
    webhook_timeout: float = 10.0
    # Deliveries in flight per worker, and to one receiver URL (one that takes 3 s over one
    # answer in twenty needs about 75 in flight to take 500 events a second).
    webhook_concurrency: int = 2048
    webhook_per_receiver: int = 128
    # After a secret rotation, the previous secret keeps signing this long.
    webhook_grace_hours: float = 24.0

    # OTP abuse limits per account and hour: to one number, and to one destination country
    # (0: no ceiling). Attempts a code gets before it is spent.
    otp_per_number_hour: int = 5
    otp_per_country_hour: int = 1000
    otp_attempts: int = 5
    # Keys the OTP code hashes. Unset: a key derived from the secret key below.
    otp_secret: SecretStr | None = None

    # Secrets at rest. The installation's secret key (at least 32 characters) seals webhook
    # secrets in the database and keys the OTP code hashes, so that a copy of the database
    # alone recovers neither. Unset: a key file made once in the data directory (mode 0600);
    # set the same value for every process that shares a database.
    secret_key: SecretStr | None = None
    # Where the installation keeps its files (the key file, the demo key). Unset: the SQLite
    # file's directory, or ileti-data/ in the working directory on PostgreSQL.
    data_dir: Path | None = None

    # ``ileti serve``: API processes beside the worker's, sharing the port (0: the API and the
    # worker share one process and one event loop). Unset: 1 on a machine with more than one
    # core, so that background work never delays a request, else 0.
    api_processes: int | None = None

    # On SIGTERM or Ctrl-C, how long the API may finish its requests and the worker the batches
    # its carriers hold; what is still out then is claimed again once its lease runs out.
    shutdown_seconds: float = 30.0

    # The panel: every user must enrol a second factor (TOTP) before anything else.
    panel_require_totp: bool = False
    # A panel session ends after this long without a request.
    panel_idle_minutes: float = 30.0

    # İYS: how often the worker reads citizens' consent changes from İYS (records added here
    # are pushed within seconds).
    iys_sync_seconds: float = 900.0

    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
