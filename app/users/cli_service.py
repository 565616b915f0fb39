"""`peercoach create-user`: the same rules as `POST /users`, run by the operator."""

from __future__ import annotations

import contextlib
import uuid

from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlmodel import col

from app.auth.principal import Principal
from app.core.config import Settings
from app.core.db import Database
from app.core.errors import ProblemError
from app.schools.models import School
from app.users import service
from app.users.schemas import UserCreate


class CliError(Exception):
    pass


async def create_user_from_cli(
    settings: Settings,
    email: str,
    given_name: str,
    family_name: str,
    role: str,
    schools: list[str],
    password: str,
) -> uuid.UUID:
    db = Database(settings)
    try:
        async with db.session() as session:
            school_ids = []
            for ref in schools:
                conds = [col(School.name) == ref]
                with contextlib.suppress(ValueError):
                    conds.append(col(School.id) == uuid.UUID(ref))
                found = (
                    await session.execute(select(col(School.id)).where(or_(*conds)))
                ).scalar_one_or_none()
                if found is None:
                    raise CliError(f"no school named or with id {ref!r}")
                school_ids.append(found)
            try:
                data = UserCreate(
                    email=email,
                    given_name=given_name,
                    family_name=family_name,
                    role=role,
                    school_ids=school_ids,
                    password=password,
                )
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise CliError(problems) from exc
            try:
                created = await service.create(session, settings, Principal(system=True), data)
            except ProblemError as exc:
                raise CliError(exc.detail or exc.title) from exc
            return created.id
    finally:
        await db.dispose()
