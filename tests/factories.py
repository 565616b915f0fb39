"""Small factories writing straight to the test database with a sync session."""

from __future__ import annotations

import itertools
import uuid

from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from app.core.db import utcnow
from app.core.security import hash_password, new_integration_key
from app.integration_keys.models import IntegrationKey
from app.schools.models import School
from app.users.models import Role, SchoolMembership, User

PASSWORD = "correct-horse-battery"
_counter = itertools.count(1)
_PASSWORD_HASH: str | None = None


def password_hash() -> str:
    # argon2 is slow on purpose; hash the shared test password once per process.
    global _PASSWORD_HASH
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


class Factory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def school(
        self, name: str | None = None, time_zone: str = "America/Chicago", **kw: object
    ) -> School:
        n = next(_counter)
        school = School(name=name or f"School {n}", time_zone=time_zone, **kw)  # type: ignore[arg-type]
        with Session(self.engine) as s:
            s.add(school)
            s.commit()
            s.refresh(school)
        return school

    def user(
        self,
        role: Role = Role.teacher,
        schools: list[School] | tuple[School, ...] = (),
        *,
        email: str | None = None,
        given_name: str | None = None,
        family_name: str | None = None,
        is_active: bool = True,
        with_password: bool = True,
        **kw: object,
    ) -> User:
        n = next(_counter)
        user = User(
            email=email or f"user{n}@example.org",
            given_name=given_name or f"Given{n}",
            family_name=family_name or f"Family{n:04d}",
            role=role,
            is_active=is_active,
            password_hash=password_hash() if with_password else None,
            activated_at=utcnow() if with_password else None,
            **kw,  # type: ignore[arg-type]
        )
        with Session(self.engine) as s:
            s.add(user)
            s.flush()
            for school in schools:
                s.add(SchoolMembership(user_id=user.id, school_id=school.id))
            s.commit()
            s.refresh(user)
        return user

    def integration_key(self, scopes: str, *, revoked: bool = False) -> tuple[IntegrationKey, str]:
        from app.core.db import utcnow

        full, prefix, secret_hash = new_integration_key()
        key = IntegrationKey(
            name=f"key {next(_counter)}",
            prefix=prefix,
            secret_hash=secret_hash,
            scopes=scopes,
            revoked_at=utcnow() if revoked else None,
        )
        with Session(self.engine) as s:
            s.add(key)
            s.commit()
            s.refresh(key)
        return key, full

    def get(self, model: type, ident: uuid.UUID) -> object:
        with Session(self.engine) as s:
            return s.get(model, ident)

    def set(self, row: SQLModel, **values: object) -> None:
        """Change stored columns of a row (and the given object)."""
        with Session(self.engine) as s:
            stored = s.get(type(row), row.id)  # type: ignore[attr-defined]
            for key, value in values.items():
                setattr(stored, key, value)
                setattr(row, key, value)
            s.commit()
