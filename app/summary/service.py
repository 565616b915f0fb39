"""Compile the summary form, and render it as Markdown or as escaped, printable HTML."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.errors import NotFound
from app.events import service as events
from app.events.models import Event
from app.plans import service as plans
from app.plans.schemas import PlanPublic
from app.progress import service as progress
from app.records.models import ConferenceRecord, ObservationRecord
from app.records.schemas import ConferenceRecordPublic, ObservationRecordPublic
from app.reflections import service as reflections
from app.reflections.schemas import ReflectionPublic
from app.schools.models import School
from app.summary.schemas import TeamSummary
from app.teams import policies
from app.teams import service as teams
from app.teams.policies import TeamAccess
from app.users.models import SchoolMembership


async def compile_summary(
    session: AsyncSession, principal: Principal, access: TeamAccess
) -> TeamSummary:
    team_id = access.team.id
    member = policies.can_read_confidential(principal, access)
    since = policies.confidential_since(principal, access) if member else None
    event_rows = (
        (
            await session.execute(
                select(Event)
                .where(Event.team_id == team_id, Event.deleted_at.is_(None))
                .order_by(Event.starts_at, Event.id)
            )
        )
        .scalars()
        .all()
    )
    conference = observation = None
    if member:
        conference = [
            ConferenceRecordPublic.model_validate(r)
            for r in (
                await session.execute(
                    select(ConferenceRecord)
                    .where(ConferenceRecord.team_id == team_id)
                    .where(true() if since is None else ConferenceRecord.created_at >= since)
                    .order_by(ConferenceRecord.created_at)
                )
            ).scalars()
        ]
        observation = [
            ObservationRecordPublic.model_validate(r)
            for r in (
                await session.execute(
                    select(ObservationRecord)
                    .where(ObservationRecord.team_id == team_id)
                    .where(true() if since is None else ObservationRecord.created_at >= since)
                    .order_by(ObservationRecord.created_at)
                )
            ).scalars()
        ]
    posts_stmt = reflections.list_statement(
        principal, team_id=team_id, author_id=None, visibility=None, q=None
    )
    posts = [
        ReflectionPublic.model_validate(r) for r in (await session.execute(posts_stmt)).mappings()
    ]
    plan = await plans.of_team(session, access)
    if plan is None:
        raise NotFound("This team has no action plan")
    return TeamSummary(
        team=await teams.to_public(session, access.team),
        plan=PlanPublic.model_validate(plan),
        progress=await progress.team_progress(session, principal, team_id),
        calendar=await events.to_public_many(session, event_rows),
        conference_records=conference,
        observation_records=observation,
        reflections=posts,
        confidential_included=member,
    )


async def team_time_zone(session: AsyncSession, access: TeamAccess) -> ZoneInfo:
    """The time zone of the members' school (the first by name, if they span several)."""
    name = (
        await session.execute(
            select(School.time_zone)
            .join(SchoolMembership, SchoolMembership.school_id == School.id)
            .where(SchoolMembership.user_id.in_(access.member_ids))
            .order_by(School.name)
            .limit(1)
        )
    ).scalar_one_or_none()
    return ZoneInfo(name or "UTC")


def _when(value: datetime, zone: ZoneInfo) -> str:
    try:
        return value.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")
    except OverflowError:  # an instant stored before dates were range-checked: show it in UTC
        return value.isoformat()


def to_markdown(s: TeamSummary, zone: ZoneInfo) -> str:
    names = {m.id: f"{m.given_name} {m.family_name}" for m in s.team.members}
    focus = (s.team.focus_area.name if s.team.focus_area else None) or s.team.focus_area_other
    out = [f"# Peer Coaching Summary: {s.team.name}", ""]
    out += [
        f"- **School year:** {s.team.school_year}",
        f"- **Teachers:** {', '.join(names.values())}",
        f"- **Focus area:** {focus or '-'}",
        f"- **Learning target:** {s.plan.learning_target or s.team.learning_target or '-'}",
        f"- **Plan status:** {s.plan.status.value}",
        "",
    ]
    out += ["## Pre-conference", ""]
    for label, value in (
        ("Lesson purpose", s.plan.lesson_purpose),
        ("Classroom dynamics", s.plan.classroom_dynamics),
        ("Philosophies and literature", s.plan.philosophies_and_literature),
    ):
        out += [f"**{label}:** {value or '-'}", ""]
    out += ["## Action plan", ""]
    for label, value in (
        ("What we will take back to the classroom", s.plan.take_back_to_classroom),
        ("How we will apply it", s.plan.how_to_apply),
        ("How we will address open questions", s.plan.addressing_open_questions),
    ):
        out += [f"**{label}:** {value or '-'}", ""]
    out += ["## Calendar of events", "", "| When | What | Where | Status |", "|---|---|---|---|"]
    for e in s.calendar:
        what = e.kind.value.replace("_", " ")
        if e.observer_id and e.observed_id:
            what += f": {names.get(e.observer_id, '?')} observes {names.get(e.observed_id, '?')}"
        out.append(
            f"| {_when(e.starts_at, zone)} | {what} | {e.location or '-'} | {e.status.value} |"
        )
    out.append("")
    if s.conference_records is not None:
        out += ["## Conference records", ""]
        for c in s.conference_records:
            out += [
                f"- **Learning target agreed:** {c.learning_target_agreed or '-'}",
                f"- **Summary:** {c.summary or '-'}",
                f"- **Next steps:** {c.next_steps or '-'}",
                "",
            ]
    if s.observation_records is not None:
        out += ["## Observations", ""]
        for o in s.observation_records:
            out += [f"### Notes by {names.get(o.author_id, 'a former member')}", ""]
            for label, items in (
                ("Affirmations", o.affirmations),
                ("New understandings", o.new_understandings),
                ("Questions I still have", o.open_questions),
            ):
                out += [f"**{label}:**", *[f"- {i}" for i in items or ["-"]], ""]
    p = s.progress
    out += ["## Progress", "", f"Cycle complete: {'yes' if p.complete else 'no'}", ""]
    out += [f"- still to do: {m}" for m in p.missing] + [""]
    out += ["## Reflections", ""]
    for r in s.reflections:
        out += [
            f"### {r.title}",
            f"*{r.author.given_name} {r.author.family_name}, {r.visibility.value}*",
            "",
            r.body,
            "",
        ]
    return "\n".join(out)


def to_html(s: TeamSummary, zone: ZoneInfo) -> str:
    # Every value from users is escaped; Markdown bodies are shown as text, never as markup.
    md = to_markdown(s, zone)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Peer Coaching Summary: {html.escape(s.team.name)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;"
        "line-height:1.5}"
        "pre{white-space:pre-wrap;font-family:inherit}@media print{body{margin:0}}</style>"
        f"</head><body><pre>{html.escape(md)}</pre></body></html>"
    )
