"""Invitations: an administrator invites a person, who sets their password with the emailed
single-use token and is signed in."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.errors import Conflict, Unprocessable
from app.core.security import HASHING, hash_password_async
from app.invitations.models import AccountToken, TokenPurpose
from app.invitations.schemas import InvitationPublic
from app.mail import outbox
from app.users.models import User

INVALID = "This link is invalid, used or expired: ask your administrator for a new invitation"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
    await session.execute(
        update(AccountToken)
        .where(
            col(AccountToken.user_id) == user.id,
            col(AccountToken.purpose) == TokenPurpose.invitation,
            col(AccountToken.used_at).is_(None),
            col(AccountToken.revoked_at).is_(None),
        )
        .values(revoked_at=now)
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=settings.invitation_days)
    session.add(
        AccountToken(
            user_id=user.id,
            purpose=TokenPurpose.invitation,
            token_hash=_hash(token),
            expires_at=expires_at,
            created_by_id=principal.staff.id,
        )
    )
    user.invited_at = now
    session.add(user)
    link = f"{settings.frontend_url.rstrip('/')}/activate#token={token}"
    outbox.enqueue(
        session,
        "invitation",
        user.email,
        "You are invited to peercoach",
        f"Hello {user.given_name},\n\nYou are invited to the district's peer coaching program."
        f"\nSet your password and sign in here (the link works once, until "
        f"{expires_at:%d %B %Y}):\n\n{link}\n",
    )
    await session.flush()
    return InvitationPublic(user_id=user.id, invited_at=now, expires_at=expires_at)


async def activate(db: Database, token: str, password: str) -> tuple[uuid.UUID, int]:
    """Set the password of the invited person and use up the token; (user id, token version)
    for their access token. Any token that is not a live invitation: the same 422."""
    HASHING.check_capacity()
    new_hash = await hash_password_async(password)  # slow: before any transaction
    async with db.session() as session:
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
            or row[0].purpose != TokenPurpose.invitation
            or row[0].used_at is not None
            or row[0].revoked_at is not None
            or row[0].expires_at <= now
            or not row[1].is_active
        ):
            raise Unprocessable.for_field("token", INVALID, "invalid_token")
        grant, user = row
        grant.used_at = now
        user.password_hash = new_hash
        user.activated_at = now
        user.token_version += 1
        user.updated_at = now
        session.add_all([grant, user])
    return user.id, user.token_version
