"""Helpers for roster import tests: uploads (one file, several, a zip) and what is stored."""

from __future__ import annotations

import io
import zipfile

import pytest
from sqlmodel import Session, select

from app.core.config import get_settings
from app.schools.models import School
from app.users.models import SchoolMembership, User


def upload(client, headers, content, name="staff.csv", **form):
    """POST one file (bytes), or several ({name: bytes}) as repeated `file` parts."""
    data = {k: str(v).lower() if isinstance(v, bool) else v for k, v in form.items()}
    if isinstance(content, dict):
        files = [("file", (n, c, "text/csv")) for n, c in content.items()]
    else:
        files = [("file", (name, content, "text/csv"))]
    return client.post("/api/v1/roster-imports", headers=headers, files=files, data=data)


def zipped(members: dict[str, bytes | str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def users(sync_engine) -> dict[str, User]:
    with Session(sync_engine) as s:
        return {u.email: u for u in s.exec(select(User)).all()}


def schools_of(sync_engine, email: str) -> set[str]:
    """The names of the schools a person belongs to."""
    with Session(sync_engine) as s:
        rows = s.exec(
            select(School.name)
            .join(SchoolMembership, SchoolMembership.school_id == School.id)
            .join(User, User.id == SchoolMembership.user_id)
            .where(User.email == email)
        ).all()
    return set(rows)


def school_by_name(sync_engine, name: str) -> School | None:
    with Session(sync_engine) as s:
        return s.exec(select(School).where(School.name == name)).first()


def counts(body: dict) -> tuple[int, ...]:
    keys = ("created", "updated", "unchanged", "deactivated", "skipped")
    return tuple(body[k] for k in keys)


@pytest.fixture
def cli_env(monkeypatch, database_url, client):
    """The `peercoach` command pointed at the test database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
