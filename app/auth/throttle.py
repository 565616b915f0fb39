"""Guessing passwords, throttled per key (a login name, an account's password change), in the
database so every worker and host agrees.

An attempt is counted *before* the password is checked, in a short transaction of its own that
locks the key's row: parallel guesses cannot all pass the check before any of them is counted,
and no transaction (or SQLite's write lock) is held while argon2 runs. A success clears the
count; `max_attempts` attempts without one lock the key for `lockout` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from math import ceil

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import LoginThrottle
from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import TooManyRequests


class AttemptsExhausted(TooManyRequests):
    persist = True  # the lock it sets must be kept although the request is refused


@dataclass(frozen=True)
class Throttle:
    max_attempts: int
    window: timedelta
    lockout: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> Throttle:
        return cls(
            settings.login_max_failures,
            timedelta(seconds=settings.login_failure_window_seconds),
            timedelta(seconds=settings.login_lockout_seconds),
        )

    async def reserve(self, session: AsyncSession, key: str, what: str) -> None:
        """Count one attempt for `key`, or refuse it (429) while the key is locked."""
        await self.spend(session, key, 1, what)

    async def check(self, session: AsyncSession, key: str, what: str) -> None:
        """429 while the key is locked; counts nothing."""
        now = utcnow()
        row = await session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None and row.locked_until > now:
            raise TooManyRequests(_wait_message(what), retry_after=_seconds(row.locked_until, now))

    async def spend(self, session: AsyncSession, key: str, amount: int, what: str) -> None:
        """Count `amount` attempts at once (a roster naming several people): 429 while the key
        is locked, and 429 with the key locked for `lockout` (kept although the request fails)
        when they would pass `max_attempts` in the window."""
        now = utcnow()
        row = await self._row(session, key, now)
        if row.locked_until is not None and row.locked_until > now:
            raise TooManyRequests(_wait_message(what), retry_after=_seconds(row.locked_until, now))
        if row.locked_until is not None or row.window_started_at + self.window < now:
            row.failures, row.window_started_at, row.locked_until = 0, now, None
        row.failures += amount
        if row.failures > self.max_attempts:
            row.failures, row.window_started_at = 0, now
            row.locked_until = now + self.lockout
            await session.flush()
            raise AttemptsExhausted(
                _wait_message(what), retry_after=_seconds(row.locked_until, now)
            )
        await session.flush()

    @staticmethod
    async def _row(session: AsyncSession, key: str, now: datetime) -> LoginThrottle:
        dialect = session.get_bind().dialect.name
        ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(LoginThrottle)
        await session.execute(
            ins.values(login=key, failures=0, window_started_at=now).on_conflict_do_nothing()
        )
        return (
            await session.execute(
                select(LoginThrottle).where(col(LoginThrottle.login) == key).with_for_update()
            )
        ).scalar_one()

    @staticmethod
    async def clear(session: AsyncSession, key: str) -> None:
        await session.execute(delete(LoginThrottle).where(col(LoginThrottle.login) == key))


def _seconds(until: datetime, now: datetime) -> int:
    return ceil((until - now).total_seconds())


def _wait_message(what: str) -> str:
    return f"Too many failed {what}; try again later"


def login_key(email: str) -> str:
    return email.strip().lower()[:320]


def password_reset_key(email: str) -> str:
    return f"password-reset:{login_key(email)}"[:320]


def password_change_key(user_id: object) -> str:
    return f"password-change:{user_id}"


def staff_lookup_key(user_id: object) -> str:
    return f"staff-lookup:{user_id}"


STAFF_LOOKUPS = "lookups of other schools' staff"


def staff_lookups(budget: int) -> Throttle:
    """How many times a day a caller who manages some schools only may be told that an email
    or roster id belongs to staff outside them (users.service, rosters.service). Once it is
    spent, everything that could tell (creating staff, changing an email, importing) answers
    429 until the next day, whatever the answer would have been."""
    day = timedelta(days=1)
    return Throttle(budget, day, day)
