"""Links to set a password: an administrator's invitation of a new account, a reset asked for
by the person ("forgot my password") or by an administrator. Each is a single-use, expiring
token, emailed through the outbox (never sent from the request) and stored only as a hash;
using it sets the password, ends every other session and signs the person in."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.audit.models import AuditAction
from app.auth import policies as auth_policies
from app.auth.principal import Principal, caller_values
from app.auth.service import PasswordsOff
from app.auth.throttle import Throttle, login_key, password_reset_key
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.errors import Conflict, Unprocessable
from app.core.security import HASHING, hash_password_async
from app.invitations import policies
from app.invitations.models import AccountToken, TokenPurpose
from app.invitations.schemas import (
    BulkInvitationCreate,
    BulkInvitationResult,
    InvitationPublic,
    PasswordLinkPublic,
)
from app.mail import outbox
from app.rosters.models import RosterImportRow
from app.users.models import SchoolMembership, User

INVALID = "This link is invalid, used or expired: ask for a new one"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _revoke(session: AsyncSession, user_ids: list[uuid.UUID], purpose: TokenPurpose) -> None:
    """The people's open tokens of `purpose` stop working (a few hundred ids per statement)."""
    for start in range(0, len(user_ids), 500):
        await session.execute(
            update(AccountToken)
            .where(
                col(AccountToken.user_id).in_(user_ids[start : start + 500]),
                col(AccountToken.purpose) == purpose,
                col(AccountToken.used_at).is_(None),
                col(AccountToken.revoked_at).is_(None),
            )
            .values(revoked_at=utcnow())
        )


async def _issue(
    session: AsyncSession,
    user: User,
    purpose: TokenPurpose,
    expires_at: datetime,
    created_by_id: uuid.UUID | None,
    *,
    revoked: bool = False,
) -> str:
    """A new token of `purpose` for the person; their earlier open ones of it are revoked
    (`revoked`: the caller did that already, for many people at once)."""
    if not revoked:
        await _revoke(session, [user.id], purpose)
    token = secrets.token_urlsafe(32)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=purpose,
            token_hash=_hash(token),
            expires_at=expires_at,
            created_by_id=created_by_id,
        )
    )
    return token


def _link(settings: Settings, page: str, token: str) -> str:
    # The token rides in the fragment: browsers never send it, so no server log holds it.
    return f"{settings.frontend_url.rstrip('/')}/{page}#token={token}"


async def invite(
    session: AsyncSession, principal: Principal, user: User, settings: Settings
) -> InvitationPublic:
    """A new invitation for the person, emailed with the change (the outbox); inviting again
    revokes the earlier link."""
    if not user.is_active:
        raise Conflict("The account is deactivated; reactivate it first")
    if user.activated_at is not None:
        raise Conflict("The person has already set their password and signs in")
    now = utcnow()
    expires_at = now + timedelta(days=settings.invitation_days)
    token = await _issue(session, user, TokenPurpose.invitation, expires_at, principal.staff.id)
    user.invited_at = now
    session.add(user)
    _invitation_email(session, user, settings, token, expires_at)
    await session.flush()
    await audit.record(session, AuditAction.invitation_sent, principal, subject_user_id=user.id)
    return InvitationPublic(user_id=user.id, invited_at=now, expires_at=expires_at)


def _invitation_email(
    session: AsyncSession, user: User, settings: Settings, token: str, expires_at: datetime
) -> None:
    outbox.enqueue(
        session,
        settings,
        "invitation",
        user.email,
        "You are invited to peercoach",
        f"Hello {user.given_name},\n\nYou are invited to the district's peer coaching program."
        f"\nSet your password and sign in here (the link works once, until "
        f"{expires_at:%d %B %Y}):\n\n{_link(settings, 'activate', token)}\n",
    )


async def invite_many(
    session: AsyncSession, principal: Principal, data: BulkInvitationCreate, settings: Settings
) -> BulkInvitationResult:
    """Invite at once the people asked for (`user_ids`, a school, or everyone the caller
    manages) who may be invited: active, not signing in yet, managed by the caller."""
    if data.user_ids is not None and data.school_id is not None:
        raise Unprocessable.for_field(
            "school_id", "give user_ids or school_id, not both", "conflicting"
        )
    stmt = select(User).where(
        policies.password_link_reach(principal),
        col(User.is_active).is_(True),
        col(User.activated_at).is_(None),
    )
    if data.user_ids is not None:
        stmt = stmt.where(col(User.id).in_(data.user_ids))
    if data.school_id is not None:
        stmt = stmt.where(
            col(User.id).in_(
                select(col(SchoolMembership.user_id)).where(
                    col(SchoolMembership.school_id) == data.school_id
                )
            )
        )
    found = await session.execute(stmt.with_for_update(), caller_values(principal))
    people = list(found.scalars())
    expires_at = await _invite_people(session, principal, people, settings)
    invited = {u.id for u in people}
    skipped = [i for i in dict.fromkeys(data.user_ids or []) if i not in invited]
    return BulkInvitationResult(invited=len(people), expires_at=expires_at, skipped_ids=skipped)


async def _invite_people(
    session: AsyncSession, principal: Principal, people: list[User], settings: Settings
) -> datetime:
    """Invitations for these people (earlier links revoked), emailed through the outbox;
    when the links expire."""
    now = utcnow()
    expires_at = now + timedelta(days=settings.invitation_days)
    by = principal.user.id if principal.user is not None else None  # a roster key: no one
    await _revoke(session, [u.id for u in people], TokenPurpose.invitation)
    for user in people:
        token = await _issue(session, user, TokenPurpose.invitation, expires_at, by, revoked=True)
        user.invited_at = now
        _invitation_email(session, user, settings, token, expires_at)
    await session.flush()
    await audit.record(
        session, AuditAction.invitation_sent, principal, subject_user_ids=[u.id for u in people]
    )
    return expires_at


async def invite_imported(
    session: AsyncSession, principal: Principal, import_id: uuid.UUID, settings: Settings
) -> int:
    """Invite the people a roster import created (`invite_new`), in its transaction: those
    still active and without a password. How many were invited."""
    created = select(col(RosterImportRow.email)).where(
        col(RosterImportRow.import_id) == import_id, col(RosterImportRow.action) == "created"
    )
    found = await session.execute(
        select(User)
        .where(
            col(User.email).in_(created),
            col(User.is_active).is_(True),
            col(User.activated_at).is_(None),
        )
        .with_for_update()
    )
    people = list(found.scalars())
    await _invite_people(session, principal, people, settings)
    return len(people)


def _reset_email(session: AsyncSession, user: User, settings: Settings, token: str) -> None:
    outbox.enqueue(
        session,
        settings,
        "password_reset",
        user.email,
        "Set a new peercoach password",
        f"Hello {user.given_name},\n\nSomeone asked to set a new password for your peercoach "
        f"account. If it was you, set it here within {settings.password_reset_minutes} "
        f"minutes (the link works once):\n\n{_link(settings, 'reset-password', token)}\n\n"
        "If it was not you, do nothing: your password stays as it is.\n",
    )


async def request_reset(
    db: Database, settings: Settings, email: str, origin: dict[str, str | None]
) -> None:
    """ "Forgot my password": the same answer whoever asks; if the email is an active account's,
    a reset link is emailed. Asking is throttled per address like sign-ins."""
    async with db.session() as session:
        session.info.update(origin)
        await Throttle.from_settings(settings).reserve(
            session, password_reset_key(email), "password reset requests"
        )
        found = await session.execute(
            select(User).where(col(User.email) == login_key(email)).with_for_update()
        )
        user = found.scalar_one_or_none()
        if (
            user is None
            or not user.is_active
            or not user.email_confirmed
            or not auth_policies.may_use_password(settings, user.email, user.role)
        ):
            return  # the same answer: nothing says why
        expires_at = utcnow() + timedelta(minutes=settings.password_reset_minutes)
        token = await _issue(session, user, TokenPurpose.password_reset, expires_at, None)
        _reset_email(session, user, settings, token)
        await audit.record(
            session,
            AuditAction.password_reset_sent,
            None,
            subject_user_id=user.id,
            asked_by="the person",
        )


async def reset_for(
    session: AsyncSession, principal: Principal, user: User, settings: Settings
) -> PasswordLinkPublic:
    """An administrator sends the person a reset link (they never see or set the password)."""
    if not user.is_active:
        raise Conflict("The account is deactivated; reactivate it first")
    if not auth_policies.may_use_password(settings, user.email, user.role):
        raise Conflict("The district signs in with single sign-on: this person has no password")
    if not user.email_confirmed:
        raise Conflict(
            "The account's email was changed by someone else since the person last set their "
            "password: no reset link goes to it until they sign in and change their password"
        )
    expires_at = utcnow() + timedelta(minutes=settings.password_reset_minutes)
    token = await _issue(session, user, TokenPurpose.password_reset, expires_at, principal.staff.id)
    _reset_email(session, user, settings, token)
    await session.flush()
    await audit.record(
        session,
        AuditAction.password_reset_sent,
        principal,
        subject_user_id=user.id,
        asked_by="an administrator",
    )
    return PasswordLinkPublic(user_id=user.id, expires_at=expires_at)


async def redeem(
    db: Database,
    settings: Settings,
    purpose: TokenPurpose,
    token: str,
    password: str,
    origin: dict[str, str | None],
) -> tuple[uuid.UUID, int]:
    """Set the password of the person the token of `purpose` was made for, and use the token
    up; every other session of theirs ends. (user id, token version) for their access token.
    A token that is not a live one of `purpose`: the same 422, whatever is wrong with it."""
    HASHING.check_capacity()
    new_hash = await hash_password_async(password)  # slow: before any transaction
    async with db.session() as session:
        session.info.update(origin)
        found = await session.execute(
            select(AccountToken, User)
            .join(User, col(User.id) == AccountToken.user_id)
            .where(col(AccountToken.token_hash) == _hash(token))
            .with_for_update()
        )
        row = found.first()
        now = utcnow()
        if (
            row is None
            or row[0].purpose != purpose
            or row[0].used_at is not None
            or row[0].revoked_at is not None
            or row[0].expires_at <= now
            or not row[1].is_active
        ):
            raise Unprocessable.for_field("token", INVALID, "invalid_token")
        grant, user = row
        if not auth_policies.may_use_password(settings, user.email, user.role):
            raise PasswordsOff()  # the link stays unused: single sign-on is the way in
        grant.used_at = now
        user.password_hash = new_hash
        user.activated_at = user.activated_at or now
        user.email_confirmed = True  # the link reached them at this address
        user.roster_id_confirmed = True
        user.token_version += 1
        user.updated_at = now
        session.add_all([grant, user])
        await audit.record(
            session,
            AuditAction.account_activated
            if purpose == TokenPurpose.invitation
            else AuditAction.password_reset_completed,
            None,
            actor_id=user.id,
            subject_user_id=user.id,
        )
    return user.id, user.token_version
