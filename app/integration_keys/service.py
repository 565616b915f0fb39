import functools

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.audit import service as audit
from app.audit.models import AuditAction
from app.auth.principal import Principal
from app.core.db import columns_of, table_of, utcnow
from app.core.pagination import PageQuery
from app.core.security import new_integration_key
from app.integration_keys.models import IntegrationKey
from app.integration_keys.schemas import (
    IntegrationKeyCreate,
    IntegrationKeyCreated,
    IntegrationKeyPublic,
)

# What IntegrationKeyPublic shows of the table: never the secret's hash.
PUBLIC_COLUMNS = [
    c for c in table_of(IntegrationKey).columns if c.key in IntegrationKeyPublic.model_fields
]


def to_public(key: IntegrationKey) -> IntegrationKeyPublic:
    return IntegrationKeyPublic.model_validate(columns_of(key))


@functools.cache
def list_query(include_revoked: bool) -> PageQuery:
    """The keys, newest first (built once each way)."""
    stmt = select(*PUBLIC_COLUMNS)
    if not include_revoked:
        stmt = stmt.where(col(IntegrationKey.revoked_at).is_(None))
    order = (col(IntegrationKey.created_at).desc(), IntegrationKey.id)
    return PageQuery(stmt, order)


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
        expires_at=data.expires_at,
    )
    session.add(key)
    await session.flush()
    await audit.record(
        session,
        AuditAction.integration_key_created,
        principal,
        object_id=key.id,
        name=key.name,
        scopes=key.scopes,
    )
    return IntegrationKeyCreated(**to_public(key).model_dump(), key=full)


async def revoke(session: AsyncSession, principal: Principal, key: IntegrationKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.add(key)
        await session.flush()
        await audit.record(
            session, AuditAction.integration_key_revoked, principal, object_id=key.id, name=key.name
        )
