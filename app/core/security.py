"""Password hashing (argon2 via pwdlib), access tokens (PyJWT) and integration-key secrets."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, TypeVar

import anyio.to_thread
import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import Settings
from app.core.errors import ServiceUnavailable

T = TypeVar("T")

JWT_ALGORITHM = "HS256"
_hasher = PasswordHash((Argon2Hasher(),))


@cache
def _dummy_hash() -> str:
    """Verified against when the account does not exist, so a login takes as long either way.
    Made on first use: an argon2 hash at import would slow every worker and CLI start."""
    return _hasher.hash("peercoach-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        _hasher.verify(password, _dummy_hash())
        return False
    try:
        return _hasher.verify(password, hashed)
    except Exception:  # a corrupt stored hash must not become a 500 on login
        return False


class HashingBusy(ServiceUnavailable):
    def __init__(self) -> None:
        super().__init__("Too many sign-ins at once; try again in a moment")


class Hashing:
    """argon2 work off the event loop, at most `limit` at a time per worker, with at most
    `queue` more waiting: a flood of logins (for accounts that exist or not) costs a bounded
    share of the CPU and is answered 503 beyond that, while signed-in users are served."""

    def __init__(self, limit: int = 2, queue: int = 32) -> None:
        self.limit, self.queue = limit, queue
        self._limiters: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, anyio.CapacityLimiter
        ] = weakref.WeakKeyDictionary()

    def configure(self, limit: int, queue: int) -> None:
        self.limit, self.queue = limit, queue
        self._limiters.clear()

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()  # a limiter belongs to one event loop
        limiter = self._limiters.get(loop)
        if limiter is None:
            limiter = self._limiters[loop] = anyio.CapacityLimiter(self.limit)
        return limiter

    def check_capacity(self) -> None:
        """503 now if the queue is full (before a request does anything it would regret)."""
        if self._limiter().statistics().tasks_waiting >= self.queue:
            raise HashingBusy()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        self.check_capacity()
        return await anyio.to_thread.run_sync(fn, *args, limiter=self._limiter())


HASHING = Hashing()


async def hash_password_async(password: str) -> str:
    # argon2 is deliberately slow; keep it off the event loop, bounded.
    return await HASHING.run(hash_password, password)


async def verify_password_async(password: str, hashed: str | None) -> bool:
    return await HASHING.run(verify_password, password, hashed)


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    token_version: int


def create_access_token(
    settings: Settings, user_id: uuid.UUID, token_version: int, *, now: datetime | None = None
) -> tuple[str, int]:
    now = now or datetime.now(UTC)
    lifetime = settings.access_token_minutes * 60
    payload = {
        "sub": str(user_id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=lifetime)).timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "ver": token_version,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(payload, settings.secret_key, algorithm=JWT_ALGORITHM), lifetime


# Tokens already verified, with their expiry: every request of a session presents the same token,
# and PyJWT's parsing and checks cost more than the rest of the token check (about 80 µs on the
# bench machine). The key is the whole token string plus everything verification depends on, so
# a hit means these very bytes passed every check before; expiry is checked again on each hit.
_VERIFIED: dict[tuple[str, str, str, str], tuple[TokenClaims, int]] = {}
_VERIFIED_MAX = 4096


def decode_access_token(settings: Settings, token: str) -> TokenClaims | None:
    """The claims of a valid token, or None for anything else (expired, forged, malformed)."""
    key = (token, settings.secret_key, settings.jwt_audience, settings.jwt_issuer)
    known = _VERIFIED.get(key)
    if known is not None:
        claims, expires = known
        if time.time() < expires:
            return claims
        _VERIFIED.pop(key, None)
        return None
    try:
        payload = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[JWT_ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
        claims = TokenClaims(uuid.UUID(payload["sub"]), int(payload.get("ver", 0)))
        expires = int(payload["exp"])
    except (jwt.PyJWTError, ValueError, TypeError, KeyError, OverflowError):
        return None
    if len(_VERIFIED) >= _VERIFIED_MAX:
        _VERIFIED.pop(next(iter(_VERIFIED)), None)  # the oldest
    _VERIFIED[key] = (claims, expires)
    return claims


# Integration keys: "pck_<prefix>_<secret>". The prefix finds the row; the secret is compared by
# its SHA-256 (the secret is 256 random bits, so a slow hash would add nothing but latency).
KEY_MARKER = "pck_"


def new_integration_key() -> tuple[str, str, str]:
    """Returns (full key shown once, prefix stored in clear, secret hash stored)."""
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    return f"{KEY_MARKER}{prefix}_{secret}", prefix, hash_key_secret(secret)


def hash_key_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_integration_key(token: str) -> tuple[str, str] | None:
    if not token.startswith(KEY_MARKER):
        return None
    prefix, sep, secret = token.removeprefix(KEY_MARKER).partition("_")
    if not sep or len(prefix) != 12 or not secret or len(secret) > 100:
        return None
    return prefix, secret


def key_secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_key_secret(secret), stored_hash)
