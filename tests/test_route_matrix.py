"""Every route of the app against every kind of caller, each in a fresh scenario.

`RULES` holds the decided answer of every (method, path) the app serves for every caller; the
first test fails when the app has a route the table does not decide (or the table a route the
app no longer has), so a new route cannot ship without its rule. Each case builds its own small
world straight in the database (a team with a plan, events, records, a reflection, coverage,
support, a resource, an import, an invitation), so one caller's write never changes what the
next one meets.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import event, update
from sqlmodel import Session

from app.auth.models import SsoIdentity
from app.calendar_feeds.models import CalendarFeed, FeedKind
from app.core.security import new_integration_key
from app.coverage.models import CoverageRequest
from app.events.models import Event, EventParticipant
from app.focus_areas.models import FocusArea
from app.growth.models import GrowthRecord
from app.integration_keys.models import IntegrationKey
from app.learning_forms.models import LearningForm
from app.notifications.models import Notification, NotificationKind
from app.plans.models import ActionPlan
from app.program_rules.models import ProgramRules
from app.records.models import ConferenceRecord, ObservationRecord
from app.reflections.models import Reflection, ReflectionComment
from app.resources.models import Resource
from app.rosters.models import RosterImport
from app.school_years.models import SchoolYear
from app.schools.models import School
from app.support.models import SupportRequest
from app.teams.models import Team, TeamInvitation, TeamMember
from app.users.models import Role, SchoolMembership, User
from tests.factories import PASSWORD, password_hash

CALLERS = (
    "anonymous",
    "member",  # a teacher on the team (the observer, author of its records)
    "teacher",  # a teacher of the team's school, not on it (the team invited them)
    "other_teacher",  # a teacher of another school
    "school_admin",  # an administrator of the members' school
    "other_school_admin",
    "district_admin",
    "read_key",
    "roster_key",
)
_n = itertools.count()


@dataclass
class World:
    ids: dict[str, str] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)


def build(engine) -> World:
    w = World()
    n = next(_n)
    now = datetime.now(UTC)
    past = now - timedelta(days=20)
    with Session(engine, expire_on_commit=False) as s:
        a = School(name=f"Matrix A {n}", time_zone="America/Chicago")
        b = School(name=f"Matrix B {n}", time_zone="America/Chicago")
        s.add_all([a, b])
        s.flush()

        def user(name: str, role: Role, school: School | None) -> User:
            u = User(
                email=f"{name}.{n}@matrix.example.org",
                given_name=name,
                family_name=f"M{n}",
                role=role,
                password_hash=password_hash(),
            )
            s.add(u)
            s.flush()
            if school is not None:
                s.add(SchoolMembership(user_id=u.id, school_id=school.id))
            w.users[name] = u
            return u

        member = user("member", Role.teacher, a)
        member2 = user("member2", Role.teacher, a)
        newcomer = user("newcomer", Role.teacher, a)
        spare = user("spare", Role.teacher, a)
        teacher = user("teacher", Role.teacher, a)
        user("other_teacher", Role.teacher, b)
        admin = user("school_admin", Role.school_admin, a)
        user("other_school_admin", Role.school_admin, b)
        district = user("district_admin", Role.district_admin, None)
        for name, scopes in (("read_key", "read"), ("roster_key", "roster:write")):
            full, prefix, secret_hash = new_integration_key()
            s.add(IntegrationKey(name=f"{name} {n}", prefix=prefix, secret_hash=secret_hash,
                                 scopes=scopes))  # fmt: skip
            w.keys[name] = full
        full, prefix, secret_hash = new_integration_key()
        doomed_key = IntegrationKey(name=f"doomed {n}", prefix=prefix, secret_hash=secret_hash,
                                    scopes="read")  # fmt: skip
        area = FocusArea(name=f"Matrix focus {n}")
        year = SchoolYear(label=f"{2100 + n}-{2101 + n}", starts_on=date(2100 + n, 8, 1),
                          ends_on=date(2101 + n, 7, 31))  # fmt: skip
        s.add_all([doomed_key, area, year])
        s.add(SsoIdentity(provider="district", subject=f"spare-{n}", user_id=spare.id,
                          bound_at=now))  # fmt: skip

        def team(name: str, *, deleted: bool = False) -> Team:
            t = Team(name=name, school_year="2026-2027", created_by_id=member.id,
                     deleted_at=now if deleted else None)  # fmt: skip
            s.add(t)
            s.flush()
            s.add_all([
                TeamMember(team_id=t.id, user_id=member.id, joined_at=past),
                TeamMember(team_id=t.id, user_id=member2.id, joined_at=past),
            ])  # fmt: skip
            return t

        t = team(f"Matrix team {n}")
        gone = team(f"Matrix deleted team {n}", deleted=True)
        other = team(f"Matrix team without a plan {n}")
        s.add(TeamMember(team_id=t.id, user_id=newcomer.id, joined_at=now, sees_since=now))
        s.add_all([
            ActionPlan(team_id=t.id),
            ActionPlan(team_id=gone.id),
            ActionPlan(team_id=other.id, deleted_at=now),
        ])  # fmt: skip
        invitation = TeamInvitation(team_id=t.id, invitee_id=teacher.id, invited_by_id=member.id)
        s.add(invitation)
        feed_token = f"matrix-feed-{n}-{uuid.uuid4().hex}"
        feed = CalendarFeed(owner_id=member.id, kind=FeedKind.personal,
                            token_hash=hashlib.sha256(feed_token.encode()).hexdigest())  # fmt: skip
        s.add(feed)
        told = Notification(user_id=member.id, kind=NotificationKind.plan_approved,
                            title="Matrix plan approved", link="/teams")  # fmt: skip
        s.add(told)

        def event(kind: str, days: int, *, observer=None, observed=None, deleted=False) -> Event:
            start = now + timedelta(days=days)
            e = Event(team_id=t.id, kind=kind, starts_at=start, ends_at=start + timedelta(hours=1),
                      observer_id=observer, observed_id=observed,
                      deleted_at=now if deleted else None)  # fmt: skip
            s.add(e)
            s.flush()
            for person in {member.id, member2.id} if observer is None else {observer, observed}:
                s.add(EventParticipant(event_id=e.id, user_id=person))
            return e

        observed = event("observation", -10, observer=member.id, observed=member2.id)
        unrecorded = event("observation", 5, observer=member.id, observed=member2.id)
        recordable = event("observation", -5, observer=member.id, observed=member2.id)
        unheld = event("other", -2)
        covered = event("observation", 6, observer=member.id, observed=member2.id)
        meeting = event("year_end_meeting", -1)
        pre = event("pre_conference", -15)
        deleted_event = event("other", -3, deleted=True)
        s.add(ObservationRecord(event_id=observed.id, team_id=t.id, author_id=member.id,
                                affirmations=["secret"], created_at=past))  # fmt: skip
        s.add(ConferenceRecord(event_id=pre.id, team_id=t.id, author_id=member.id,
                               summary="secret", created_at=past))  # fmt: skip
        s.add(LearningForm(team_id=t.id, teacher_id=member.id, purpose="secret",
                           created_at=past))  # fmt: skip
        post = Reflection(author_id=member.id, title="Team notes", body="b", visibility="team",
                          team_id=t.id)  # fmt: skip
        coverage = CoverageRequest(event_id=covered.id, team_id=t.id, requester_id=member.id,
                                   school_id=a.id)  # fmt: skip
        support = SupportRequest(requester_id=member.id, school_id=a.id, kind="resources",
                                 subject="Books", message="Please")  # fmt: skip
        resource = Resource(title="Handbook", url="https://example.org/h", created_by_id=admin.id)
        log = RosterImport(actor_user_id=district.id, sha256="0" * 64, format="csv",
                           mode="upsert", dry_run=False, succeeded=True)  # fmt: skip
        growth = GrowthRecord(event_id=meeting.id, team_id=t.id, learned="Wait time works")
        blog = Reflection(author_id=member2.id, title="On the blog", body="b", visibility="program")
        s.add_all([post, coverage, support, resource, log, growth, blog])
        s.flush()
        remark = ReflectionComment(reflection_id=blog.id, author_id=member.id, body="Agreed")
        s.add(remark)
        # Who may write a record is this matrix's question; the program's rule that observations
        # wait for an approved plan is tests/coaching/test_program_rules.py's (the plan here
        # stays a draft for the plan routes).
        s.execute(update(ProgramRules).values(observations_need_approved_plan=False))
        s.commit()
        w.ids = {
            "school_id": str(a.id),
            "school_name": a.name,
            "school_b": str(b.id),
            "key_id": str(doomed_key.id),
            "focus_area_id": str(area.id),
            "team_id": str(t.id),
            "deleted_team": str(gone.id),
            "planless_team": str(other.id),
            "member_id": str(member.id),
            "member2_id": str(member2.id),
            "newcomer_id": str(newcomer.id),
            "spare_id": str(spare.id),
            "invitation_id": str(invitation.id),
            "event_id": str(observed.id),
            "unrecorded_event": str(unrecorded.id),
            "recordable_event": str(recordable.id),
            "unheld_event": str(unheld.id),
            "meeting": str(meeting.id),
            "pre_conference": str(pre.id),
            "deleted_event": str(deleted_event.id),
            "reflection_id": str(post.id),
            "program_post": str(blog.id),
            "comment_id": str(remark.id),
            "coverage_id": str(coverage.id),
            "support_id": str(support.id),
            "resource_id": str(resource.id),
            "import_id": str(log.id),
            "school_year_id": str(year.id),
            "feed_id": str(feed.id),
            "notification_id": str(told.id),
            "feed_token": feed_token,
            "fresh_year": f"{2000 + n % 100}-{2001 + n % 100}",
        }
    return w


# ---- the rules -------------------------------------------------------------------------------
# Each rule: the path (with the scenario's ids), what is sent, and the answer per caller. The
# shorthands name the program's kinds of access; a route spells out whatever differs.


def answers(default: int, **by_caller: int) -> dict[str, int]:
    return {c: by_caller.get(c, default) for c in CALLERS}


ANYONE = answers(200)
STAFF = answers(200, anonymous=401, read_key=403, roster_key=403)  # any signed-in staff member
READERS = {**STAFF, "read_key": 200}  # staff and `read` keys
DISTRICT = answers(403, anonymous=401, district_admin=200)
ADMINS = answers(403, anonymous=401, school_admin=200, other_school_admin=200, district_admin=200)
# The team's plan, calendar, progress: the team and its administrators; others may not know it.
TEAM = answers(404, anonymous=401, member=200, school_admin=200, district_admin=200,
               read_key=403, roster_key=403)  # fmt: skip
# Confidential: members only; administrators who may see the team get 403, never the content.
MEMBERS = {**TEAM, "school_admin": 403, "district_admin": 403}
TEAM_ADMINS = {**TEAM, "member": 403}  # administrators' decisions about the team
OWN = answers(404, anonymous=401, member=200, read_key=403, roster_key=403)  # the caller's own


def status(table: dict[str, int], ok: int) -> dict[str, int]:
    return {c: ok if s == 200 else s for c, s in table.items()}


@dataclass(frozen=True)
class Rule:
    path: str
    expected: dict[str, int]
    json: Any = None
    form: dict[str, str] | None = None
    files: bool = False


NEW_PERSON = {"email": "new.{fresh}@matrix.example.org", "given_name": "New",
              "family_name": "Person", "role": "teacher"}  # fmt: skip
EVENT_TIMES = {"starts_at": "2027-03-01T15:00:00Z", "ends_at": "2027-03-01T16:00:00Z"}

RULES: dict[tuple[str, str], Rule] = {
    ("POST", "/api/v1/auth/token"): Rule("/api/v1/auth/token", ANYONE, form={"password": PASSWORD}),
    ("GET", "/api/v1/me"): Rule("/api/v1/me", STAFF),
    ("PATCH", "/api/v1/me"): Rule("/api/v1/me", STAFF, json={"given_name": "Renamed"}),
    ("POST", "/api/v1/me/password"): Rule(
        "/api/v1/me/password",
        STAFF,
        json={"current_password": PASSWORD, "new_password": "another-long-password"},
    ),
    ("GET", "/api/v1/schools"): Rule("/api/v1/schools", READERS),
    ("POST", "/api/v1/schools"): Rule(
        "/api/v1/schools", status(DISTRICT, 201), json={"name": "Brand new", "time_zone": "UTC"}
    ),
    ("GET", "/api/v1/schools/{school_id}"): Rule("/api/v1/schools/{school_id}", READERS),
    ("PATCH", "/api/v1/schools/{school_id}"): Rule(
        "/api/v1/schools/{school_id}", DISTRICT, json={"name": "Renamed school"}
    ),
    ("GET", "/api/v1/users"): Rule("/api/v1/users", {**ADMINS, "read_key": 200}),
    ("POST", "/api/v1/users"): Rule(
        "/api/v1/users",
        status({**ADMINS, "other_school_admin": 403}, 201),
        json={**NEW_PERSON, "school_ids": ["{school_id}"]},
    ),
    ("GET", "/api/v1/users/{user_id}"): Rule(
        "/api/v1/users/{member_id}", {**ADMINS, "other_school_admin": 404, "read_key": 200}
    ),
    ("PATCH", "/api/v1/users/{user_id}"): Rule(
        "/api/v1/users/{member_id}",
        {**ADMINS, "other_school_admin": 404},
        json={"given_name": "Renamed"},
    ),
    ("GET", "/api/v1/colleagues"): Rule("/api/v1/colleagues", READERS),
    ("GET", "/api/v1/integration-keys"): Rule("/api/v1/integration-keys", DISTRICT),
    ("POST", "/api/v1/integration-keys"): Rule(
        "/api/v1/integration-keys", status(DISTRICT, 201), json={"name": "K", "scopes": ["read"]}
    ),
    ("DELETE", "/api/v1/integration-keys/{key_id}"): Rule(
        "/api/v1/integration-keys/{key_id}", status(DISTRICT, 204)
    ),
    ("GET", "/api/v1/focus-areas"): Rule("/api/v1/focus-areas", READERS),
    ("POST", "/api/v1/focus-areas"): Rule(
        "/api/v1/focus-areas", status(DISTRICT, 201), json={"name": "Brand new focus"}
    ),
    ("PATCH", "/api/v1/focus-areas/{focus_area_id}"): Rule(
        "/api/v1/focus-areas/{focus_area_id}", DISTRICT, json={"description": "d"}
    ),
    ("GET", "/api/v1/teams"): Rule("/api/v1/teams", STAFF),
    # Teachers form teams with colleagues; administrators do not (403).
    ("POST", "/api/v1/teams"): Rule(
        "/api/v1/teams",
        answers(403, anonymous=401, member=201, teacher=201, other_teacher=422),
        json={"name": "New team", "school_year": "2026-2027", "invitee_ids": ["{spare_id}"]},
    ),
    ("GET", "/api/v1/teams/{team_id}"): Rule("/api/v1/teams/{team_id}", TEAM),
    ("PATCH", "/api/v1/teams/{team_id}"): Rule(
        "/api/v1/teams/{team_id}", TEAM, json={"name": "Renamed team"}
    ),
    ("DELETE", "/api/v1/teams/{team_id}"): Rule("/api/v1/teams/{team_id}", status(TEAM, 204)),
    ("POST", "/api/v1/teams/{team_id}/restore"): Rule(
        "/api/v1/teams/{deleted_team}/restore", {**TEAM_ADMINS, "member": 404}
    ),
    # Membership is the members' decision: administrators who see the team get 403.
    ("DELETE", "/api/v1/teams/{team_id}/members/{user_id}"): Rule(
        "/api/v1/teams/{team_id}/members/{newcomer_id}", status(MEMBERS, 204)
    ),
    ("POST", "/api/v1/teams/{team_id}/members/{user_id}/history-consent"): Rule(
        "/api/v1/teams/{team_id}/members/{newcomer_id}/history-consent", MEMBERS
    ),
    ("POST", "/api/v1/teams/{team_id}/invitations"): Rule(
        "/api/v1/teams/{team_id}/invitations",
        status(MEMBERS, 201),
        json={"user_id": "{spare_id}"},
    ),
    ("GET", "/api/v1/teams/{team_id}/invitations"): Rule(
        "/api/v1/teams/{team_id}/invitations", TEAM
    ),
    ("DELETE", "/api/v1/teams/{team_id}/invitations/{invitation_id}"): Rule(
        "/api/v1/teams/{team_id}/invitations/{invitation_id}", status(MEMBERS, 204)
    ),
    ("GET", "/api/v1/team-invitations"): Rule("/api/v1/team-invitations", STAFF),
    # Only the invitee answers; for anyone else the invitation does not exist.
    ("POST", "/api/v1/team-invitations/{invitation_id}/accept"): Rule(
        "/api/v1/team-invitations/{invitation_id}/accept",
        answers(404, anonymous=401, teacher=200, read_key=403, roster_key=403),
    ),
    ("POST", "/api/v1/team-invitations/{invitation_id}/decline"): Rule(
        "/api/v1/team-invitations/{invitation_id}/decline",
        answers(404, anonymous=401, teacher=204, read_key=403, roster_key=403),
    ),
    ("GET", "/api/v1/teams/{team_id}/plan"): Rule("/api/v1/teams/{team_id}/plan", TEAM),
    ("PATCH", "/api/v1/teams/{team_id}/plan"): Rule(
        "/api/v1/teams/{team_id}/plan", MEMBERS, json={"focus_goal": "Wait time"}
    ),
    ("POST", "/api/v1/teams/{team_id}/plan/transitions"): Rule(
        "/api/v1/teams/{team_id}/plan/transitions", MEMBERS, json={"action": "submit"}
    ),
    ("DELETE", "/api/v1/teams/{team_id}/plan"): Rule(
        "/api/v1/teams/{team_id}/plan", status(MEMBERS, 204)
    ),
    ("POST", "/api/v1/teams/{team_id}/plan/restore"): Rule(
        "/api/v1/teams/{planless_team}/plan/restore", TEAM_ADMINS
    ),
    ("GET", "/api/v1/teams/{team_id}/plan/transitions"): Rule(
        "/api/v1/teams/{team_id}/plan/transitions", TEAM
    ),
    ("GET", "/api/v1/events"): Rule("/api/v1/events", STAFF),
    ("GET", "/api/v1/program-rules"): Rule("/api/v1/program-rules", STAFF),
    ("PATCH", "/api/v1/program-rules"): Rule(
        "/api/v1/program-rules", DISTRICT, json={"observations_per_teacher": 3}
    ),
    # Members schedule; administrators only year-end meetings (403 for anything else).
    ("POST", "/api/v1/events"): Rule(
        "/api/v1/events",
        status(MEMBERS, 201),
        json={"team_id": "{team_id}", "kind": "other", **EVENT_TIMES},
    ),
    ("GET", "/api/v1/events/{event_id:id}"): Rule("/api/v1/events/{event_id}", TEAM),
    ("PATCH", "/api/v1/events/{event_id:id}"): Rule(
        "/api/v1/events/{event_id}", MEMBERS, json={"title": "Renamed"}
    ),
    ("POST", "/api/v1/events/{event_id}/cancel"): Rule(
        "/api/v1/events/{event_id}/cancel", MEMBERS, json={}
    ),
    # The growth record is the one record administrators read (by design): the team's readers.
    ("GET", "/api/v1/events/{event_id}/growth-record"): Rule(
        "/api/v1/events/{meeting}/growth-record", TEAM
    ),
    ("PUT", "/api/v1/events/{event_id}/growth-record"): Rule(
        "/api/v1/events/{meeting}/growth-record", TEAM, json={"learned": "More than we thought"}
    ),
    # A member who took part confirms an event took place (a year-end meeting: administrators).
    ("POST", "/api/v1/events/{event_id}/held"): Rule("/api/v1/events/{unheld_event}/held", MEMBERS),
    ("DELETE", "/api/v1/events/{event_id:id}"): Rule(
        "/api/v1/events/{event_id}", status(MEMBERS, 204)
    ),
    ("POST", "/api/v1/events/{event_id}/restore"): Rule(
        "/api/v1/events/{deleted_event}/restore", {**TEAM_ADMINS, "member": 404}
    ),
    ("POST", "/api/v1/events/{event_id}/observation-record"): Rule(
        "/api/v1/events/{recordable_event}/observation-record",
        status(MEMBERS, 201),
        json={"affirmations": ["a"]},
    ),
    ("GET", "/api/v1/events/{event_id}/observation-record"): Rule(
        "/api/v1/events/{event_id}/observation-record", MEMBERS
    ),
    ("PATCH", "/api/v1/events/{event_id}/observation-record"): Rule(
        "/api/v1/events/{event_id}/observation-record", MEMBERS, json={"evidence": "e"}
    ),
    ("GET", "/api/v1/events/{event_id}/conference-record"): Rule(
        "/api/v1/events/{pre_conference}/conference-record", MEMBERS
    ),
    ("PUT", "/api/v1/events/{event_id}/conference-record"): Rule(
        "/api/v1/events/{pre_conference}/conference-record", MEMBERS, json={"summary": "s"}
    ),
    # What a teacher wrote stays theirs to read; no administrator reads notes by this path.
    ("GET", "/api/v1/me/observation-records"): Rule(
        "/api/v1/me/observation-records",
        answers(
            200,
            anonymous=401,
            school_admin=403,
            other_school_admin=403,
            district_admin=403,
            read_key=403,
            roster_key=403,
        ),
    ),
    ("GET", "/api/v1/teams/{team_id}/observation-records"): Rule(
        "/api/v1/teams/{team_id}/observation-records", MEMBERS
    ),
    # Who read the team's confidential records: its members (the readers of those records).
    ("GET", "/api/v1/teams/{team_id}/read-log"): Rule("/api/v1/teams/{team_id}/read-log", MEMBERS),
    ("GET", "/api/v1/teams/{team_id}/observation-comparison"): Rule(
        "/api/v1/teams/{team_id}/observation-comparison", MEMBERS
    ),
    # Each teacher's learning form: confidential like the records; each writes their own.
    ("GET", "/api/v1/teams/{team_id}/learning-forms"): Rule(
        "/api/v1/teams/{team_id}/learning-forms", MEMBERS
    ),
    ("GET", "/api/v1/teams/{team_id}/learning-forms/{teacher_id}"): Rule(
        "/api/v1/teams/{team_id}/learning-forms/{member_id}", MEMBERS
    ),
    ("PUT", "/api/v1/teams/{team_id}/learning-forms/{teacher_id}"): Rule(
        "/api/v1/teams/{team_id}/learning-forms/{member_id}",
        MEMBERS,
        json={"take_back_to_classroom": "Wait time"},
    ),
    ("GET", "/api/v1/me/learning-forms"): Rule(
        "/api/v1/me/learning-forms",
        answers(
            200,
            anonymous=401,
            school_admin=403,
            other_school_admin=403,
            district_admin=403,
            read_key=403,
            roster_key=403,
        ),
    ),
    ("GET", "/api/v1/reflections"): Rule("/api/v1/reflections", STAFF),
    ("POST", "/api/v1/reflections"): Rule(
        "/api/v1/reflections", status(STAFF, 201), json={"title": "T", "body": "b"}
    ),
    # A team post: its author and team; administrators no more than anyone else.
    ("GET", "/api/v1/reflections/{reflection_id}"): Rule(
        "/api/v1/reflections/{reflection_id}",
        answers(404, anonymous=401, member=200, read_key=403, roster_key=403),
    ),
    ("PATCH", "/api/v1/reflections/{reflection_id}"): Rule(
        "/api/v1/reflections/{reflection_id}",
        answers(404, anonymous=401, member=200, read_key=403, roster_key=403),
        json={"title": "Renamed"},
    ),
    ("DELETE", "/api/v1/reflections/{reflection_id}"): Rule(
        "/api/v1/reflections/{reflection_id}",
        answers(404, anonymous=401, member=204, read_key=403, roster_key=403),
    ),
    # A program post: district administrators take it off the blog, saying why.
    ("POST", "/api/v1/reflections/{reflection_id}/hide"): Rule(
        "/api/v1/reflections/{program_post}/hide",
        answers(403, anonymous=401, district_admin=204),
        json={"reason": "Names a student"},
    ),
    # A comment on it: its author edits and deletes it; administrators hide it.
    ("PATCH", "/api/v1/reflections/{reflection_id}/comments/{comment_id}"): Rule(
        "/api/v1/reflections/{program_post}/comments/{comment_id}",
        answers(403, anonymous=401, member=200),
        json={"body": "Agreed, mostly"},
    ),
    ("DELETE", "/api/v1/reflections/{reflection_id}/comments/{comment_id}"): Rule(
        "/api/v1/reflections/{program_post}/comments/{comment_id}",
        answers(403, anonymous=401, member=204),
    ),
    ("POST", "/api/v1/reflections/{reflection_id}/comments/{comment_id}/hide"): Rule(
        "/api/v1/reflections/{program_post}/comments/{comment_id}/hide",
        answers(403, anonymous=401, school_admin=204, other_school_admin=204, district_admin=204),
    ),
    ("GET", "/api/v1/reflections/{reflection_id}/comments"): Rule(
        "/api/v1/reflections/{reflection_id}/comments",
        answers(404, anonymous=401, member=200, read_key=403, roster_key=403),
    ),
    ("POST", "/api/v1/reflections/{reflection_id}/comments"): Rule(
        "/api/v1/reflections/{reflection_id}/comments",
        answers(404, anonymous=401, member=201, read_key=403, roster_key=403),
        json={"body": "c"},
    ),
    ("GET", "/api/v1/teams/{team_id}/progress"): Rule("/api/v1/teams/{team_id}/progress", TEAM),
    # A member carries the team into the next school year (the others are invited to it).
    ("POST", "/api/v1/teams/{team_id}/continue"): Rule(
        "/api/v1/teams/{team_id}/continue", status(MEMBERS, 201), json={"school_year": "2027-2028"}
    ),
    # Invitations: the administrators who manage the person; the emailed token is the proof.
    ("POST", "/api/v1/users/{user_id}/invitation"): Rule(
        "/api/v1/users/{spare_id}/invitation",
        answers(403, anonymous=401, school_admin=202, other_school_admin=404, district_admin=202),
    ),
    ("POST", "/api/v1/auth/activate"): Rule(
        "/api/v1/auth/activate",
        answers(422),
        json={"token": "not-a-token-anyone-was-given", "password": "a long enough passphrase"},
    ),
    ("POST", "/api/v1/invitations"): Rule(
        "/api/v1/invitations",
        status(ADMINS, 202),
        json={"user_ids": ["{spare_id}"]},
    ),
    # Single sign-on bindings: the administrators who manage the person; the person their own.
    ("GET", "/api/v1/users/{user_id}/sso-identities"): Rule(
        "/api/v1/users/{spare_id}/sso-identities",
        answers(403, anonymous=401, school_admin=200, other_school_admin=404, district_admin=200),
    ),
    ("DELETE", "/api/v1/users/{user_id}/sso-identities/{provider}"): Rule(
        "/api/v1/users/{spare_id}/sso-identities/district",
        answers(403, anonymous=401, school_admin=204, other_school_admin=404, district_admin=204),
    ),
    ("GET", "/api/v1/me/sso-identities"): Rule("/api/v1/me/sso-identities", STAFF),
    ("POST", "/api/v1/users/{user_id}/password-reset"): Rule(
        "/api/v1/users/{spare_id}/password-reset",
        answers(403, anonymous=401, school_admin=202, other_school_admin=404, district_admin=202),
    ),
    # "Forgot my password": the same 202 for anyone, about any address.
    ("POST", "/api/v1/auth/password-reset"): Rule(
        "/api/v1/auth/password-reset", answers(202), json={"email": "nobody.{fresh}@example.org"}
    ),
    ("POST", "/api/v1/auth/password-reset/confirm"): Rule(
        "/api/v1/auth/password-reset/confirm",
        answers(422),
        json={"token": "not-a-token-anyone-was-given", "password": "a long enough passphrase"},
    ),
    # Single sign-on: public steps of a browser's sign-in. This app has no provider configured
    # (404); tests/test_sso.py runs them against a real provider.
    ("GET", "/api/v1/sso/providers"): Rule("/api/v1/sso/providers", ANYONE),
    ("GET", "/api/v1/sso/{provider}/authorize"): Rule(
        "/api/v1/sso/district/authorize?redirect_uri=http://localhost:5173/sso/callback"
        "&code_challenge=" + "A" * 43,
        answers(404),
    ),
    ("GET", "/api/v1/sso/{provider}/callback"): Rule(
        "/api/v1/sso/district/callback?code=c&state=s", answers(404)
    ),
    ("POST", "/api/v1/sso/token"): Rule(
        "/api/v1/sso/token",
        answers(400),
        form={
            "grant_type": "authorization_code",
            "code": "never-issued",
            "redirect_uri": "http://localhost:5173/sso/callback",
            "code_verifier": "v" * 43,
        },
    ),
    # Calendar feeds: each person's own (others' are 404); the address itself is the key.
    ("POST", "/api/v1/calendar-feeds"): Rule(
        "/api/v1/calendar-feeds", status(STAFF, 201), json={"kind": "personal"}
    ),
    ("GET", "/api/v1/calendar-feeds"): Rule("/api/v1/calendar-feeds", STAFF),
    ("POST", "/api/v1/calendar-feeds/{feed_id}/rotate"): Rule(
        "/api/v1/calendar-feeds/{feed_id}/rotate", OWN
    ),
    ("DELETE", "/api/v1/calendar-feeds/{feed_id:id}"): Rule(
        "/api/v1/calendar-feeds/{feed_id}", status(OWN, 204)
    ),
    ("GET", "/api/v1/calendar-feeds/{token}.ics"): Rule(
        "/api/v1/calendar-feeds/{feed_token}.ics", ANYONE
    ),
    ("GET", "/api/v1/events/{event_id}.ics"): Rule("/api/v1/events/{event_id}.ics", TEAM),
    # Notifications: each person's own.
    ("GET", "/api/v1/notifications"): Rule("/api/v1/notifications", STAFF),
    ("GET", "/api/v1/notifications/unread-count"): Rule(
        "/api/v1/notifications/unread-count", STAFF
    ),
    ("POST", "/api/v1/notifications/{notification_id}/read"): Rule(
        "/api/v1/notifications/{notification_id}/read", OWN
    ),
    ("POST", "/api/v1/notifications/read-all"): Rule("/api/v1/notifications/read-all", STAFF),
    ("GET", "/api/v1/me/notification-settings"): Rule("/api/v1/me/notification-settings", STAFF),
    ("PATCH", "/api/v1/me/notification-settings"): Rule(
        "/api/v1/me/notification-settings", STAFF, json={"email": {"event_moved": False}}
    ),
    # The audit trail: district administrators only.
    ("GET", "/api/v1/audit-events"): Rule("/api/v1/audit-events", DISTRICT),
    ("GET", "/api/v1/audit-events.csv"): Rule("/api/v1/audit-events.csv", DISTRICT),
    # School years: everyone on the staff reads them; district administrators record them.
    ("GET", "/api/v1/school-years"): Rule("/api/v1/school-years", STAFF),
    ("GET", "/api/v1/school-years/{school_year_id}"): Rule(
        "/api/v1/school-years/{school_year_id}", STAFF
    ),
    ("POST", "/api/v1/school-years"): Rule(
        "/api/v1/school-years",
        status(DISTRICT, 201),
        json={"label": "{fresh_year}", "starts_on": "2030-08-01", "ends_on": "2031-07-31"},
    ),
    ("PATCH", "/api/v1/school-years/{school_year_id}"): Rule(
        "/api/v1/school-years/{school_year_id}", DISTRICT, json={"plan_due_on": None}
    ),
    ("GET", "/api/v1/coverage-requests"): Rule("/api/v1/coverage-requests", STAFF),
    # A teacher taking part asks; an administrator seeing the team is not taking part (403);
    # an observation the caller may not see is no event at all (422 on the field).
    ("POST", "/api/v1/coverage-requests"): Rule(
        "/api/v1/coverage-requests",
        {**status(MEMBERS, 201), "teacher": 422, "other_teacher": 422, "other_school_admin": 422},
        json={"event_id": "{unrecorded_event}"},
    ),
    ("GET", "/api/v1/coverage-requests/{request_id}"): Rule(
        "/api/v1/coverage-requests/{coverage_id}", TEAM
    ),
    ("POST", "/api/v1/coverage-requests/{request_id}/arrange"): Rule(
        "/api/v1/coverage-requests/{coverage_id}/arrange", TEAM_ADMINS, json={"covered_by": "Sub"}
    ),
    # Several at once: an id the caller may not see is a 422 naming it (no 404 for a body).
    ("POST", "/api/v1/coverage-arrangements"): Rule(
        "/api/v1/coverage-arrangements",
        {**TEAM_ADMINS, "teacher": 422, "other_teacher": 422, "other_school_admin": 422},
        json={"request_ids": ["{coverage_id}"], "covered_by": "Sub"},
    ),
    ("POST", "/api/v1/coverage-requests/{request_id}/decline"): Rule(
        "/api/v1/coverage-requests/{coverage_id}/decline", TEAM_ADMINS, json={"reason": "No"}
    ),
    ("POST", "/api/v1/coverage-requests/{request_id}/cancel"): Rule(
        "/api/v1/coverage-requests/{coverage_id}/cancel", MEMBERS
    ),
    ("GET", "/api/v1/reports/year-end"): Rule("/api/v1/reports/year-end", ADMINS),
    ("GET", "/api/v1/reports/year-end.csv"): Rule("/api/v1/reports/year-end.csv", ADMINS),
    ("GET", "/api/v1/teams/{team_id}/summary"): Rule("/api/v1/teams/{team_id}/summary", TEAM),
    ("GET", "/api/v1/teams/{team_id}/summary/document"): Rule(
        "/api/v1/teams/{team_id}/summary/document", TEAM
    ),
    ("GET", "/api/v1/resources"): Rule("/api/v1/resources", STAFF),
    ("POST", "/api/v1/resources"): Rule(
        "/api/v1/resources", status(ADMINS, 201), json={"title": "T", "url": "https://e.org"}
    ),
    ("GET", "/api/v1/resources/{resource_id}"): Rule("/api/v1/resources/{resource_id}", STAFF),
    ("PATCH", "/api/v1/resources/{resource_id}"): Rule(
        "/api/v1/resources/{resource_id}", ADMINS, json={"title": "Renamed"}
    ),
    ("DELETE", "/api/v1/resources/{resource_id}"): Rule(
        "/api/v1/resources/{resource_id}", status(ADMINS, 204)
    ),
    ("PUT", "/api/v1/resources/{resource_id}/review"): Rule(
        "/api/v1/resources/{resource_id}/review", STAFF
    ),
    ("DELETE", "/api/v1/resources/{resource_id}/review"): Rule(
        "/api/v1/resources/{resource_id}/review", STAFF
    ),
    ("GET", "/api/v1/support-requests"): Rule("/api/v1/support-requests", STAFF),
    # Asked of one's school: a district administrator, of no school, must say which (422).
    ("POST", "/api/v1/support-requests"): Rule(
        "/api/v1/support-requests",
        {**status(STAFF, 201), "district_admin": 422},
        json={"kind": "support", "subject": "S", "message": "M"},
    ),
    ("GET", "/api/v1/support-requests/{request_id}"): Rule(
        "/api/v1/support-requests/{support_id}", TEAM
    ),
    ("POST", "/api/v1/support-requests/{request_id}/answer"): Rule(
        "/api/v1/support-requests/{support_id}/answer", TEAM_ADMINS, json={"answer": "A"}
    ),
    ("POST", "/api/v1/support-requests/{request_id}/close"): Rule(
        "/api/v1/support-requests/{support_id}/close", TEAM
    ),
    # Administrators of the schools in the file, district administrators and roster keys.
    ("POST", "/api/v1/roster-imports"): Rule(
        "/api/v1/roster-imports",
        answers(
            403,
            anonymous=401,
            school_admin=201,
            other_school_admin=422,
            district_admin=201,
            roster_key=201,
        ),
        files=True,
    ),
    ("POST", "/api/v1/roster-imports/json"): Rule(
        "/api/v1/roster-imports/json",
        answers(
            403,
            anonymous=401,
            school_admin=201,
            other_school_admin=422,
            district_admin=201,
            roster_key=201,
        ),
        json={"people": [{**NEW_PERSON, "school": "{school_name}"}]},
    ),
    ("GET", "/api/v1/roster-imports"): Rule(
        "/api/v1/roster-imports",
        answers(
            403,
            anonymous=401,
            school_admin=200,
            other_school_admin=200,
            district_admin=200,
            roster_key=200,
        ),
    ),
    # One import's record: whoever ran it, district administrators and roster keys.
    ("GET", "/api/v1/roster-imports/{import_id:uuid}"): Rule(
        "/api/v1/roster-imports/{import_id}",
        answers(
            403,
            anonymous=401,
            school_admin=404,
            other_school_admin=404,
            district_admin=200,
            roster_key=200,
        ),
    ),
    ("GET", "/api/v1/roster-imports/{import_id:uuid}/rows"): Rule(
        "/api/v1/roster-imports/{import_id}/rows",
        answers(
            403,
            anonymous=401,
            school_admin=404,
            other_school_admin=404,
            district_admin=200,
            roster_key=200,
        ),
    ),
    ("GET", "/healthz"): Rule("/healthz", ANYONE),
    ("GET", "/readyz"): Rule("/readyz", ANYONE),
}


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute):
            for method in route.methods or ():
                found.add((method, route.path))
    return found


def test_every_route_has_a_decided_rule_for_every_caller(app):
    routes = app_routes(app)
    assert sorted(routes - set(RULES)) == [], "routes without a rule in RULES"
    assert sorted(set(RULES) - routes) == [], "rules for routes the app no longer has"
    for key, rule in RULES.items():
        assert set(rule.expected) == set(CALLERS), key


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids)
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@contextlib.contextmanager
def session_statements(app):
    """The statements run on the request sessions' engines (not the read interface)."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    db = app.state.db
    engines = {db.engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("route", sorted(RULES), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_answers_each_caller_as_decided(app, client, sync_engine, token_for, route):
    """...and every GET reads only through the read interface (core/reads.py): one statement
    or one snapshot, never the request session."""
    method, _ = route
    rule = RULES[route]
    got: dict[str, int] = {}
    for caller in CALLERS:
        w = build(sync_engine)
        ids = {**w.ids, "fresh": uuid.uuid4().hex[:12]}
        if caller == "anonymous":
            headers: dict[str, str] = {}
        elif caller in w.keys:
            headers = {"Authorization": f"Bearer {w.keys[caller]}"}
        else:
            headers = {"Authorization": f"Bearer {token_for(w.users[caller])}"}
        # `*`: whatever version it is now (tests/test_if_match.py checks the real ETags).
        kwargs: dict[str, Any] = {"headers": {**headers, "If-Match": "*"}}
        if rule.json is not None:
            kwargs["json"] = _fill(rule.json, ids)
        if rule.form is not None:
            who = w.users["member"]
            kwargs["data"] = {"username": who.email, **rule.form}
        if rule.files:
            csv = (
                "email,given name,family name,role,school\n"
                f"new.{uuid.uuid4().hex[:8]}@x.org,N,P,teacher,{ids['school_name']}\n"
            )
            kwargs["files"] = [("file", ("staff.csv", csv.encode(), "text/csv"))]
        with session_statements(app) as on_session:
            r = client.request(method, _fill(rule.path, ids), **kwargs)
        got[caller] = r.status_code
        if method == "GET":
            assert on_session == [], (caller, r.status_code)
    assert got == rule.expected
