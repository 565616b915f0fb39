from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import service
from app.auth.deps import StaffCaller
from app.auth.principal import Staff
from app.auth.schemas import Token
from app.core import rows
from app.core.deps import DatabaseDep, SessionDep, SettingsDep
from app.core.errors import Unauthorized, error_responses
from app.core.security import create_access_token
from app.users.models import User
from app.users.schemas import PasswordChange, ProfileUpdate, UserPublic
from app.users.service import to_public

router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses=error_responses(401, 422, 429))
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DatabaseDep, settings: SettingsDep
) -> Token:
    """Exchange an email (`username` field) and password for a short-lived bearer token.

    The same 401 answers an unknown email and a wrong password. After repeated failures the
    account name is locked for a while: 429 with `Retry-After`. While more sign-ins arrive at
    once than the server checks passwords for, the answer is 503 with `Retry-After`."""
    if len(form.username) > 320 or len(form.password) > 128:
        raise Unauthorized(service.BAD_LOGIN)
    user_id, version = await service.authenticate(db, settings, form.username, form.password)
    token, lifetime = create_access_token(settings, user_id, version)
    return Token(access_token=token, expires_in=lifetime)


async def _own_account(session: AsyncSession, caller: Staff) -> User:
    """The caller's account in this request's session, to change it."""
    account = await session.get(User, caller.id, with_for_update=True)
    if account is None:  # removed since the token check
        raise Unauthorized()
    return account


@router.get("/me", responses=error_responses(401, 403))
async def read_me(caller: StaffCaller) -> UserPublic:
    """The signed-in staff member, with their schools and role."""
    return to_public(caller.staff, sorted(caller.school_ids, key=str))


@router.patch("/me", responses=error_responses(401, 403, 422))
async def update_me(body: ProfileUpdate, caller: StaffCaller, session: SessionDep) -> UserPublic:
    """Correct your own given or family name."""
    account = await _own_account(session, caller.staff)
    changes = rows.patch(account, body)
    for key, value in changes.items():
        setattr(account, key, value)
    if changes:
        rows.changed(account)
        await session.flush()
    return to_public(account, sorted(caller.school_ids, key=str))


@router.post("/me/password", responses=error_responses(401, 403, 409, 422, 429))
async def change_password(
    body: PasswordChange, caller: StaffCaller, db: DatabaseDep, settings: SettingsDep
) -> Token:
    """Change your password. Every other session ends; the answer is a fresh token. Wrong
    current passwords count like failed sign-ins: after repeated ones, 429 for a while."""
    version = await service.change_password(
        db, settings, caller.staff.id, body.current_password, body.new_password
    )
    token, lifetime = create_access_token(settings, caller.staff.id, version)
    return Token(access_token=token, expires_in=lifetime)
