"""Single sign-on with the district's OpenID Connect providers (README, "Single sign-on").

The API plays two parts:
- to the provider, an OpenID Connect client (authorization code with PKCE, state and nonce):
  Authlib reads the discovery document and the signing keys, exchanges the code and checks the
  ID token; this module only says which claims must hold;
- to the front end (a single-page app, or /docs), an OAuth 2.0 authorization server with one
  grant: the front end sends the browser to `authorize` with its own state and PKCE challenge,
  the browser comes back to the front end's redirect URI with a one-time code, and the front
  end exchanges that code and its verifier at `/sso/token` for the same access token the
  password sign-in gives. No access token ever travels in a URL; the code is worthless without
  the verifier and lives a minute.

A sign-in never creates an account and never changes a role: it finds an existing active
account, by the roster's person id where the provider sends one, else by a verified email.
What is under way is stored (`SsoSignIn`), so any worker or host finishes what another began.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.starlette_client import OAuth, StarletteOAuth2App
from authlib.oauth2.client import OAuth2Client
from joserfc.errors import ClaimError, JoseError
from sqlalchemy import any_, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import SsoIdentity, SsoSignIn
from app.core.config import OidcProvider, Settings
from app.core.db import Database, UTCDateTime, utcnow
from app.core.errors import (
    BadRequest,
    FieldError,
    Forbidden,
    NotFound,
    ProblemError,
    ServiceUnavailable,
    Unauthorized,
)
from app.core.writes import Writes, new_row
from app.users.models import User

API_PREFIX = "/api/v1"
SIGN_IN_MINUTES = 10  # from the redirect to the provider until its answer
CODE_SECONDS = 60  # from the front end's redirect until it exchanges the code
# Clock difference allowed between the provider and us when checking `exp` and `iat`.
LEEWAY_SECONDS = 30
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest, unpadded
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 section 4.1


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _refused(kind: type[ProblemError], field: str, code: str, message: str) -> ProblemError:
    """A problem document naming what was refused (`errors[0].type` is the machine code)."""
    error = kind(message)
    error.errors = [FieldError(field=field, message=message, type=code)]
    return error


class ProviderUnavailable(ServiceUnavailable):
    def __init__(self, name: str) -> None:
        super().__init__(f"The sign-in provider '{name}' did not answer; try again shortly")


# Options of the provider's HTTP client (`Providers`), not of the OAuth 2.0 client's URLs.
_HTTP_OPTIONS = frozenset({"timeout", "verify"})


class Providers:
    """Authlib clients for the configured providers, made once per app: each keeps the
    provider's discovery document and signing keys once read (new keys are fetched when a token
    names one it does not know)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._oauth = OAuth()
        # Per provider: the discovery document and the URL-only client made from it.
        self._writers: dict[str, tuple[dict[str, Any], OAuth2Client]] = {}
        # Authlib opens an HTTP client per call (one per sign-in started); each would load the
        # system's certificate authorities again (about 50 ms). One TLS context serves them all.
        tls = httpx2.create_ssl_context()
        for name, provider in settings.oidc_providers.items():
            self._oauth.register(
                name,
                client_id=provider.client_id,
                client_secret=provider.client_secret or None,
                server_metadata_url=provider.discovery_url,
                client_kwargs={
                    "scope": provider.scopes,
                    "code_challenge_method": "S256",
                    "timeout": 10.0,
                    "verify": tls,
                    # A confidential client sends its secret in the body or the header as the
                    # provider's discovery document prefers; public clients rely on PKCE alone.
                    "token_endpoint_auth_method": (
                        "client_secret_post" if provider.client_secret else "none"
                    ),
                },
            )

    async def authorization_url(
        self, name: str, *, state: str, nonce: str, code_verifier: str
    ) -> str:
        """The provider's authorization URL for a sign-in, as Authlib's
        `create_authorization_url` writes it, with the sign-in's own state, nonce and PKCE
        verifier. Authlib would open an HTTP client for it (reading the process's proxy
        settings from the environment each time: a third of starting a sign-in) and only
        write a URL with it; the URL is written by Authlib's client logic without one, kept
        per provider with the discovery document it was made from. Raises what loading the
        document raises (httpx2.HTTPError), ValueError when it names no authorization
        endpoint."""
        _, app = self.get(name)
        metadata = await app.load_server_metadata()
        endpoint = metadata.get("authorization_endpoint")
        if not endpoint:
            raise ValueError(f"{name}'s discovery document names no authorization_endpoint")
        kept = self._writers.get(name)
        if kept is None or kept[0] is not metadata:
            options = {k: v for k, v in app.client_kwargs.items() if k not in _HTTP_OPTIONS}
            writer = OAuth2Client(
                None,  # no session: it only writes URLs
                client_id=app.client_id,
                client_secret=app.client_secret,
                redirect_uri=callback_url(self.settings, name),
                **{**options, **metadata},
            )
            kept = self._writers[name] = (metadata, writer)
        params = {**(app.authorize_params or {}), "nonce": nonce}
        url, _ = kept[1].create_authorization_url(
            endpoint, state=state, code_verifier=code_verifier, **params
        )
        return str(url)

    def get(self, name: str) -> tuple[OidcProvider, StarletteOAuth2App]:
        provider = self.settings.oidc_providers.get(name)
        if provider is None:
            raise NotFound("No sign-in provider of that name is configured")
        client = self._oauth.create_client(name)
        assert isinstance(client, StarletteOAuth2App)
        return provider, client


def callback_url(settings: Settings, name: str) -> str:
    """Where the provider sends the browser back: register it with the provider."""
    assert settings.public_url is not None  # settings refuse providers without it
    return f"{settings.public_url.rstrip('/')}{API_PREFIX}/sso/{name}/callback"


def redirect_uris(settings: Settings) -> set[str]:
    """The front-end addresses a sign-in may return to, exactly as written."""
    uris = {settings.frontend_url.rstrip("/") + "/sso/callback", *settings.sso_redirect_uris}
    if settings.serves_docs and settings.public_url:
        uris.add(settings.public_url.rstrip("/") + "/docs/oauth2-redirect")
    return uris


async def start(
    db: Database,
    providers: Providers,
    name: str,
    *,
    redirect_uri: str,
    state: str | None,
    code_challenge: str,
    code_challenge_method: str,
) -> str:
    """Record a sign-in and answer the provider's authorization URL to send the browser to."""
    providers.get(name)  # 404 for a provider that is not configured
    if redirect_uri not in redirect_uris(providers.settings):
        raise _refused(
            BadRequest,
            "query.redirect_uri",
            "unregistered",
            "This redirect_uri is not one the district registered (SSO_REDIRECT_URIS)",
        )
    if code_challenge_method != "S256":
        raise _refused(
            BadRequest, "query.code_challenge_method", "unsupported", "Only S256 is supported"
        )
    if not _CHALLENGE.fullmatch(code_challenge):
        raise _refused(
            BadRequest,
            "query.code_challenge",
            "invalid",
            "code_challenge must be the unpadded base64url SHA-256 of the verifier",
        )
    # In place of Authlib's own (`generate_token`: 30, 20 and 48 letters and digits, a call of
    # SystemRandom per letter): at least as many random bits, from one call each.
    # (`state` is the front end's: the provider is sent one of ours.)
    ours, nonce, verifier = (secrets.token_urlsafe(n) for n in (24, 16, 48))
    try:
        url = await providers.authorization_url(
            name, state=ours, nonce=nonce, code_verifier=verifier
        )
    except (httpx2.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(name) from exc
    signing_in = new_row(
        SsoSignIn,
        provider=name,
        state_hash=_hash(ours),
        nonce=nonce,
        code_verifier=verifier,
        redirect_uri=redirect_uri,
        client_state=state,
        code_challenge=code_challenge,
        expires_at=utcnow() + timedelta(minutes=SIGN_IN_MINUTES),
    )
    # One INSERT, sent with BEGIN and COMMIT (one round trip on PostgreSQL). Sign-ins nobody
    # finished are forgotten by the worker (`forget_expired`), not here.
    async with Writes(db).transaction() as tx:
        await tx.insert(SsoSignIn, signing_in)
    return url


# Expired sign-ins one statement of `forget_expired` deletes at most: short transactions,
# however many a rush left behind.
FORGET_AT_ONCE = 1000


# Expired sign-ins, oldest first in the order of the index on `expires_at`. Rows another
# worker is deleting are skipped, not waited for (PostgreSQL's SKIP LOCKED; SQLite has one
# writer anyway): workers on several hosts never queue behind each other.
_EXPIRED = (
    select(col(SsoSignIn.id))
    .where(col(SsoSignIn.expires_at) < bindparam("now", type_=UTCDateTime))
    .order_by(col(SsoSignIn.expires_at))
    .limit(FORGET_AT_ONCE)
    .with_for_update(skip_locked=True)
)
# PostgreSQL: the ids gathered once into an array (an InitPlan), then deleted through the
# primary key. As `id IN (subquery)` the plan follows the table's statistics: ones gathered
# while the table was small or empty (a rush of sign-ins before autovacuum looks) made the
# planner walk every sign-in and probe the subquery for each (and, the LIMITed subquery read
# again, delete more than FORGET_AT_ONCE rows); as an array, at worst one pass over the
# table, at most FORGET_AT_ONCE rows, and through the indexes once the statistics are current.
_FORGET_UNFINISHED = {
    "postgresql": delete(SsoSignIn).where(
        col(SsoSignIn.id) == any_(func.array(_EXPIRED.scalar_subquery()))
    ),
    "sqlite": delete(SsoSignIn).where(col(SsoSignIn.id).in_(_EXPIRED)),
}


async def forget_expired(db: Database) -> int:
    """Delete the sign-ins nobody finished in time (each is refused once expired, deleted or
    not), FORGET_AT_ONCE at a time, each batch its own transaction; how many went. The mail
    worker calls it with the reminders, about once a minute (`app.mail.worker.run`): a start
    no longer pays for it (on PostgreSQL the DELETE took 0.65 ms of the server's time a start
    in the bench, on statistics autovacuum had not refreshed)."""
    forgotten = 0
    while True:
        async with db.session() as session:
            connection = await session.connection()
            found = await connection.execute(_FORGET_UNFINISHED[db.backend], {"now": utcnow()})
        forgotten += found.rowcount
        if found.rowcount < FORGET_AT_ONCE:
            return forgotten


@dataclass(frozen=True)
class ProviderAnswer:
    code: str | None
    state: str | None
    error: str | None
    error_description: str | None


async def finish(db: Database, providers: Providers, name: str, answer: ProviderAnswer) -> str:
    """Check the provider's answer and the account it names; answer the front-end URL (with a
    one-time code and the front end's state) to send the browser to."""
    provider, client = providers.get(name)
    if answer.error:
        # The person declined or the provider failed: nothing to check, the sign-in is over.
        if answer.state:
            with contextlib.suppress(ProblemError):
                await _take_attempt(db, name, answer.state)
        reason = re.sub(r"[^a-z_]", "", answer.error.lower())[:40] or "provider_error"
        raise _refused(
            Unauthorized, "query.error", reason, f"The provider did not sign you in ({reason})"
        )
    if not answer.state:
        raise _refused(BadRequest, "query.state", "missing", "The provider's answer has no state")
    attempt = await _take_attempt(db, name, answer.state)
    code = secrets.token_urlsafe(32)
    try:
        if not answer.code:
            raise _refused(BadRequest, "query.code", "missing", "The provider's answer has no code")
        claims = await _id_token_claims(
            providers.settings, client, provider, name, attempt, answer.code
        )
        async with db.session() as session:
            account = await _account_for(session, name, provider, claims)
            row = await session.get(SsoSignIn, attempt.id, with_for_update=True)
            if row is None:  # removed meanwhile (expired and swept)
                raise _state_refused()
            row.code_hash = _hash(code)
            row.user_id = account.id
            row.token_version = account.token_version
            row.expires_at = utcnow() + timedelta(seconds=CODE_SECONDS)
            if account.activated_at is None:
                account.activated_at = utcnow()  # they have signed in: the account is in use
    except BaseException:
        with contextlib.suppress(Exception):  # swept when it expires if this fails too
            async with db.session() as session:
                await session.execute(delete(SsoSignIn).where(col(SsoSignIn.id) == attempt.id))
        raise
    params = {"code": code}
    if attempt.client_state is not None:
        params["state"] = attempt.client_state
    separator = "&" if "?" in attempt.redirect_uri else "?"
    return f"{attempt.redirect_uri}{separator}{urlencode(params)}"


def _state_refused() -> Exception:
    return _refused(
        BadRequest,
        "query.state",
        "invalid_state",
        "This sign-in is unknown, already used or expired: start again",
    )


@dataclass(frozen=True)
class _Attempt:
    id: uuid.UUID
    nonce: str
    code_verifier: str
    redirect_uri: str
    client_state: str | None


async def _take_attempt(db: Database, name: str, state: str) -> _Attempt:
    """The sign-in this answer belongs to, used up in its own committed transaction before
    anything else happens: a replayed answer (even a parallel one) finds nothing."""
    async with db.session() as session:
        row = (
            await session.execute(
                update(SsoSignIn)
                .where(col(SsoSignIn.state_hash) == _hash(state), col(SsoSignIn.provider) == name)
                .values(state_hash=None)
                .returning(
                    col(SsoSignIn.id),
                    col(SsoSignIn.nonce),
                    col(SsoSignIn.code_verifier),
                    col(SsoSignIn.redirect_uri),
                    col(SsoSignIn.client_state),
                    col(SsoSignIn.expires_at),
                )
            )
        ).first()
    if row is None or row.expires_at <= utcnow():
        raise _state_refused()
    return _Attempt(row.id, row.nonce, row.code_verifier, row.redirect_uri, row.client_state)


async def _id_token_claims(
    settings: Settings,
    client: StarletteOAuth2App,
    provider: OidcProvider,
    name: str,
    attempt: _Attempt,
    code: str,
) -> dict[str, Any]:
    try:
        token = await client.fetch_access_token(
            redirect_uri=callback_url(settings, name),
            code=code,
            code_verifier=attempt.code_verifier,
        )
    except OAuthError as exc:
        raise _refused(
            Unauthorized,
            "query.code",
            "code_refused",
            f"The provider refused the sign-in code ({exc.error})",
        ) from exc
    except (httpx2.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(name) from exc
    if "id_token" not in token:
        raise _refused(
            Unauthorized, "id_token", "missing", "The provider sent no ID token (scope openid?)"
        )
    metadata = await client.load_server_metadata()
    options: dict[str, Any] = {
        "iss": {"essential": True, "values": [metadata.get("issuer", provider.issuer)]},
        "aud": {"essential": True, "values": [provider.client_id]},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    try:
        claims = await client.parse_id_token(
            token, nonce=attempt.nonce, claims_options=options, leeway=LEEWAY_SECONDS
        )
    except ClaimError as exc:
        raise _refused(
            Unauthorized,
            f"id_token.{exc.claim}",
            exc.error,
            f"The provider's ID token was refused: {exc.error.replace('_', ' ')} ({exc.claim})",
        ) from exc
    except JoseError as exc:
        raise _refused(
            Unauthorized,
            "id_token",
            exc.error,
            f"The provider's ID token was refused: {exc.error.replace('_', ' ')}",
        ) from exc
    except (httpx2.HTTPError, ValueError) as exc:
        raise ProviderUnavailable(name) from exc
    if "nonce" not in claims:  # Authlib checks a nonce that is there; it must be there
        raise _refused(Unauthorized, "id_token.nonce", "missing_claim", "The ID token has no nonce")
    return dict(claims)


async def _account_for(
    session: AsyncSession, name: str, provider: OidcProvider, claims: dict[str, Any]
) -> User:
    """The active account the ID token names, locked for the update, found in this order:
    1. the provider account bound to it at an earlier sign-in (`sub`), whatever the email says;
    2. the roster's person id, where the provider sends it, unless someone else changed the
       account's roster id since the person last proved it (`roster_id_confirmed`);
    3. a verified email in an allowed domain, for an account not yet bound to another account
       of this provider, and whose address no one else has changed since the person last
       proved it (`email_confirmed`): otherwise an administrator who points a teacher's email
       at an address of their own would sign in as the teacher.
    The provider account is bound at the first sign-in."""
    subject = str(claims["sub"])[:255]
    account = (
        await session.execute(
            select(User)
            .join(SsoIdentity, col(SsoIdentity.user_id) == col(User.id))
            .where(col(SsoIdentity.provider) == name, col(SsoIdentity.subject) == subject)
            .with_for_update()
        )
    ).scalar_one_or_none()
    # Whether to bind the token's provider account: not when it is bound already, nor when the
    # account found is bound to another one of this provider (kept, not replaced).
    bind = account is None
    sourced_id = claims.get(provider.sourced_id_claim) if provider.sourced_id_claim else None
    if account is None and isinstance(sourced_id, str) and sourced_id:
        account = (
            await session.execute(
                select(User).where(col(User.sourced_id) == sourced_id).with_for_update()
            )
        ).scalar_one_or_none()
        if account is not None and not account.roster_id_confirmed:
            raise _refused(
                Forbidden,
                "account",
                "roster_id_unconfirmed",
                "Someone other than you changed this account's roster id: until you confirm it "
                "(sign in with your password and change it), it does not sign in by roster id",
            )
        if account is not None:
            bind = not await _bound_elsewhere(session, name, account.id)
    if account is None:
        # Refused when bound to another provider account, so it is free to bind.
        account = await _account_by_email(session, name, provider, claims)
    if not account.is_active:
        raise _refused(Forbidden, "account", "deactivated", "This account is deactivated")
    if bind:
        session.add(
            SsoIdentity(provider=name, subject=subject, user_id=account.id, bound_at=utcnow())
        )
    return account


async def _bound_elsewhere(session: AsyncSession, name: str, user_id: uuid.UUID) -> bool:
    """Whether the account is bound to an account of this provider (another one than the
    token's, when the caller found none for the token)."""
    found = await session.execute(
        select(col(SsoIdentity.subject)).where(
            col(SsoIdentity.provider) == name, col(SsoIdentity.user_id) == user_id
        )
    )
    return found.first() is not None


async def _account_by_email(
    session: AsyncSession, name: str, provider: OidcProvider, claims: dict[str, Any]
) -> User:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise _refused(
            Forbidden, "id_token.email", "missing_claim", "The provider sent no email address"
        )
    if claims.get(provider.email_verified_claim) not in (True, "true"):
        raise _refused(
            Forbidden,
            f"id_token.{provider.email_verified_claim}",
            "email_unverified",
            "The provider has not verified this email address",
        )
    domain = email.rsplit("@", 1)[1].lower()
    if provider.email_domains and domain not in {d.lower() for d in provider.email_domains}:
        raise _refused(
            Forbidden,
            "id_token.email",
            "domain_not_allowed",
            "This address is outside the district's domains",
        )
    account = (
        await session.execute(
            select(User).where(col(User.email) == email.lower()).with_for_update()
        )
    ).scalar_one_or_none()
    if account is None:
        raise _refused(
            Forbidden,
            "account",
            "no_account",
            "No peercoach account belongs to this sign-in: ask your administrator",
        )
    if await _bound_elsewhere(session, name, account.id):
        raise _refused(
            Forbidden,
            "account",
            "identity_mismatch",
            "This peercoach account signs in with another account of this provider",
        )
    if not account.email_confirmed:
        raise _refused(
            Forbidden,
            "account",
            "email_unconfirmed",
            "Someone other than you changed this account's email: until you confirm it (sign "
            "in with your password and change it), it does not sign in by email here",
        )
    return account


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _grant_refused(message: str) -> Exception:
    return _refused(BadRequest, "body.code", "invalid_grant", message)


async def exchange(
    db: Database, *, grant_type: str, code: str, redirect_uri: str, code_verifier: str
) -> tuple[Any, int, str]:
    """The account, token version and provider of the sign-in a one-time code completes. The
    code is used up by any attempt, right or wrong, so a stolen one cannot be tried against
    verifiers."""
    if grant_type != "authorization_code":
        raise _refused(
            BadRequest,
            "body.grant_type",
            "unsupported_grant_type",
            "Only the authorization_code grant is supported",
        )
    if not _VERIFIER.fullmatch(code_verifier):
        raise _refused(
            BadRequest, "body.code_verifier", "invalid", "code_verifier must be 43-128 characters"
        )
    async with db.session() as session:
        attempt = (
            await session.execute(
                delete(SsoSignIn)
                .where(col(SsoSignIn.code_hash) == _hash(code))
                .returning(
                    col(SsoSignIn.provider),
                    col(SsoSignIn.user_id),
                    col(SsoSignIn.token_version),
                    col(SsoSignIn.redirect_uri),
                    col(SsoSignIn.code_challenge),
                    col(SsoSignIn.expires_at),
                )
            )
        ).first()
    if attempt is None or attempt.expires_at <= utcnow():
        raise _grant_refused("This code is unknown, used or expired: sign in again")
    if attempt.redirect_uri != redirect_uri:
        raise _grant_refused("redirect_uri differs from the one the sign-in began with")
    if not secrets.compare_digest(_s256(code_verifier), attempt.code_challenge):
        raise _grant_refused("code_verifier does not match the code_challenge")
    async with db.session() as session:
        account = (
            await session.execute(
                select(col(User.is_active), col(User.token_version)).where(
                    col(User.id) == attempt.user_id
                )
            )
        ).first()
    if account is None or not account.is_active or account.token_version != attempt.token_version:
        raise _grant_refused("The account changed since the sign-in: sign in again")
    return attempt.user_id, attempt.token_version, attempt.provider
