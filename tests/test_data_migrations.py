"""Migrations that move data keep what was written: rows inserted at the revision before, read
after the upgrade, on both engines."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.db import sync_url
from app.core.migrations import upgrade
from tests.conftest import make_database_url
from tests.dbsetup import drop_postgres_database

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)


@pytest.fixture
def scratch_url(tmp_path):
    url = make_database_url(tmp_path, "peercoach_data_migrations")
    yield url
    if url.startswith("postgresql"):
        drop_postgres_database(url)


def _type(value):
    if isinstance(value, uuid.UUID):
        return sa.Uuid()
    if isinstance(value, datetime):
        return sa.DateTime(timezone=True)
    return None


def insert(conn, table_name, /, **values):
    """Insert a row (an `id` made up unless given; `id=None`: a table without one)."""
    values.setdefault("id", uuid.uuid4())
    if values["id"] is None:
        del values["id"]
    table = sa.table(table_name, *(sa.column(k, _type(v)) for k, v in values.items()))
    conn.execute(table.insert().values(**values))
    return values.get("id")


def stamps(at=T0):
    return {"created_at": at, "updated_at": at}


def user(conn, n):
    return insert(
        conn, "user_account", email=f"t{n}@example.org", given_name="T", family_name=str(n),
        role="teacher", is_active=True, token_version=0, **stamps(),
    )  # fmt: skip


def test_0022_one_learning_target_keeps_every_target_written(scratch_url):
    upgrade(scratch_url, "0021")
    engine = sa.create_engine(sync_url(scratch_url))
    with engine.begin() as conn:
        author = user(conn, 1)

        def team(name, target, plan_target, *agreed):
            tid = insert(
                conn, "team", name=name, school_year="2026-2027", learning_target=target,
                **stamps(),
            )  # fmt: skip
            insert(
                conn, "action_plan", team_id=tid, status="draft", version=1,
                learning_target=plan_target, **stamps(),
            )  # fmt: skip
            for i, (value, summary) in enumerate(agreed):
                ev = insert(
                    conn, "event", team_id=tid, kind="pre_conference", starts_at=T0,
                    ends_at=T0 + timedelta(hours=1), status="held", version=1, **stamps(),
                )  # fmt: skip
                insert(
                    conn, "conference_record", event_id=ev, team_id=tid, author_id=author,
                    version=1, learning_target_agreed=value, summary=summary,
                    **stamps(T0 + timedelta(days=i)),
                )  # fmt: skip
            return tid

        from_team = team("from team", "Team's", None)
        from_record = team("from record", "Team's", None, ("Older", None), ("Agreed", "talk"))
        kept = team("kept", "Team's", "Plan's", ("Plan's", "same"), ("Drifted", "we talked"))
    upgrade(scratch_url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT team_id, learning_target FROM action_plan"))
        plans = {uuid.UUID(str(tid)): target for tid, target in found}
        summaries = sorted(
            s for (s,) in conn.execute(sa.text("SELECT summary FROM conference_record")).all() if s
        )
        versions = sorted(v for (v,) in conn.execute(sa.text("SELECT version FROM action_plan")))
    engine.dispose()

    assert [plans[from_team], plans[from_record], plans[kept]] == ["Team's", "Agreed", "Plan's"]
    # The plan that kept its target did not change; the two that took one did.
    assert versions == [1, 2, 2]
    # What a record agreed and the plan does not say is kept at the head of its summary.
    assert summaries == [
        "Learning target agreed: Drifted\n\nwe talked",
        "Learning target agreed: Older",
        "same",
        "talk",
    ]


def test_0024_the_plans_shared_answers_become_each_teachers_first_answers(scratch_url):
    upgrade(scratch_url, "0023")
    engine = sa.create_engine(sync_url(scratch_url))
    with engine.begin() as conn:
        t1, t2 = user(conn, 1), user(conn, 2)
        admin = insert(
            conn, "user_account", email="a@example.org", given_name="A", family_name="A",
            role="school_admin", is_active=True, token_version=0, **stamps(),
        )  # fmt: skip
        answered = insert(conn, "team", name="answered", school_year="2026-2027", **stamps())
        blank = insert(conn, "team", name="blank", school_year="2026-2027", **stamps())
        for tid in (answered, blank):
            for person in (t1, t2, admin):  # a member since promoted writes no form
                insert(conn, "team_member", id=None, team_id=tid, user_id=person, joined_at=T0)
        insert(
            conn, "action_plan", team_id=answered, status="approved", version=3,
            take_back_to_classroom="Groups", how_to_apply="Daily", **stamps(),
        )  # fmt: skip
        insert(conn, "action_plan", team_id=blank, status="draft", version=1, **stamps())
    upgrade(scratch_url)
    with engine.connect() as conn:
        forms = conn.execute(
            sa.text(
                "SELECT team_id, teacher_id, take_back_to_classroom, how_to_apply,"
                " addressing_open_questions, version FROM learning_form"
            )
        ).all()
    engine.dispose()
    got = sorted((uuid.UUID(str(f[0])), uuid.UUID(str(f[1])), *f[2:]) for f in forms)
    assert got == sorted((answered, teacher, "Groups", "Daily", None, 1) for teacher in (t1, t2))
