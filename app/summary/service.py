"""Compile the summary form (its rendering as a document: app/summary/document.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from app.auth.principal import Principal
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


class TeamStanding(BaseModel):
    """The caller's standing on a team they see: whether they read its confidential records,
    and since when."""

    id: uuid.UUID
    reads_confidential: bool
    confidential_since: datetime | None


async def compile_summary(
    reads: Reads, principal: Principal, team_id: uuid.UUID, *, include_private: bool = True
) -> TeamSummary:
    """The summary of a team the caller sees (404 otherwise), every part read in one snapshot.
    The confidential parts only for those who read the team's records, those written within
    their reach; without `include_private`, none of the caller's private reflections. A kept
    summary is one statement (`Reads.at_one_moment`)."""

    async def read() -> TeamSummary:
        team = await standing(reads, principal, team_id)
        return await summary_of(reads, principal, team, include_private=include_private)

    return await reads.at_one_moment(read)


async def standing(reads: Reads, principal: Principal, team_id: uuid.UUID) -> TeamStanding:
    """The team with the caller's standing on it, if the caller sees it (404 otherwise); its
    kept summary is looked up next (its revision counters read with it)."""
    stmt = teams.standing_statement(principal, team_id)
    found = await reads.one(TeamStanding, stmt, counters_of="id")
    if found is None:
        raise NotFound(TEAM_MISSING)
    return found


async def summary_of(
    reads: Reads, principal: Principal, team: TeamStanding, *, include_private: bool
) -> TeamSummary:
    """The summary of a team whose standing the caller was just given, in the same snapshot:
    as this worker kept it, unless anything it shows has changed since (core/kept.py)."""
    key = ("summary", include_private, team.reads_confidential, team.confidential_since)
    return await reads.kept(
        principal,
        key,
        team.id,
        lambda: _compile(reads, principal, team, include_private),
        until=changes_at,
    )


async def _compile(
    reads: Reads, principal: Principal, team: TeamStanding, include_private: bool
) -> TeamSummary:
    team_id = team.id
    shown = await reads.one(TeamPublic, teams.view_statement(principal, team_id))
    assert shown is not None  # the caller's standing was just read in this snapshot
    plan = await reads.one(PlanPublic, plans.live_plan_statement(team_id))
    if plan is None:
        raise NotFound(NO_PLAN)
    now = utcnow()
    as_of = progress.progress_statement(principal, team_id, now)
    facts = await reads.one(progress.TeamFacts, as_of)
    assert facts is not None  # the team was just read in this snapshot
    calendar = await reads.all(EventPublic, events.team_calendar_statement(team_id))
    conference = observation = forms = None
    member = team.reads_confidential
    if member:
        held = records.team_records_statement(principal, ConferenceRecord, team_id)
        conference = await reads.all(ConferenceRecordPublic, held)
        held = records.team_records_statement(principal, ObservationRecord, team_id)
        observation = await reads.all(ObservationRecordPublic, held)
        forms_of_team = learning_forms.team_forms_statement(principal, team_id)
        forms = await reads.all(LearningFormPublic, forms_of_team)
    posts_stmt = reflections.team_posts_statement(principal, team_id)
    posts = await reads.all(ReflectionPublic, posts_stmt)
    if not include_private:
        posts = [p for p in posts if p.visibility != Visibility.private]
    return TeamSummary(
        team=shown,
        plan=plan,
        progress=progress.build_progress(facts, now),
        calendar=calendar,
        conference_records=conference,
        observation_records=observation,
        learning_forms=forms,
        reflections=posts,
        confidential_included=member,
    )


def changes_at(summary: TeamSummary, now: datetime) -> datetime:
    """When a summary built at `now` would say something else with no row changed: the next
    event to end unconfirmed (it shows as ended, and progress counts it), or the next day in
    UTC (the year's deadlines turn overdue by the day)."""
    tomorrow = progress.next_day(now)
    ending = (
        e.ends_at for e in summary.calendar if e.status == EventStatus.scheduled and e.ends_at > now
    )
    return min([tomorrow, *ending])


async def time_zone(reads: Reads, team_id: uuid.UUID) -> ZoneInfo:
    """The zone the team's documents show times in."""
    zone = await reads.one(teams.Zone, teams.time_zone_statement(team_id))
    return ZoneInfo(zone.time_zone if zone else "UTC")


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
