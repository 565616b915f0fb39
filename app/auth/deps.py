"""Authentication and role checks as typed dependencies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, OAuth2PasswordBearer
from sqlalchemy import select

from app.auth.principal import Principal, Scope
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Forbidden, Unauthorized
from app.core.security import decode_access_token, key_secret_matches, split_integration_key
from app.integration_keys.models import IntegrationKey
from app.users.models import Role, SchoolMembership, User

# Two schemes read the same Authorization header; declaring both documents both in OpenAPI
# (and lets the /docs Authorize button log in with a password).
oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token", auto_error=False, scheme_name="StaffLogin"
)
key_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="IntegrationKey",
    description="An integration key (`pck_...`) created by a district administrator",
)


async def _principal_for_key(session: SessionDep, token: str) -> Principal:
    parts = split_integration_key(token)
    if parts is None:
        raise Unauthorized()
    prefix, secret = parts
    key = (
        await session.execute(select(IntegrationKey).where(IntegrationKey.prefix == prefix))  # type: ignore[arg-type]
    ).scalar_one_or_none()
    if key is None or key.revoked_at is not None or not key_secret_matches(secret, key.secret_hash):
        raise Unauthorized()
    return Principal(key=key, scopes=frozenset(key.scopes.split()))


async def get_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
    _key: Annotated[HTTPAuthorizationCredentials | None, Depends(key_scheme)],
) -> Principal:
    if not token:
        raise Unauthorized()
    if token.startswith("pck_"):
        principal = await _principal_for_key(session, token)
        request.state.user_id = principal.actor_id
        return principal
    claims = decode_access_token(settings, token)
    if claims is None:
        raise Unauthorized()
    rows = (
        await session.execute(
            select(User, SchoolMembership.school_id)  # type: ignore[call-overload]
            .outerjoin(SchoolMembership, SchoolMembership.user_id == User.id)
            .where(User.id == claims.user_id)
        )
    ).all()
    if not rows:
        raise Unauthorized()
    user: User = rows[0][0]
    if not user.is_active or user.token_version != claims.token_version:
        raise Unauthorized()
    request.state.user_id = str(user.id)
    return Principal(user=user, school_ids=frozenset(r[1] for r in rows if r[1] is not None))


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal) -> User:
    if principal.user is None:
        raise Forbidden("This endpoint is for staff accounts, not integration keys")
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require(
    *, roles: tuple[Role, ...] = (), scope: Scope | None = None
) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency admitting users with one of `roles` and keys holding `scope`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if principal.key is not None:
            if scope is None or scope not in principal.scopes:
                raise Forbidden("The integration key lacks the scope this needs")
            return principal
        if principal.role not in roles:
            raise Forbidden("Your role does not allow this")
        return principal

    return check


AnyReader = Annotated[Principal, Depends(require(roles=tuple(Role), scope=Scope.read))]
AdminReader = Annotated[
    Principal, Depends(require(roles=(Role.school_admin, Role.district_admin), scope=Scope.read))
]
AdminUser = Annotated[Principal, Depends(require(roles=(Role.school_admin, Role.district_admin)))]
DistrictAdmin = Annotated[Principal, Depends(require(roles=(Role.district_admin,)))]
