"""Compile the summary form, and render it as Markdown or as escaped, printable HTML."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from app.auth.principal import Principal
from app.core.access import read_visible
from app.core.db import utcnow
from app.core.errors import NotFound
from app.core.reads import Reads
from app.events import service as events
from app.events.models import EventStatus
from app.events.schemas import EventPublic
from app.learning_forms import service as learning_forms
from app.learning_forms.schemas import LearningFormPublic
from app.plans import service as plans
from app.plans.deps import NO_PLAN
from app.plans.schemas import PlanPublic
from app.progress import service as progress
from app.records import service as records
from app.records.models import ConferenceRecord, ObservationRecord
from app.records.schemas import ConferenceRecordPublic, ObservationRecordPublic
from app.reflections import service as reflections
from app.reflections.models import Visibility
from app.reflections.schemas import ReflectionPublic
from app.summary.schemas import TeamSummary
from app.teams import service as teams
from app.teams.deps import MISSING as TEAM_MISSING
from app.teams.schemas import TeamPublic


class _TeamStanding(TeamPublic):
    reads_confidential: bool
    confidential_since: datetime | None


async def compile_summary(
    reads: Reads, principal: Principal, team_id: uuid.UUID, *, include_private: bool = True
) -> TeamSummary:
    """The summary of a team the caller sees (404 otherwise), every part read in one snapshot.
    The confidential parts only for those who read the team's records, those written within
    their reach; without `include_private`, none of the caller's private reflections."""
    async with reads.snapshot():
        stmt = teams.standing_statement(principal, team_id)
        team = await read_visible(reads, _TeamStanding, stmt, missing=TEAM_MISSING)
        plan = await reads.one(PlanPublic, plans.live_plan_statement(team_id))
        if plan is None:
            raise NotFound(NO_PLAN)
        now = utcnow()
        as_of = progress.progress_statement(principal, team_id, now)
        facts = await reads.one(progress.TeamFacts, as_of)
        assert facts is not None  # the team was just read in this snapshot
        calendar = await reads.all(EventPublic, events.team_calendar_statement(team_id))
        conference = observation = forms = None
        member, since = team.reads_confidential, team.confidential_since
        if member:
            held = records.team_records_statement(ConferenceRecord, team_id, since)
            conference = await reads.all(ConferenceRecordPublic, held)
            held = records.team_records_statement(ObservationRecord, team_id, since)
            observation = await reads.all(ObservationRecordPublic, held)
            forms_of_team = learning_forms.team_forms_statement(team_id, since)
            forms = await reads.all(LearningFormPublic, forms_of_team)
        posts_stmt = reflections.team_posts_statement(principal, team_id)
        posts = await reads.all(ReflectionPublic, posts_stmt)
        if not include_private:
            posts = [p for p in posts if p.visibility != Visibility.private]
    return TeamSummary(
        team=TeamPublic.model_validate(team.model_dump()),
        plan=plan,
        progress=progress.build_progress(facts, now),
        calendar=calendar,
        conference_records=conference,
        observation_records=observation,
        learning_forms=forms,
        reflections=posts,
        confidential_included=member,
    )


async def compile_document(
    reads: Reads, principal: Principal, team_id: uuid.UUID, *, include_private: bool = True
) -> tuple[TeamSummary, ZoneInfo]:
    """The summary and the time zone its document shows times in, from one snapshot."""
    async with reads.snapshot():
        summary = await compile_summary(reads, principal, team_id, include_private=include_private)
        zone = await reads.one(teams.Zone, teams.time_zone_statement(team_id))
    return summary, ZoneInfo(zone.time_zone if zone else "UTC")


def when(value: datetime, zone: ZoneInfo) -> str:
    try:
        return value.astimezone(zone).strftime("%a %d %b %Y, %H:%M %Z")
    except OverflowError:  # an instant stored before dates were range-checked: show it in UTC
        return value.isoformat()


def event_status(e: EventPublic, now: datetime) -> str:
    """An event's status as the form shows it: never "scheduled" for what is past."""
    if e.status == EventStatus.held:
        return "held"
    if e.status == EventStatus.cancelled:
        return "cancelled"
    return "ended, not confirmed held" if e.ends_at <= now else "scheduled"


FORM_ANSWERS = (
    ("Purpose of the learning target", "purpose"),
    ("Philosophies and literature", "philosophies_and_literature"),
    ("What was discussed at the pre-conference", "pre_conference_summary"),
    ("What I will take back to my classroom", "take_back_to_classroom"),
    ("How I will apply my new understandings", "how_to_apply"),
    ("How I will address the questions I still have", "addressing_open_questions"),
)
CONFERENCE_ANSWERS = (
    ("Summary", "summary"),
    ("Strategies modelled", "strategies_modelled"),
    ("Questions posed to each other", "questions_posed"),
    ("Next steps for learning", "next_steps"),
)


def to_markdown(s: TeamSummary, zone: ZoneInfo) -> str:
    names = {m.id: f"{m.given_name} {m.family_name}" for m in s.team.members}
    events = {e.id: e for e in s.calendar}
    focus = (s.team.focus_area.name if s.team.focus_area else None) or s.team.focus_area_other
    out = [f"# Peer Coaching Summary: {s.team.name}", ""]
    out += [
        f"- **School year:** {s.team.school_year}",
        f"- **Teachers:** {', '.join(names.values())}",
        f"- **Focus area:** {focus or '-'}",
        f"- **Learning target:** {s.plan.learning_target or '-'}",
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
    for form in s.learning_forms or []:
        out += [f"## Learning form: {names.get(form.teacher_id, 'a former member')}", ""]
        for label, key in FORM_ANSWERS:
            out += [f"**{label}:** {getattr(form, key) or '-'}", ""]
    out += ["## Calendar of events", "", "| When | What | Where | Status |", "|---|---|---|---|"]
    now = utcnow()
    for e in s.calendar:
        what = e.kind.value.replace("_", " ")
        if e.observer_id and e.observed_id:
            what += f": {names.get(e.observer_id, '?')} observes {names.get(e.observed_id, '?')}"
        out.append(
            f"| {when(e.starts_at, zone)} | {what} | {e.location or '-'} | {event_status(e, now)} |"
        )
    out.append("")
    if s.conference_records is not None:
        out += ["## Conference records", ""]
        for c in s.conference_records:
            ev = events.get(c.event_id)
            kind = ev.kind.value.replace("_", "-").capitalize() if ev else "Conference"
            where = f", {ev.location}" if ev and ev.location else ""
            out += [f"### {kind}: {when(ev.starts_at, zone) if ev else '-'}{where}", ""]
            for label, key in CONFERENCE_ANSWERS:
                value = getattr(c, key)
                if value is None and key != "summary":
                    continue
                by = c.written_by.get(key)
                author = f" *({names.get(by, 'a former member')})*" if by else ""
                out += [f"- **{label}:** {value or '-'}{author}"]
            out.append("")
    if s.observation_records is not None:
        out += ["## Observations", ""]
        for o in s.observation_records:
            out += [f"### Notes by {names.get(o.author_id, 'a former member')}", ""]
            if (ev := events.get(o.event_id)) is not None:
                observed = names.get(ev.observed_id, "a former member") if ev.observed_id else "-"
                out += [
                    f"- **Date:** {when(ev.starts_at, zone)}",
                    f"- **Teacher observed:** {observed}",
                    f"- **Learning target:** {ev.learning_target or '-'}",
                    f"- **Strategy observed:** {ev.strategy or '-'}",
                    "",
                ]
            out += [f"**Evidence:** {o.evidence or '-'}", ""]
            for label, items in (
                ("Affirmations", o.affirmations),
                ("New understandings", o.new_understandings),
                ("Questions I still have", o.open_questions),
            ):
                out += [f"**{label}:**", *[f"- {i}" for i in items or ["-"]], ""]
    p = s.progress
    out += ["## Progress", "", f"Cycle complete: {'yes' if p.complete else 'no'}", ""]
    out += [f"- still to do: {m.message}" for m in p.missing] + [""]
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
