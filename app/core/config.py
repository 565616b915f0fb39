"""Settings from environment variables (prefix-free) and an optional `.env` file."""

from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-development-only-secret-key-0123456789"
DEFAULT_DATABASE_URL = "sqlite:///./peercoach.db"


class OidcProvider(BaseModel):
    """One OpenID Connect provider staff sign in with (README, "Single sign-on")."""

    model_config = {"extra": "forbid"}

    # Shown on the sign-in button.
    display_name: str = Field(min_length=1, max_length=80)
    # The issuer exactly as the provider's discovery document names it; the discovery document
    # is read from `{issuer}/.well-known/openid-configuration`.
    issuer: str = Field(pattern=r"^https?://[^?#\s]+$")
    client_id: str = Field(min_length=1)
    client_secret: str = ""
    scopes: str = "openid email profile"
    # The claim that says the provider checked the address (Microsoft Entra ID: `xms_edov`,
    # an optional claim to switch on in the app registration).
    email_verified_claim: str = "email_verified"
    # Where the provider sends the roster's person id (ClassLink, Clever), matched against
    # accounts' `sourced_id` before the email.
    sourced_id_claim: str | None = None
    # Addresses outside these domains are refused (a provider that signs in people of several
    # organisations); empty: any.
    email_domains: list[str] = Field(default_factory=list)

    @property
    def discovery_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEFAULT_SECRET
    access_token_minutes: int = Field(default=30, ge=1, le=24 * 60)
    jwt_issuer: str = "peercoach"
    jwt_audience: str = "peercoach-api"
    # The API's address as clients see it, for the links in answers (`next`); unset: links
    # are relative. Never taken from the request's Host header.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
    # /docs, /redoc and /openapi.json; unset: on in development and test, off in production.
    docs_enabled: bool | None = None
    cors_origins: list[str] = Field(default_factory=list)
    cors_allow_credentials: bool = False
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    db_pool_size: int = Field(default=5, ge=1, le=100)
    db_pool_timeout: float = Field(default=2.0, gt=0, le=60)
    db_connect_timeout: int = Field(default=3, ge=1, le=60)
    db_pool_pre_ping: bool = True
    # How long a worker may keep a signed-in account in memory, kept exact by the database's
    # change signals (app/auth/principal_cache.py); 0 reads it on every request.
    principal_cache_seconds: float = Field(default=60.0, ge=0, le=3600)
    # How many composite documents (a team's summary, its printable form, report rows, feed
    # events) a worker keeps, exact through the database's revision counters
    # (app/core/kept.py); 0 builds every one. And how much they may weigh, in MB of what they
    # serve (their text, their JSON; their memory is a small multiple of it).
    kept_documents: int = Field(default=10_000, ge=0, le=1_000_000)
    kept_documents_mb: float = Field(default=64, gt=0, le=16_384)
    # How often the journal (app/core/journal.py: the confidential-read log, audit events of
    # reads and sign-ins) writes what it gathered; 0: each row is written before the answer.
    read_log_flush_seconds: float = Field(default=0.5, ge=0, le=60)
    sqlite_busy_timeout_ms: int = Field(default=10_000, ge=0)
    # How much of the SQLite file each connection reads through a memory map (PRAGMA
    # mmap_size) instead of copying pages into its own cache: at district scale a read that
    # visits a few hundred rows costs a third as much. 0 turns it off (a file on a network
    # share, where a failing read through the map stops the process).
    sqlite_mmap_bytes: int = Field(default=256 * 1024 * 1024, ge=0)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=300, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)
    # A school administrator learns that an email or roster id belongs to staff outside their
    # schools (POST /users, roster imports) at most this many times a day (then 429).
    staff_lookup_budget: int = Field(default=20, ge=0, le=10_000)
    # argon2 checks and hashes at once per worker, and how many more may wait (then 503).
    password_hash_concurrency: int = Field(default=2, ge=1, le=64)
    password_hash_queue: int = Field(default=32, ge=0, le=10_000)
    # Outgoing email (invitations, password resets), delivered by `peercoach worker`.
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "peercoach <peercoach@localhost>"
    # The front end's address: the links in emails open it (the token in the fragment, which
    # browsers never send to a server, so no log holds it).
    frontend_url: str = Field(default="http://localhost:5173", pattern=r"^https?://[^?#\s]+$")
    invitation_days: int = Field(default=14, ge=1, le=90)
    # Reminders the worker fires: before each event (hours ahead; the day before by default),
    # and to administrators about coverage still pending this many days before its observation.
    reminder_lead_hours: list[int] = Field(default_factory=lambda: [24])
    coverage_pending_days: int = Field(default=3, ge=1, le=30)
    # Single sign-on: providers by name (JSON in OIDC_PROVIDERS), the addresses a sign-in may
    # return to (besides `{frontend_url}/sso/callback` and the docs' OAuth redirect), and
    # whether password sign-in is refused to everyone but the break-glass district
    # administrators named here.
    oidc_providers: dict[str, OidcProvider] = Field(default_factory=dict)
    sso_redirect_uris: list[str] = Field(default_factory=list)
    sso_required: bool = False
    sso_break_glass_emails: list[str] = Field(default_factory=list)
    password_reset_minutes: int = Field(default=60, ge=5, le=24 * 60)
    log_level: str = "INFO"
    # Stopping (app/core/serving.py): after SIGTERM, readiness fails and requests are still
    # served for the drain period; then in-flight requests get the grace period to finish.
    shutdown_drain_seconds: float = Field(default=5.0, ge=0, le=600)
    shutdown_grace_seconds: float = Field(default=30.0, ge=1, le=3600)
    # The event loop `peercoach serve` runs (app/core/serving.py): auto is asyncio's own for
    # one worker and uvloop for several.
    event_loop: Literal["auto", "asyncio", "uvloop"] = "auto"
    # Roster imports: a sync refuses to deactivate more than this share of the active staff of
    # the schools it covers unless forced; schools an org file creates get this time zone.
    roster_sync_max_deactivate_share: float = Field(default=0.2, ge=0, le=1)
    district_time_zone: str = "America/New_York"
    roster_max_unzipped_bytes: int = Field(default=512 * 1024 * 1024, ge=1024)
    # What one import may cost: CSV lines read (blank ones too), staff kept, seconds spent
    # reading, and errors kept in its log (the rest are counted).
    roster_max_lines: int = Field(default=1_000_000, ge=1)
    roster_max_people: int = Field(default=100_000, ge=1)
    roster_max_parse_seconds: float = Field(default=60.0, gt=0)
    roster_max_errors: int = Field(default=100, ge=1, le=10_000)

    @model_validator(mode="after")
    def _refuse_insecure(self) -> "Settings":
        if self.environment != "development" and (
            self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32
        ):
            raise ValueError(
                "SECRET_KEY must be set to a random value of at least 32 characters "
                "outside development (make one with: python -c "
                "'import secrets; print(secrets.token_urlsafe(48))')"
            )
        try:
            ZoneInfo(self.district_time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                "DISTRICT_TIME_ZONE must be an IANA time zone, e.g. America/Chicago"
            ) from exc
        for name in self.oidc_providers:
            if not name.isascii() or not name.replace("-", "").isalnum() or len(name) > 40:
                raise ValueError("OIDC_PROVIDERS names are letters, digits and hyphens")
        if self.oidc_providers and self.public_url is None:
            raise ValueError("PUBLIC_URL must be set for single sign-on (the providers' callback)")
        if self.sso_required and not self.oidc_providers:
            raise ValueError("SSO_REQUIRED needs at least one provider in OIDC_PROVIDERS")
        if "*" in self.cors_origins and self.cors_allow_credentials:
            raise ValueError("CORS_ORIGINS may not contain '*' when CORS_ALLOW_CREDENTIALS is true")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment in ("development", "test")

    @property
    def serves_docs(self) -> bool:
        return self.docs_enabled if self.docs_enabled is not None else self.is_development


@lru_cache
def get_settings() -> Settings:
    return Settings()
