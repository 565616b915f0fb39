"""A district-sized database for the benchmarks (bench/district.py).

Staff arrive the way a district's do, through `peercoach import-roster` (a plain CSV of
`BENCH_STAFF` people in `BENCH_SCHOOLS` schools). The coaching program is then written straight
into the tables, `BENCH_TEAMS` teams each with a whole cycle: an approved plan with its history,
a pre-conference, four observations (each teacher observes the other twice), a post-conference
and a year-end meeting with their participants, observation and conference records, coverage for
each observation, reflections with comments (and twice as many private posts), a growth record
and each teacher's learning form.
Some teams wait for plan review, some have pending invitations. Around them, what a district
gathers in a year: school years, ten notifications per coaching teacher, an audit trail of
200,000 events (`BENCH_AUDIT_EVENTS`), the teams' read logs, and calendar feeds. One more team
("the writers") is where the write benchmarks add events, records and posts, so they do not
change what the reads see.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select
from sqlmodel import col

from app.audit.models import AuditEvent
from app.auth.models import SsoIdentity
from app.calendar_feeds.models import CalendarFeed
from app.core.db import sync_url
from app.core.security import new_integration_key
from app.coverage.models import CoverageRequest
from app.events.models import Event, EventParticipant
from app.focus_areas.models import FocusArea
from app.growth.models import GrowthRecord
from app.integration_keys.models import IntegrationKey
from app.learning_forms.models import LearningForm
from app.notifications.models import Notification
from app.plans.models import ActionPlan, PlanTransition
from app.read_log.models import ConfidentialRead
from app.records.models import ConferenceRecord, ObservationRecord
from app.reflections.models import Reflection, ReflectionComment
from app.resources.models import Resource, ResourceTag
from app.rosters.models import RosterImport
from app.school_years.models import SchoolYear
from app.schools.models import School
from app.support.models import SupportRequest
from app.teams.models import Team, TeamInvitation, TeamMember
from app.users.models import Role, User

STAFF = int(os.environ.get("BENCH_STAFF", "20000"))
TEAMS = int(os.environ.get("BENCH_TEAMS", "2000"))
SCHOOLS = int(os.environ.get("BENCH_SCHOOLS", "40"))
WRITER_OBSERVATIONS = int(os.environ.get("BENCH_WRITER_OBSERVATIONS", "30000"))
AUDIT_EVENTS = int(os.environ.get("BENCH_AUDIT_EVENTS", "200000"))
ROOT = Path(__file__).resolve().parents[1]
YEAR = "2026-2027"
WRITERS_YEAR = "2020-2021"


@dataclass
class District:
    """Who and what the benchmark asks for."""

    district_admin: str = ""
    school_admin: str = ""
    teacher: str = ""  # a member of `team`
    invitee: str = ""  # a teacher with pending invitations
    team: str = ""
    event: str = ""  # an observation of `team`, with its record
    conference: str = ""  # the pre-conference of `team`, with its record
    year_end: str = ""  # the year-end meeting of `team`, with its growth record
    school_year: str = ""  # the current one
    audited_team: str = ""  # a team whose records the benchmark does not read
    feed_token: str = ""  # the teacher's personal calendar feed
    school_feed_token: str = ""  # the school administrator's feed of their school
    reflection: str = ""
    coverage: str = ""
    support: str = ""
    resource: str = ""
    school: str = ""
    user: str = ""
    roster_import: str = ""
    writer: str = ""  # the writers' team's teacher
    writer_team: str = ""
    writer_observations: list[str] = field(default_factory=list)
    read_key: str = ""


def _roster(path: Path, schools: list[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["email", "given name", "family name", "role", "school", "sourced_id"])
        w.writerow(
            [
                "district.admin@bench.example",
                "Dana",
                "District",
                "district administrator",
                schools[0],
                "D-0",
            ]
        )
        for i in range(STAFF - 1):
            school = schools[i % len(schools)]
            role = "principal" if i < len(schools) else "teacher"
            w.writerow(
                [
                    f"staff{i:05d}@bench.example",
                    f"Given{i % 977}",
                    f"Family{i:05d}",
                    role,
                    school,
                    f"S-{i:05d}",
                ]
            )


NOTIFIED = [
    "plan_approved",
    "event_scheduled",
    "event_scheduled",
    "event_moved",
    "coverage_arranged",
    "reflection_comment",
    "event_reminder",
]
READ_KINDS = ["observation_record", "conference_record", "observation_records", "summary"]
AUDITED = ["sign_in", "sign_in", "sign_in", "confidential_read", "sign_in_failed", "role_changed"]


def _school_years(conn: Any, d: District) -> None:
    have = dict(conn.execute(select(col(SchoolYear.label), col(SchoolYear.id))).all())
    now = datetime.now(UTC)
    for first in (2024, 2025, 2026):
        label = f"{first}-{first + 1}"
        if label not in have:
            have[label] = uuid.uuid4()
            conn.execute(
                insert(SchoolYear),
                [
                    {
                        "id": have[label],
                        "label": label,
                        "starts_on": date(first, 8, 15),
                        "ends_on": date(first + 1, 6, 15),
                        "is_current": first == 2026,
                        "plan_due_on": date(first, 10, 1),
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                ],
            )
    d.school_year = str(have[YEAR])


def _audit_trail(conn: Any, staff: list[uuid.UUID], teams: list[uuid.UUID], stamp: Any) -> None:
    """A year of sign-ins, refusals, reads and account changes, spread over the staff; the
    reads name their teams."""
    rows = [
        {
            "id": uuid.uuid4(),
            "at": stamp(),
            "action": AUDITED[k % len(AUDITED)],
            "actor_id": staff[k * 7 % len(staff)],
            "subject_user_id": staff[k * 7 % len(staff)] if k % 6 == 5 else None,
            "team_id": teams[k % len(teams)] if k % 6 == 3 else None,
            "detail": {"method": "password"} if k % 6 < 3 else {},
            "client": "10.0.0.1",
            "request_id": f"bench-{k}",
        }
        for k in range(AUDIT_EVENTS)
    ]
    for chunk in range(0, len(rows), 5000):
        conn.execute(insert(AuditEvent), rows[chunk : chunk + 5000])


def _sso_bindings(conn: Any, staff: list[uuid.UUID], stamp: Any) -> None:
    """Everyone signed in once through the district's provider (`district`): one binding
    each, as a district that requires single sign-on has after its first week."""
    rows = [
        {"provider": "district", "subject": f"sub-{k:06d}", "user_id": u, "bound_at": stamp()}
        for k, u in enumerate(staff)
    ]
    for chunk in range(0, len(rows), 5000):
        conn.execute(insert(SsoIdentity), rows[chunk : chunk + 5000])


def _feeds(
    conn: Any, d: District, by_school: dict[uuid.UUID, list[Any]], team: uuid.UUID
) -> tuple[str, str]:
    """The teacher's personal and team feeds, the school administrator's, and a personal feed
    for every tenth teacher (secrets are stored as their SHA-256, as the API stores them)."""
    personal, school = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = datetime.now(UTC)

    def feed(owner: Any, kind: str, token: str, team_id: Any = None) -> dict[str, Any]:
        return {
            "id": uuid.uuid4(),
            "owner_id": owner,
            "kind": kind,
            "team_id": team_id,
            "token_hash": hashlib.sha256(token.encode()).hexdigest(),
            "created_at": now,
        }

    rows = [
        feed(uuid.UUID(d.teacher), "personal", personal),
        feed(uuid.UUID(d.teacher), "team", secrets.token_urlsafe(32), team),
        feed(uuid.UUID(d.school_admin), "schools", school),
    ]
    teachers = [t for members in by_school.values() for t in members]
    rows += [feed(t, "personal", secrets.token_urlsafe(32)) for t in teachers[1::10]]
    conn.execute(insert(CalendarFeed), rows)
    return personal, school


def seed(url: str, work: Path) -> District:
    engine = create_engine(sync_url(url))
    names = [f"Bench School {i:02d}" for i in range(SCHOOLS)]
    with engine.begin() as conn:
        conn.execute(
            insert(School),
            [
                {
                    "id": uuid.uuid4(),
                    "name": n,
                    "time_zone": "America/Chicago",
                    "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                }
                for n in names
            ],
        )
    roster = work / "staff.csv"
    _roster(roster, names)
    subprocess.run(
        [sys.executable, "-m", "app.cli", "import-roster", str(roster)],
        check=True,
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url, "ENVIRONMENT": "development"},
        stdout=subprocess.DEVNULL,
    )
    d = District()
    # Every row gets its own moment, a millisecond after the one written before it, ending
    # about now: a real district's rows are spread over time, and identical timestamps would
    # defeat the indexes that order lists by time (every post sorted for each page).
    ticks = itertools.count()
    epoch = datetime.now(UTC) - timedelta(days=60)

    def stamp() -> datetime:
        return epoch + timedelta(milliseconds=next(ticks))

    start = datetime(2026, 9, 1, 14, tzinfo=UTC)
    with engine.begin() as conn:
        school_ids: dict[str, uuid.UUID] = dict(
            conn.execute(select(col(School.name), col(School.id))).tuples().all()
        )
        staff = conn.execute(
            select(col(User.id), col(User.email), col(User.role)).order_by(col(User.email))
        ).all()
        from app.users.models import SchoolMembership

        school_of: dict[uuid.UUID, uuid.UUID] = dict(
            conn.execute(select(col(SchoolMembership.user_id), col(SchoolMembership.school_id)))
            .tuples()
            .all()
        )
        focus = [r[0] for r in conn.execute(select(col(FocusArea.id)))]
        admin = next(u for u in staff if u.role == Role.district_admin)
        d.district_admin = str(admin.id)
        by_school: dict[uuid.UUID, list[Any]] = {}
        principals: dict[uuid.UUID, uuid.UUID] = {}
        for u in staff:
            if u.role == Role.teacher:
                by_school.setdefault(school_of[u.id], []).append(u.id)
            elif u.role == Role.school_admin:
                principals[school_of[u.id]] = u.id
        rows: dict[Any, list[dict[str, Any]]] = {
            m: []
            for m in (
                Team,
                TeamMember,
                ActionPlan,
                PlanTransition,
                Event,
                EventParticipant,
                ObservationRecord,
                ConferenceRecord,
                CoverageRequest,
                Reflection,
                ReflectionComment,
                TeamInvitation,
                GrowthRecord,
                LearningForm,
                Notification,
                ConfidentialRead,
            )
        }
        schools = list(by_school)
        taken: dict[uuid.UUID, int] = dict.fromkeys(schools, 0)

        def add(model: Any, **values: Any) -> uuid.UUID:
            values.setdefault("id", uuid.uuid4())
            rows[model].append(values)
            return values["id"]

        def event(
            team: uuid.UUID, kind: str, when: datetime, people: list[uuid.UUID], **extra: Any
        ) -> uuid.UUID:
            eid = add(
                Event,
                team_id=team,
                kind=kind,
                title=None,
                starts_at=when,
                ends_at=when + timedelta(hours=1),
                location="Room 101",
                status="scheduled",
                version=1,
                created_at=(t := stamp()),
                updated_at=t,
                observer_id=extra.get("observer"),
                observed_id=extra.get("observed"),
                created_by_id=people[0],
            )
            for p in people:
                rows[EventParticipant].append({"event_id": eid, "user_id": p})
            return eid

        def action_plan(team: uuid.UUID, status: str) -> uuid.UUID:
            return add(
                ActionPlan,
                team_id=team,
                status=status,
                version=2,
                learning_target="Students explain their reasoning",
                lesson_purpose="Model think-alouds",
                classroom_dynamics="Groups of four",
                created_at=(t := stamp()),
                updated_at=t,
            )

        def team(
            i: int, size: int, name: str, year: str = YEAR
        ) -> tuple[uuid.UUID, list[uuid.UUID], uuid.UUID]:
            school = schools[i % len(schools)]
            members = by_school[school][taken[school] : taken[school] + size]
            taken[school] += size
            tid = add(
                Team,
                name=name,
                school_year=year,
                focus_area_id=focus[i % len(focus)],
                created_by_id=members[0],
                created_at=(t := stamp()),
                updated_at=t,
            )
            for m in members:
                rows[TeamMember].append({"team_id": tid, "user_id": m, "joined_at": stamp()})
            return tid, members, school

        for i in range(TEAMS):
            tid, members, school = team(i, 3 if i % 5 == 0 else 2, f"Team {i:04d}")
            a, b = members[0], members[1]
            status = "submitted" if i % 10 == 0 else "approved"
            plan = action_plan(tid, status)
            add(
                PlanTransition,
                plan_id=plan,
                from_status="draft",
                to_status="submitted",
                actor_id=a,
                at=stamp(),
            )
            if status == "approved":
                add(
                    PlanTransition,
                    plan_id=plan,
                    from_status="submitted",
                    to_status="approved",
                    actor_id=principals[school],
                    at=stamp(),
                )
            day = start + timedelta(days=i % 150)
            pre = event(tid, "pre_conference", day, members)
            add(
                ConferenceRecord,
                event_id=pre,
                team_id=tid,
                author_id=a,
                version=1,
                written_by={},
                summary="We agreed on the target",
                created_at=(t := stamp()),
                updated_at=t,
            )
            observations = []
            for k, (obs, seen) in enumerate(((a, b), (b, a), (a, b), (b, a))):
                eid = event(
                    tid,
                    "observation",
                    day + timedelta(days=7 * (k + 1)),
                    [obs, seen],
                    observer=obs,
                    observed=seen,
                )
                observations.append(eid)
                rid = add(
                    ObservationRecord,
                    event_id=eid,
                    team_id=tid,
                    author_id=obs,
                    affirmations=["Clear routines", "Wait time"],
                    new_understandings=["Sentence stems"],
                    open_questions=["Pacing?"],
                    evidence="Notes",
                    version=1,
                    created_at=(t := stamp()),
                    updated_at=t,
                )
                add(
                    CoverageRequest,
                    event_id=eid,
                    team_id=tid,
                    requester_id=seen,
                    school_id=school,
                    status="arranged" if k < 3 else "pending",
                    covered_by="A substitute",
                    created_at=(t := stamp()),
                    updated_at=t,
                )
            post = event(tid, "post_conference", day + timedelta(days=40), members)
            add(
                ConferenceRecord,
                event_id=post,
                team_id=tid,
                author_id=b,
                version=1,
                written_by={},
                summary="What we learned",
                next_steps="Keep going",
                created_at=(t := stamp()),
                updated_at=t,
            )
            year_end = event(
                tid, "year_end_meeting", day + timedelta(days=60), [*members, principals[school]]
            )
            add(
                GrowthRecord,
                event_id=year_end,
                team_id=tid,
                learned="Think-alouds work when students see them twice",
                goals_next_year="Extend to science",
                created_by_id=a,
                updated_by_id=a,
                version=1,
                created_at=(t := stamp()),
                updated_at=t,
            )
            for m in members:
                add(
                    LearningForm,
                    team_id=tid,
                    teacher_id=m,
                    purpose="Students explain their reasoning",
                    philosophies_and_literature="Visible thinking",
                    pre_conference_summary="We agreed on the target",
                    take_back_to_classroom="Sentence stems",
                    how_to_apply="Daily warm-up",
                    addressing_open_questions="Pacing",
                    version=1,
                    created_at=(t := stamp()),
                    updated_at=t,
                )
                for n in range(10):  # what a year of the cycle told each member
                    kind = NOTIFIED[n % len(NOTIFIED)]
                    add(
                        Notification,
                        user_id=m,
                        kind=kind,
                        title=f"Team {i:04d}: {kind.replace('_', ' ')}",
                        link=f"/teams/{tid}",
                        team_id=tid,
                        created_at=(t := stamp()),
                        read_at=t if n < 7 else None,
                        email_pending=False,
                    )
            for n in range(20):  # the team's read log: members reading their records
                add(
                    ConfidentialRead,
                    team_id=tid,
                    reader_id=members[n % len(members)],
                    kind=READ_KINDS[n % len(READ_KINDS)],
                    record_id=observations[n % 4],
                    client="10.0.0.1",
                    at=stamp(),
                )
            for author, vis, title in ((a, "team", "What I saw"), (b, "program", "Our year")):
                pid = add(
                    Reflection,
                    author_id=author,
                    title=title,
                    body="A few paragraphs " * 20,
                    visibility=vis,
                    team_id=tid,
                    event_id=observations[0],
                    observation_record_id=rid,
                    version=1,
                    created_at=(t := stamp()),
                    updated_at=t,
                )
                for c in (a, b):
                    add(
                        ReflectionComment,
                        reflection_id=pid,
                        author_id=c,
                        body="Thank you",
                        created_at=stamp(),
                    )
            # Most of what teachers write stays their own: two private posts each, between
            # the team's, so that a reader's newest posts are mostly ones they may not see.
            for author in (a, b, a, b):
                add(
                    Reflection,
                    author_id=author,
                    title="Notes to self",
                    body="A few paragraphs " * 20,
                    visibility="private",
                    version=1,
                    created_at=(t := stamp()),
                    updated_at=t,
                )
            if i % 7 == 0:  # a colleague invited, not answered yet
                invitee = by_school[school][-1 - (i // len(schools)) % 3]
                add(
                    TeamInvitation,
                    team_id=tid,
                    invitee_id=invitee,
                    invited_by_id=a,
                    status="pending",
                    founding=False,
                    created_at=stamp(),
                )
                d.invitee = d.invitee or str(invitee)
            if i == 0:
                d.team, d.teacher, d.event = str(tid), str(a), str(observations[0])
                d.year_end = str(year_end)
                d.conference, d.school_admin = str(pre), str(principals[school])
        # The writers' year is one the district has not recorded: its events may fall on any
        # date the writes choose (a recorded year holds events to its own dates). An earlier
        # year, so that its 30,000 observations are not on the year-end report's first page.
        wtid, writers, _ = team(TEAMS, 2, "The writers", WRITERS_YEAR)
        d.writer_team, d.writer = str(wtid), str(writers[0])
        action_plan(wtid, "approved")  # observations are held under an approved plan
        for k in range(WRITER_OBSERVATIONS):
            when = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(hours=k)  # all held
            d.writer_observations.append(
                str(
                    event(
                        wtid, "observation", when, writers, observer=writers[0], observed=writers[1]
                    )
                )
            )
        for model, values in rows.items():
            keys = {k for v in values for k in v}  # one shape per insert (missing: null)
            values = [{k: v.get(k) for k in keys} for v in values]
            for chunk in range(0, len(values), 5000):
                conn.execute(insert(model), values[chunk : chunk + 5000])
        d.reflection = str(rows[Reflection][0]["id"])
        d.coverage = str(rows[CoverageRequest][0]["id"])
        resources = []
        for k in range(60):
            rid = uuid.uuid4()
            resources.append(
                {
                    "id": rid,
                    "title": f"Resource {k:02d}",
                    "url": "https://example.org",
                    "created_at": (t := stamp()),
                    "updated_at": t,
                }
            )
        conn.execute(insert(Resource), resources)
        conn.execute(
            insert(ResourceTag),
            [
                {"resource_id": r["id"], "focus_area_id": focus[k % len(focus)]}
                for k, r in enumerate(resources)
            ],
        )
        d.resource = str(resources[0]["id"])
        support = [
            {
                "id": uuid.uuid4(),
                "requester_id": by_school[s][0],
                "school_id": s,
                "kind": "resources",
                "subject": "Books",
                "message": "Could we have the book?",
                "status": "open",
                "created_at": (t := stamp()),
                "updated_at": t,
            }
            for s in schools
            for _ in range(5)
        ]
        conn.execute(insert(SupportRequest), support)
        d.support = str(support[0]["id"])
        full, prefix, secret_hash = new_integration_key()
        conn.execute(
            insert(IntegrationKey),
            [
                {
                    "id": uuid.uuid4(),
                    "name": "SIS",
                    "prefix": prefix,
                    "secret_hash": secret_hash,
                    "scopes": "read",
                    "created_at": stamp(),
                }
            ],
        )
        d.read_key = full
        _school_years(conn, d)
        teams = [t["id"] for t in rows[Team]]
        _audit_trail(conn, [u.id for u in staff], teams, stamp)
        d.audited_team = str(teams[1])
        d.feed_token, d.school_feed_token = _feeds(conn, d, by_school, uuid.UUID(d.team))
        _sso_bindings(conn, [u.id for u in staff], stamp)
        d.school = str(school_ids[names[0]])
        d.user = d.teacher
        d.roster_import = str(conn.execute(select(col(RosterImport.id))).scalar_one())
    if engine.dialect.name == "postgresql":
        # Planner statistics, as autovacuum gathers them within a minute of a real import.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return d
