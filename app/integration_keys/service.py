from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal, Scope
from app.core.db import columns_of, utcnow
from app.core.security import new_integration_key
from app.integration_keys.models import IntegrationKey
from app.integration_keys.schemas import (
    IntegrationKeyCreate,
    IntegrationKeyCreated,
    IntegrationKeyPublic,
)


def to_public(key: IntegrationKey | dict[str, Any]) -> IntegrationKeyPublic:
    data = key if isinstance(key, dict) else columns_of(key)
    return IntegrationKeyPublic(
        id=data["id"],
        name=data["name"],
        prefix=data["prefix"],
        scopes=[Scope(s) for s in data["scopes"].split()],
        created_by_id=data["created_by_id"],
        created_at=data["created_at"],
        revoked_at=data["revoked_at"],
    )


def list_statement(include_revoked: bool) -> Select[Any]:
    stmt = select(*IntegrationKey.__table__.columns)  # type: ignore[attr-defined]
    if not include_revoked:
        stmt = stmt.where(IntegrationKey.revoked_at.is_(None))  # type: ignore[union-attr]
    return stmt.order_by(IntegrationKey.created_at.desc(), IntegrationKey.id)  # type: ignore[attr-defined]


async def create(
    session: AsyncSession, principal: Principal, data: IntegrationKeyCreate
) -> IntegrationKeyCreated:
    full, prefix, secret_hash = new_integration_key()
    key = IntegrationKey(
        name=data.name,
        prefix=prefix,
        secret_hash=secret_hash,
        scopes=" ".join(sorted(set(data.scopes))),
        created_by_id=principal.user.id if principal.user else None,
    )
    session.add(key)
    await session.flush()
    return IntegrationKeyCreated(**to_public(key).model_dump(), key=full)


async def revoke(session: AsyncSession, key: IntegrationKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.flush()
