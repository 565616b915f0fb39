"""Authentication and role checks as typed dependencies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlmodel import col

from app.auth.principal import Principal, Scope
from app.auth.principal_cache import PrincipalCache
from app.auth.sso import Providers
from app.core.db import Database, table_of, utcnow
from app.core.drivers import Driver
from app.core.errors import Forbidden, Unauthorized
from app.core.journal import Journal
from app.core.security import decode_access_token, key_secret_matches, split_integration_key
from app.integration_keys.models import IntegrationKey
from app.users.models import Role

# The Authorization header carries either a staff access token or an integration key. Neither
# scheme is a dependency: the check (`require`) reads the header itself, through the login
# scheme's own parsing (`oauth2_scheme`), and app/openapi.py names both schemes on the operations
# whose checks take them (`admits_keys`), so the /docs Authorize button still logs in with a
# password. Each dependency FastAPI solves costs every request about 6 us (bench/README.md).
STAFF_SCHEME_NAME = "StaffLogin"
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name=STAFF_SCHEME_NAME
)
KEY_SCHEME_NAME = "IntegrationKey"
KEY_SCHEME = {
    "type": "http",
    "scheme": "bearer",
    "description": "An integration key (`pck_...`) created by a district administrator",
}
ADMITS_KEYS = "admits_keys"


def admits_keys(call: Any) -> bool | None:
    """Whether an authenticating dependency accepts integration keys, for the OpenAPI document
    (None: not one of ours)."""
    return getattr(call, ADMITS_KEYS, None)


# The token check runs on every request, so its statements are built once, compiled once (fixed
# statements, compiled.py) and run on the read path (drivers.py).
_KEY_BY_PREFIX = select(*table_of(IntegrationKey).columns).where(
    col(IntegrationKey.prefix) == bindparam("prefix")
)


# Integration keys' `last_used_at` is kept to the minute: at most one write a minute per key.
LAST_USE_GRANULARITY = timedelta(minutes=1)


async def _principal_for_key(reads: Driver, journal: Journal, token: str) -> Principal:
    parts = split_integration_key(token)
    if parts is None:
        raise Unauthorized()
    prefix, secret = parts
    rows = await reads.rows(_KEY_BY_PREFIX, {"prefix": prefix}, fixed=True)
    if not rows:
        raise Unauthorized()
    key = rows[0]
    expired = key["expires_at"] is not None and key["expires_at"] <= utcnow()
    if key["revoked_at"] is not None or expired:
        raise Unauthorized()
    if not key_secret_matches(secret, key["secret_hash"]):
        raise Unauthorized()
    now = utcnow()
    last = key["last_used_at"]
    if (last is None or now - last >= LAST_USE_GRANULARITY) and not journal.touching(
        IntegrationKey, key["id"]
    ):
        await journal.touch(IntegrationKey, key["id"], last_used_at=now)
    return Principal(key=IntegrationKey(**key), scopes=frozenset(key["scopes"].split()))


async def _authenticate(request: Request, token: str | None) -> Principal:
    """The caller behind the bearer token, read once per request (then kept on its state)."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    if not token:
        raise Unauthorized()
    db: Database = request.app.state.db
    if token.startswith("pck_"):
        principal = await _principal_for_key(db.driver, request.app.state.journal, token)
    else:
        principal = await _principal_for_staff(request, db.driver, token)
    request.state.principal = principal
    request.state.user_id = principal.actor_id
    return principal


async def _principal_for_staff(request: Request, reads: Driver, token: str) -> Principal:
    claims = decode_access_token(request.app.state.settings, token)
    if claims is None:
        raise Unauthorized()
    # Kept exact by the database's change notifications (see principal_cache.py).
    cache: PrincipalCache = request.app.state.principals
    principal = await cache.active_staff(reads, claims.user_id, claims.token_version)
    if principal is None:
        raise Unauthorized()
    return principal


def require(
    *, roles: tuple[Role, ...] = (), scope: Scope | None = None
) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting users with one of `roles` and keys holding `scope`."""

    # Authenticates itself, bearer token included, rather than depending on other dependencies:
    # fewer to solve on every request (FastAPI's dependency solving was a third of a list
    # request's CPU).
    async def check(request: Request) -> Principal:
        principal = await _authenticate(request, await oauth2_scheme(request))
        if principal.key is not None:
            if scope is None:
                raise Forbidden("This is for staff accounts, not integration keys")
            if scope not in principal.scopes:
                raise Forbidden("The integration key lacks the scope this needs")
            return principal
        if principal.role not in roles:
            raise Forbidden("Your role does not allow this")
        return principal

    setattr(check, ADMITS_KEYS, scope is not None)
    return check


# Who may call a route, as typed dependencies (each authenticates by itself).
StaffCaller = Annotated[Principal, Depends(require(roles=tuple(Role)))]  # `.staff` is set
StaffOrReadKey = Annotated[Principal, Depends(require(roles=tuple(Role), scope=Scope.read))]
AdminOrReadKey = Annotated[
    Principal, Depends(require(roles=(Role.school_admin, Role.district_admin), scope=Scope.read))
]
Admin = Annotated[Principal, Depends(require(roles=(Role.school_admin, Role.district_admin)))]
DistrictAdmin = Annotated[Principal, Depends(require(roles=(Role.district_admin,)))]


async def _sso_providers(request: Request) -> Providers:
    # async: FastAPI runs a plain function dependency in a worker thread, a hop per request.
    providers: Providers = request.app.state.sso_providers
    return providers


SsoProviders = Annotated[Providers, Depends(_sso_providers)]
