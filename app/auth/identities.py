"""The provider accounts a staff account signs in with (single sign-on, `app/auth/sso.py`):
bound at the person's first single sign-on and matched before anything else after it. The
person sees theirs; the administrators who manage them see them and remove one, when the
district's provider replaced the person's account (a new `sub`: it would be refused as
`identity_mismatch`) or it was bound in error."""

from __future__ import annotations

import uuid

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.audit.models import AuditAction
from app.auth.models import SsoIdentity
from app.auth.principal import Principal
from app.core import rows
from app.core.errors import NotFound
from app.core.pagination import PageQuery
from app.users.models import User

ORDER = (col(SsoIdentity.provider), col(SsoIdentity.subject))

_BINDINGS = PageQuery(
    select(col(SsoIdentity.provider), col(SsoIdentity.subject), col(SsoIdentity.bound_at)).where(
        col(SsoIdentity.user_id) == bindparam("user_id")
    ),
    ORDER,
)


def bindings_query(user_id: uuid.UUID) -> tuple[PageQuery, dict[str, uuid.UUID]]:
    """A person's bindings by provider (a list template), with the value of its parameter."""
    return _BINDINGS, {"user_id": user_id}


async def unbind(session: AsyncSession, principal: Principal, user: User, provider: str) -> None:
    """Forget the provider account `user` signs in with at `provider` (404 if none): their
    next single sign-on finds them as a first one does (the roster id, or a verified email
    nobody else set) and binds the account it comes with. Whoever is signed in on the account
    is signed out, since they may have come in with the account just removed."""
    gone = await session.execute(
        delete(SsoIdentity)
        .where(col(SsoIdentity.user_id) == user.id, col(SsoIdentity.provider) == provider)
        .returning(col(SsoIdentity.subject))
    )
    subjects = list(gone.scalars())
    if not subjects:
        raise NotFound("This account has no sign-in bound at that provider")
    user.token_version += 1  # existing tokens stop working at once
    rows.changed(user)
    await audit.record(
        session,
        AuditAction.sso_identity_unbound,
        principal,
        subject_user_id=user.id,
        provider=provider,
        subject=subjects[0],
    )
