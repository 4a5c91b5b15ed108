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
    trust_forwarded_for: bool = False

    # Messages.
    max_segments: int = 10

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
    # Deliveries in flight per worker, and to one receiver URL.
    webhook_concurrency: int = 512
    webhook_per_receiver: int = 16
    # After a secret rotation, the previous secret keeps signing this long.
    webhook_grace_hours: float = 24.0

    # OTP abuse limits per account and hour: to one number, and to one destination country
    # (0: no ceiling). Attempts a code gets before it is spent.
    otp_per_number_hour: int = 5
    otp_per_country_hour: int = 1000
    otp_attempts: int = 5
    # Keys the OTP code hashes. Unset: a secret made once and kept in the database.
    otp_secret: SecretStr | None = None

    # On SIGTERM or Ctrl-C, how long the API may finish its requests and the worker the batches
    # its carriers hold; what is still out then is claimed again once its lease runs out.
    shutdown_seconds: float = 30.0

    log_level: str = "INFO"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
