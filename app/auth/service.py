"""Login, with failed attempts throttled per account name in the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import LoginThrottle
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import TooManyRequests, Unauthorized
from app.core.security import verify_password_async
from app.users.models import User

BAD_LOGIN = "Incorrect email or password"


async def _locked_for(session: AsyncSession, login: str, now: datetime) -> int:
    row = await session.get(LoginThrottle, login)
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return ceil((row.locked_until - now).total_seconds())


class LoginFailed(Unauthorized):
    persist = True  # the failure count must be kept although the request fails


async def _record_failure(
    session: AsyncSession, settings: Settings, login: str, now: datetime
) -> None:
    """Count one failure atomically (an upsert); the 401 that follows still commits it."""
    bind = session.get_bind()
    ins = (pg_insert if bind.dialect.name == "postgresql" else sqlite_insert)(LoginThrottle)
    stmt = ins.values(login=login, failures=1, window_started_at=now).on_conflict_do_update(
        index_elements=["login"],
        set_={"failures": ins.excluded.failures + LoginThrottle.failures},  # type: ignore[arg-type]
    )
    await session.execute(stmt)
    row = await session.get(LoginThrottle, login, populate_existing=True)
    assert row is not None
    window = timedelta(seconds=settings.login_failure_window_seconds)
    if row.window_started_at + window < now:
        row.failures, row.window_started_at, row.locked_until = 1, now, None
    elif row.failures >= settings.login_max_failures:
        row.locked_until = now + timedelta(seconds=settings.login_lockout_seconds)
        row.failures, row.window_started_at = 0, now
    session.add(row)


async def authenticate(
    session: AsyncSession, settings: Settings, email: str, password: str
) -> User:
    login = email.strip().lower()[:320]
    now = utcnow()
    wait = await _locked_for(session, login, now)
    if wait:
        raise TooManyRequests(
            "Too many failed logins for this account; try again later", retry_after=wait
        )
    user = (await session.execute(select(User).where(User.email == login))).scalar_one_or_none()  # type: ignore[arg-type]
    # Always run one argon2 verification, so unknown and known accounts take the same time.
    ok = await verify_password_async(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        await _record_failure(session, settings, login, now)
        raise LoginFailed(BAD_LOGIN)
    await session.execute(delete(LoginThrottle).where(LoginThrottle.login == login))  # type: ignore[arg-type]
    return user
