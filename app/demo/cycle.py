"""Demo coaching teams, one at each stage of the cycle, built through the real services."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import Principal, Staff
from app.core.db import utcnow
from app.core.etag import etag
from app.core.writes import Writes
from app.coverage import deps as coverage_access
from app.coverage import service as coverage
from app.coverage.schemas import CoverageArrange, CoverageRequestCreate
from app.events import deps as event_access
from app.events import service as events
from app.events.models import EventKind
from app.events.schemas import EventCreate, EventUpdate
from app.focus_areas.catalog import suggested_focus_area_id
from app.growth import service as growth
from app.growth.schemas import GrowthRecordWrite
from app.learning_forms import service as learning_forms
from app.learning_forms.schemas import LearningFormWrite
from app.plans import deps as plan_access
from app.plans import service as plans
from app.plans.schemas import PlanAction, PlanTransitionCreate, PlanUpdate
from app.records import deps as records_access
from app.records import service as records
from app.records.schemas import ConferenceRecordWrite, ObservationRecordWrite
from app.reflections import service as reflections
from app.reflections.models import Visibility
from app.reflections.schemas import CommentCreate, ReflectionCreate
from app.resources import service as resources
from app.resources.schemas import ResourceCreate
from app.school_years import service as school_years
from app.school_years.schemas import SchoolYearCreate
from app.support import service as support
from app.support.models import SupportKind
from app.support.schemas import SupportRequestCreate
from app.teams import service as teams
from app.teams.models import Team, TeamInvitation
from app.teams.schemas import TeamCreate, TeamInvitationCreate
from app.users.models import SchoolMembership, User


def demo_school_year(today: date) -> SchoolYearCreate:
    """The school year around `today` (August to July), stretched to hold the demo's calendar
    (events from 60 days back to 10 ahead), current, with the program's dates in it."""
    first = today.year if today.month >= 8 else today.year - 1
    starts_on = min(date(first, 8, 1), today - timedelta(days=90))
    ends_on = max(date(first + 1, 7, 31), today + timedelta(days=60))
    return SchoolYearCreate(
        label=f"{first}-{first + 1}",
        starts_on=starts_on,
        ends_on=ends_on,
        is_current=True,
        plan_due_on=today + timedelta(days=14),
        observations_from=starts_on,
        observations_until=today + timedelta(days=45),
        year_end_meetings_from=today - timedelta(days=30),
        year_end_meetings_until=ends_on,
    )


async def _principal(session: AsyncSession, email: str) -> Principal:
    user = (await session.execute(select(User).where(col(User.email) == email))).scalar_one()
    schools = (
        await session.execute(
            select(col(SchoolMembership.school_id)).where(col(SchoolMembership.user_id) == user.id)
        )
    ).scalars()
    return Principal(user=Staff.of(user), school_ids=frozenset(schools))


async def load_demo_cycle(session: AsyncSession) -> int:
    """Adds the demo teams unless any team exists; returns how many were added."""
    if (await session.execute(select(func.count(col(Team.id))))).scalar_one():
        return 0
    p = {
        e.split("@")[0]: await _principal(session, e)
        for e in (
            "ana.alvarez@example.org",
            "ben.brooks@example.org",
            "carla.chen@example.org",
            "david.diallo@example.org",
            "erin.evans@example.org",
            "farid.farouk@example.org",
            "grace.green@example.org",
            "hiro.hayashi@example.org",
            "lincoln.admin@example.org",
            "roosevelt.admin@example.org",
        )
    }
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    wanted = demo_school_year(now.date())
    year = await school_years.of_label(session, wanted.label) or await school_years.create(
        session, wanted
    )

    async def team(creator: str, other: str, name: str, focus: str, target: str):
        invitee = p[other].user
        assert invitee is not None
        t = await teams.create(
            session,
            p[creator],
            TeamCreate(
                name=name,
                school_year=year.label,
                focus_area_id=suggested_focus_area_id(focus),
                learning_target=target,
                invitee_ids=[invitee.id],
            ),
        )
        invited = await session.execute(
            select(col(TeamInvitation.id)).where(col(TeamInvitation.team_id) == t.id)
        )
        await teams.answer_invitation(session, p[other], invited.scalar_one(), accept=True)
        access = await teams.get_viewable(session, p[creator], t.id)
        assert access is not None
        return access

    async def event(
        who: str,
        access,
        kind: EventKind,
        days: int,
        observer=None,
        observed=None,
        participants=None,
    ):
        start = now + timedelta(days=days)
        return await events.create(
            Writes.in_session(session),
            p[who],
            EventCreate(
                team_id=access.team.id,
                kind=kind,
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                location="Room 101",
                observer_id=observer,
                observed_id=observed,
                participant_ids=participants,
            ),
        )

    async def plan_to(access, member: str, admin: str, *actions: PlanAction) -> None:
        plan = (await plan_access.get_changing_plan(access, session)).plan
        await plans.update(
            session,
            plan,
            PlanUpdate(
                lesson_purpose="Model the strategy in a real lesson",
                classroom_dynamics="Mixed-ability groups of four",
            ),
        )
        for action in actions:
            who = member if action == PlanAction.submit else admin
            await plans.transition(
                session, p[who], access, plan, PlanTransitionCreate(action=action),
                etag("plan", plan.version),
            )  # fmt: skip

    uid = {k: v.user.id for k, v in p.items() if v.user is not None}

    # Records are written as through the API: its access dependencies decide who may.
    async def member_event(who: str, event_id):
        ev = await event_access.get_viewable_event(event_id, session, p[who])
        return await records_access.get_member_event(ev, p[who])

    async def held(who: str, event_id) -> None:
        """`who` confirms the event took place (POST /events/{id}/held)."""
        ev = await event_access.get_viewable_event(event_id, session, p[who])
        await events.confirm_held(session, p[who], ev.team, ev.event, "*")

    async def observation_record(who: str, event_id, data: ObservationRecordWrite) -> None:
        await member_event(who, event_id)
        await records.create_observation(Writes.in_session(session), p[who], event_id, data)

    async def conference_record(who: str, event_id, data: ConferenceRecordWrite) -> None:
        ev = await member_event(who, event_id)
        found = await records_access.get_conference_record(ev, session, p[who])
        await records.put_conference(session, p[who], found, data)

    # 1. Just formed: a draft plan, and Carla invited to join (she has not answered yet).
    t1 = await team(
        "ana.alvarez",
        "ben.brooks",
        "Guided reading circle",
        "Guided reading",
        "Shorter, more focused guided reading groups",
    )
    carla = p["carla.chen"].user
    assert carla is not None
    await teams.invite(session, p["ana.alvarez"], t1, TeamInvitationCreate(user_id=carla.id))
    # 2. Plan submitted for review, pre-conference on the calendar.
    t2 = await team(
        "carla.chen",
        "david.diallo",
        "Calm classrooms",
        "Effective classroom management",
        "Smooth transitions between centers",
    )
    await plan_to(t2, "carla.chen", "lincoln.admin", PlanAction.submit)
    # ... returned once with a comment, and submitted again (the history shows both).
    plan2 = (await plan_access.get_changing_plan(t2, session)).plan
    await plans.transition(
        session, p["lincoln.admin"], t2, plan2,
        PlanTransitionCreate(action=PlanAction.return_, comment="Add how you will group students"),
        etag("plan", plan2.version),
    )  # fmt: skip
    await plans.update(session, plan2, PlanUpdate(classroom_dynamics="Groups of four by need"))
    await plans.transition(
        session, p["carla.chen"], t2, plan2, PlanTransitionCreate(action=PlanAction.submit),
        etag("plan", plan2.version),
    )  # fmt: skip
    await event("carla.chen", t2, EventKind.pre_conference, 5)
    # 3. Observing: plan approved, pre-conference held, observations under way, coverage asked.
    t3 = await team(
        "erin.evans",
        "farid.farouk",
        "New math units",
        "Implementation of new units/curriculum",
        "Number talks in the new unit",
    )
    await plan_to(t3, "erin.evans", "roosevelt.admin", PlanAction.submit, PlanAction.approve)
    pre3 = await event("erin.evans", t3, EventKind.pre_conference, -20)
    await conference_record(
        "erin.evans",
        pre3.id,
        ConferenceRecordWrite(
            summary="Agreed on wait time",
        ),
    )
    obs = await event(
        "erin.evans", t3, EventKind.observation, -10, uid["erin.evans"], uid["farid.farouk"]
    )
    await observation_record(
        "erin.evans",
        obs.id,
        ObservationRecordWrite(
            affirmations=["Clear launch of the task"],
            new_understandings=["Use a number line anchor chart"],
            open_questions=["How long to wait before a hint?"],
            evidence="Four students explained strategies",
        ),
    )
    # Erin's own learning form, answered after observing (Farid has not written his yet).
    await learning_forms.put(
        session,
        p["erin.evans"],
        t3,
        uid["erin.evans"],
        LearningFormWrite(
            purpose="My students rush to answers; I want them to explain how they got there",
            pre_conference_summary="Wait time, and asking 'how do you know?'",
            take_back_to_classroom="A number line anchor chart in every unit",
            how_to_apply="Start each lesson with one number talk",
            addressing_open_questions="Ask Farid how long he waits before a hint",
        ),
        None,
    )
    upcoming = await event(
        "erin.evans", t3, EventKind.observation, 7, uid["farid.farouk"], uid["erin.evans"]
    )
    await coverage.create(
        session, p["farid.farouk"], CoverageRequestCreate(event_id=upcoming.id, note="Period 3")
    )
    # Coverage arranged, then the observation moved a day: it needs the administrator again.
    moved = await event(
        "erin.evans", t3, EventKind.observation, 9, uid["erin.evans"], uid["farid.farouk"]
    )
    cov_id = (
        await coverage.create(session, p["erin.evans"], CoverageRequestCreate(event_id=moved.id))
    ).id
    admin = p["roosevelt.admin"]  # through the API's own access checks
    decidable = await coverage_access.get_decidable_request(
        await coverage_access.get_changeable_request(cov_id, session, admin), admin
    )
    await coverage.arrange(session, admin, decidable, CoverageArrange(covered_by="Mr. Patel (sub)"))
    found = await event_access.get_viewable_event(moved.id, session, p["erin.evans"])
    later = moved.starts_at + timedelta(days=1)
    await events.update(
        session,
        p["erin.evans"],
        found.team,
        found.event,
        EventUpdate(starts_at=later, ends_at=later + timedelta(hours=1)),
    )
    # 4. A full cycle, completed at year end.
    t4 = await team(
        "grace.green",
        "hiro.hayashi",
        "Reading Apprenticeship",
        "Reading Apprenticeship strategy implementation",
        "Talking to the text in grade 7 science",
    )
    await plan_to(t4, "grace.green", "roosevelt.admin", PlanAction.submit, PlanAction.approve)
    await held("hiro.hayashi", (await event("grace.green", t4, EventKind.pre_conference, -60)).id)
    day = -50
    for observer, observed in [
        ("grace.green", "hiro.hayashi"),
        ("hiro.hayashi", "grace.green"),
    ] * 2:
        o = await event("grace.green", t4, EventKind.observation, day, uid[observer], uid[observed])
        await observation_record(
            observer,
            o.id,
            ObservationRecordWrite(
                affirmations=["Students annotated the text"],
                new_understandings=["Pair think-alouds"],
                open_questions=[],
            ),
        )
        day += 7
    post = await event("grace.green", t4, EventKind.post_conference, -15)
    await conference_record(
        "hiro.hayashi",
        post.id,
        ConferenceRecordWrite(
            summary="Both classes annotate independently now",
            next_steps="Share at the staff meeting",
        ),
    )
    blog_post = await reflections.create(
        Writes.in_session(session),
        p["grace.green"],
        ReflectionCreate(
            title="What talking to the text changed",
            visibility=Visibility.program,
            team_id=t4.team.id,
            body="Our students **ask more questions** of the text.\n\n"
            "- annotate\n- discuss\n- revise",
        ),
    )
    meeting = await event(
        "roosevelt.admin",
        t4,
        EventKind.year_end_meeting,
        -2,
        participants=[uid["grace.green"], uid["hiro.hayashi"], uid["roosevelt.admin"]],
    )
    await held("roosevelt.admin", meeting.id)  # an administrator confirms the year-end meeting
    found = await event_access.get_viewable_event(meeting.id, session, p["roosevelt.admin"])
    await growth.put(
        session,
        p["roosevelt.admin"],
        found,
        GrowthRecordWrite(
            learned="Annotating the text became the students' habit, not the teachers'",
            goals_next_year="Bring talking to the text to the grade 8 team",
        ),
        None,
    )
    writes = Writes.in_session(session)
    async with writes.transaction() as tx:  # the post as the API's access dependency reads it
        readable = await tx.one(
            reflections.CommentedPost,
            reflections.commented_statement(p["hiro.hayashi"], blog_post.id),
        )
    assert readable is not None
    await reflections.add_comment(
        writes, p["hiro.hayashi"], readable, CommentCreate(body="Seeing it in your class helped")
    )
    plan4 = (await plan_access.get_changing_plan(t4, session)).plan
    await plans.transition(
        session, p["roosevelt.admin"], t4, plan4, PlanTransitionCreate(action=PlanAction.complete),
        etag("plan", plan4.version),
    )  # fmt: skip
    # The resource library and a question for an administrator.
    for title, url, focus in (
        ("Peer coaching handbook", "https://example.org/peer-coaching-handbook.pdf", None),
        (
            "Guided reading: running records",
            "https://example.org/running-records",
            "Guided reading",
        ),
        (
            "Reading Apprenticeship: talking to the text",
            "https://example.org/ra-talk-to-text",
            "Reading Apprenticeship strategy implementation",
        ),
    ):
        await resources.create(
            session,
            p["lincoln.admin"],
            ResourceCreate(
                title=title,
                url=url,
                focus_area_ids=[suggested_focus_area_id(focus)] if focus else [],
            ),
        )
    await support.create(
        session,
        p["ana.alvarez"],
        SupportRequestCreate(
            kind=SupportKind.resources,
            subject="Leveled readers for our groups",
            message="Could the library order a set of leveled readers for grade 2?",
        ),
    )
    return 4
