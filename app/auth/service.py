"""Signing in and changing one's password: attempts throttled per key (throttle.py), and the
slow password hashing done outside any transaction."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlmodel import col

from app.auth import policies
from app.auth.throttle import Throttle, login_key, password_change_key
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.errors import Conflict, FieldError, Forbidden, Unauthorized, Unprocessable
from app.core.security import HASHING, hash_password_async, verify_password_async
from app.users.models import User

BAD_LOGIN = "Incorrect email or password"


class PasswordsOff(Forbidden):
    def __init__(self) -> None:
        super().__init__(
            "This district signs in with its own accounts: use the single sign-on button"
        )


async def authenticate(
    db: Database, settings: Settings, email: str, password: str
) -> tuple[uuid.UUID, int]:
    """The account id and token version for a right email and password; 401 otherwise (the
    same for an unknown email), 429 while the name is locked after repeated failures."""
    if not policies.may_be_password_account(settings, email):
        raise PasswordsOff()  # before any work: the same for every address not named
    HASHING.check_capacity()  # refuse a flood before it counts against anyone's name
    key = login_key(email)
    throttle = Throttle.from_settings(settings)
    async with db.session() as session:
        await throttle.reserve(session, key, "sign-ins for this account")
        account = (
            await session.execute(
                select(
                    col(User.id),
                    col(User.password_hash),
                    col(User.is_active),
                    col(User.token_version),
                    col(User.role),
                ).where(col(User.email) == key)
            )
        ).first()
    # The attempt is counted and committed; nothing is held while argon2 runs. One verification
    # always runs, so unknown and known accounts take the same time.
    ok = await verify_password_async(password, account.password_hash if account else None)
    if not ok or account is None or not account.is_active:
        raise Unauthorized(BAD_LOGIN)
    if not policies.may_use_password(settings, email, account.role):
        raise PasswordsOff()  # a break-glass address that is not a district administrator's
    async with db.session() as session:
        await Throttle.clear(session, key)
    return account.id, account.token_version


async def change_password(
    db: Database, settings: Settings, user_id: uuid.UUID, current: str, new: str
) -> int:
    """Check the current password (throttled like sign-ins, per account) and set the new one;
    every other session ends. Returns the new token version."""
    HASHING.check_capacity()
    key = password_change_key(user_id)
    throttle = Throttle.from_settings(settings)
    async with db.session() as session:
        await throttle.reserve(session, key, "password checks")
        account = (
            await session.execute(
                select(col(User.password_hash), col(User.token_version)).where(
                    col(User.id) == user_id
                )
            )
        ).first()
    if account is None:  # removed since the token check
        raise Unauthorized()
    if not await verify_password_async(current, account.password_hash):
        # 422, not 401: the session is valid, only this field is wrong.
        raise Unprocessable(
            "The current password is incorrect",
            errors=[
                FieldError(field="body.current_password", message="incorrect", type="incorrect")
            ],
        )
    new_hash = await hash_password_async(new)
    async with db.session() as session:
        changed = await session.execute(
            update(User)
            .where(col(User.id) == user_id, col(User.token_version) == account.token_version)
            .values(
                password_hash=new_hash,
                token_version=account.token_version + 1,
                email_confirmed=True,  # signed in, they set it: the address is theirs to use
                roster_id_confirmed=True,
                updated_at=utcnow(),
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("Your account changed meanwhile (another password change?); try again")
        await Throttle.clear(session, key)
    return account.token_version + 1
