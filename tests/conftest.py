"""Test harness.

`TEST_DATABASE` picks the engine: `sqlite` (default) or `postgres` (on the server named by
`TEST_POSTGRES_URL`). The schema is built by running the migrations; every test starts from
empty tables, and requests go through the app's real session and commit path.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine

from app.core.config import Settings
from app.core.db import sync_url
from app.core.security import create_access_token
from app.main import create_app
from app.users.models import Role, User
from tests.dbsetup import (
    PostgresUnavailable,
    drop_postgres_database,
    fresh_postgres_url,
    fresh_sqlite_url,
    migrated,
    truncate_all,
)
from tests.factories import Factory

ENGINE = os.environ.get("TEST_DATABASE", "sqlite")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_report_header() -> str:
    return f"peercoach test database: {ENGINE}"


def make_database_url(tmp_dir: Path, name: str) -> str:
    if ENGINE == "sqlite":
        return fresh_sqlite_url(tmp_dir, name)
    if ENGINE == "postgres":
        server = os.environ.get("TEST_POSTGRES_URL")
        if not server:
            pytest.exit("TEST_DATABASE=postgres needs TEST_POSTGRES_URL", returncode=2)
        try:
            return fresh_postgres_url(server, name)
        except PostgresUnavailable as exc:
            # In CI the PostgreSQL run is mandatory: fail loudly, never skip.
            pytest.exit(f"PostgreSQL is unreachable: {exc}", returncode=3)
    pytest.exit(f"unknown TEST_DATABASE={ENGINE!r} (sqlite or postgres)", returncode=2)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = migrated(make_database_url(tmp_path_factory.getbasetemp(), "peercoach_test"))
    yield url
    if ENGINE == "postgres":
        drop_postgres_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        secret_key="test-secret-key-that-is-long-enough-0123456789",
        cors_origins=["https://app.example.org"],
        max_body_bytes=64 * 1024,
        log_level="WARNING",
        read_log_flush_seconds=0,  # each read's log entry is written before it answers
    )


@pytest.fixture(scope="session")
def sync_engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(sync_url(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture(scope="session")
def session_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def client(session_client: TestClient, sync_engine: Engine) -> Iterator[TestClient]:
    session_client.headers.clear()
    session_client.cookies.clear()
    yield session_client
    truncate_all(sync_engine)


@pytest.fixture
def factory(sync_engine: Engine, client: TestClient) -> Factory:
    return Factory(sync_engine)


@pytest.fixture
def token_for(settings: Settings) -> Callable[[User], str]:
    def make(user: User) -> str:
        return create_access_token(settings, user.id, user.token_version)[0]

    return make


@pytest.fixture
def auth(token_for: Callable[[User], str]) -> Callable[[User | str | None], dict[str, str]]:
    """Headers for a caller: a user, a raw integration key string, or None (anonymous)."""

    def headers(who: User | str | None) -> dict[str, str]:
        if who is None:
            return {}
        if isinstance(who, str):
            return {"Authorization": f"Bearer {who}"}
        return {"Authorization": f"Bearer {token_for(who)}"}

    return headers


class World:
    """A district with two schools, admins for each, teachers and keys: every kind of caller."""

    def __init__(self, f: Factory) -> None:
        self.school_a = f.school("Alpha School")
        self.school_b = f.school("Beta School", time_zone="America/New_York")
        self.district_admin = f.user(Role.district_admin, email="district@example.org")
        self.admin_a = f.user(Role.school_admin, [self.school_a], email="admin.a@example.org")
        self.admin_b = f.user(Role.school_admin, [self.school_b], email="admin.b@example.org")
        self.teacher_a = f.user(Role.teacher, [self.school_a], email="teacher.a@example.org")
        self.teacher_a2 = f.user(Role.teacher, [self.school_a], email="teacher.a2@example.org")
        self.teacher_b = f.user(Role.teacher, [self.school_b], email="teacher.b@example.org")
        _, self.read_key = f.integration_key("read")
        _, self.roster_key = f.integration_key("roster:write")

    def caller(self, name: str) -> User | str | None:
        return {
            "anonymous": None,
            "teacher": self.teacher_a,
            "other_teacher": self.teacher_b,
            "school_admin": self.admin_a,
            "other_school_admin": self.admin_b,
            "district_admin": self.district_admin,
            "read_key": self.read_key,
            "roster_key": self.roster_key,
        }[name]


@pytest.fixture
def world(factory: Factory) -> World:
    return World(factory)
