"""Demo data for a newcomer: one district, two schools, their administrators, eight teachers.

Refused outside development mode. Loading twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.core.config import Settings
from app.core.db import Database, utcnow
from app.core.security import hash_password_async
from app.demo.cycle import load_demo_cycle
from app.schools.models import School
from app.users.models import Role, SchoolMembership, User

DEMO_PASSWORD = "peercoach-demo"


@dataclass(frozen=True)
class DemoUser:
    email: str
    given_name: str
    family_name: str
    role: Role
    schools: tuple[str, ...]


SCHOOLS = (
    ("Lincoln Elementary", "America/Chicago", "sch-lincoln"),
    ("Roosevelt Middle School", "America/Chicago", "sch-roosevelt"),
)
LINCOLN, ROOSEVELT = SCHOOLS[0][0], SCHOOLS[1][0]

USERS = (
    DemoUser("district.admin@example.org", "Dana", "Whitfield", Role.district_admin, ()),
    DemoUser("lincoln.admin@example.org", "Luis", "Ortega", Role.school_admin, (LINCOLN,)),
    DemoUser("roosevelt.admin@example.org", "Rachel", "Kim", Role.school_admin, (ROOSEVELT,)),
    DemoUser("ana.alvarez@example.org", "Ana", "Alvarez", Role.teacher, (LINCOLN,)),
    DemoUser("ben.brooks@example.org", "Ben", "Brooks", Role.teacher, (LINCOLN,)),
    DemoUser("carla.chen@example.org", "Carla", "Chen", Role.teacher, (LINCOLN,)),
    DemoUser("david.diallo@example.org", "David", "Diallo", Role.teacher, (LINCOLN, ROOSEVELT)),
    DemoUser("erin.evans@example.org", "Erin", "Evans", Role.teacher, (ROOSEVELT,)),
    DemoUser("farid.farouk@example.org", "Farid", "Farouk", Role.teacher, (ROOSEVELT,)),
    DemoUser("grace.green@example.org", "Grace", "Green", Role.teacher, (ROOSEVELT,)),
    DemoUser("hiro.hayashi@example.org", "Hiro", "Hayashi", Role.teacher, (ROOSEVELT,)),
)


class DemoRefused(Exception):
    pass


async def load_demo_data(session: AsyncSession) -> int:
    """Insert whatever of the demo set is missing; returns how many users were added."""
    schools: dict[str, School] = {}
    for name, tz, sourced in SCHOOLS:
        school = (
            await session.execute(select(School).where(col(School.name) == name))
        ).scalar_one_or_none()
        if school is None:
            school = School(name=name, time_zone=tz, sourced_id=sourced)
            session.add(school)
        schools[name] = school
    await session.flush()

    existing = set((await session.execute(select(func.lower(User.email)))).scalars())
    password_hash = await hash_password_async(DEMO_PASSWORD)
    added = 0
    for demo in USERS:
        if demo.email in existing:
            continue
        user = User(
            email=demo.email,
            given_name=demo.given_name,
            family_name=demo.family_name,
            role=demo.role,
            password_hash=password_hash,
            activated_at=utcnow(),
        )
        session.add(user)
        await session.flush()
        if demo.schools:
            await session.execute(
                insert(SchoolMembership),
                [{"user_id": user.id, "school_id": schools[s].id} for s in demo.schools],
            )
        added += 1
    return added


async def load(settings: Settings) -> int:
    if not settings.is_development:
        raise DemoRefused("Demo data is only loaded in development (ENVIRONMENT=development)")
    db = Database(settings)
    try:
        async with db.session() as session:
            added = await load_demo_data(session)
            await load_demo_cycle(session)
            return added
    finally:
        await db.dispose()


def logins_table() -> list[tuple[str, str, str]]:
    return [(u.email, u.role.value, ", ".join(u.schools) or "(district)") for u in USERS]
