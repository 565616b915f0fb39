"""The year-end growth report for administrators: each team with its focus area, progress,
coverage arranged and year-end meeting status. A page reads its teams, then the rows this
worker has not kept (core/kept.py) in one statement."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core import csv_export
from app.core.db import utcnow
from app.core.kept import ListedRevision
from app.core.pagination import Page, PageParams, PageQuery
from app.core.reads import Bound, Reads
from app.core.sql import AnySelect, collected
from app.coverage.models import CoverageRequest, CoverageStatus
from app.focus_areas.models import FocusArea
from app.progress.schemas import DeadlineState
from app.progress.service import (
    TeamFacts,
    as_of_values,
    build_progress,
    facts_columns,
    next_day,
)
from app.reflections import policies as reflection_policies
from app.reports.schemas import YearEndRow
from app.schools.models import School
from app.teams import policies as team_policies
from app.teams.models import SchoolTeam, Team


class YearEndFacts(TeamFacts):
    """What one report row is computed from."""

    team_name: str
    school_year: str
    focus_area: str | None
    schools: list[str]
    coverage_arranged: int
    coverage_pending: int


def _per_team(kind: reflection_policies.Reader) -> Any:
    def columns(team: Any) -> list[Any]:
        schools = (
            select(col(School.name))
            .join(SchoolTeam, col(SchoolTeam.school_id) == School.id)
            .where(SchoolTeam.team_id == team.id)
            .order_by(School.name)
        )

        def coverage(status: CoverageStatus) -> Any:
            count = select(func.count(col(CoverageRequest.id))).where(
                CoverageRequest.team_id == team.id, col(CoverageRequest.status) == status
            )
            return count.scalar_subquery().label(f"coverage_{status.value}")

        return [
            *facts_columns(kind, team),
            collected(schools).label("schools"),
            coverage(CoverageStatus.arranged),
            coverage(CoverageStatus.pending),
        ]

    return columns


def teams_query(
    principal: Principal, school_year: str | None, school_id: uuid.UUID | None
) -> tuple[PageQuery, dict[str, Any]]:
    """The report's teams (their ids), newest school year first, and the values of the query's
    parameters."""
    query = _teams_query(
        team_policies.reach_at_school(principal, school_id),
        school_year is not None,
        school_id is not None,
    )
    values = {**caller_values(principal), "school_year": school_year, "school_id": school_id}
    return query, values


@functools.cache
def _teams_query(reach: team_policies.TeamReach, by_year: bool, by_school: bool) -> PageQuery:
    stmt: AnySelect = select(
        col(Team.id), col(Team.id).label("team_id"), col(Team.name), col(Team.school_year)
    ).where(team_policies.teams_within(reach, include_deleted=False))
    if by_year:
        stmt = stmt.where(col(Team.school_year) == bindparam("school_year"))
    if by_school:
        stmt = stmt.where(team_policies.with_member_at_school())
    return PageQuery(stmt, [col(Team.school_year).desc(), col(Team.name), Team.id])


def facts_statement(principal: Principal, team_ids: list[uuid.UUID], now: datetime) -> Bound:
    """Each row's facts, for teams the caller was just shown (`teams_query`), as of `now`."""
    values = {**caller_values(principal), **as_of_values(now), "team_ids": team_ids}
    return Bound(_facts(reflection_policies.reader(principal)), values)


@functools.cache
def _facts(kind: reflection_policies.Reader) -> AnySelect:
    return (
        select(
            col(Team.id).label("team_id"),
            col(Team.name).label("team_name"),
            col(Team.school_year),
            func.coalesce(FocusArea.name, Team.focus_area_other).label("focus_area"),
            *_per_team(kind)(Team),
        )
        .outerjoin(FocusArea, col(FocusArea.id) == Team.focus_area_id)
        .where(col(Team.id).in_(bindparam("team_ids", expanding=True)))
    )


MAX_CSV_TEAMS = 10_000


@dataclass(frozen=True, slots=True)
class _KeptRow:
    """A team's row as a worker keeps it: the row, and its line of the CSV."""

    row: YearEndRow
    line: str


async def _kept_rows(
    reads: Reads,
    principal: Principal,
    params: PageParams,
    school_year: str | None,
    school_id: uuid.UUID | None,
) -> tuple[Page[ListedRevision], list[_KeptRow]]:
    """A page of the report's teams and their rows, from one snapshot: each team's row as this
    worker kept it for the caller, unless anything it shows has changed (core/kept.py); the
    rows not kept read in one statement."""
    query, values = teams_query(principal, school_year, school_id)

    async def build(missing: list[uuid.UUID]) -> dict[uuid.UUID, _KeptRow]:
        now = utcnow()
        facts = await reads.all(YearEndFacts, facts_statement(principal, missing, now))
        rows = (to_row(f, now) for f in facts)
        return {r.team_id: _KeptRow(r, csv_export.line(_cells(r))) for r in rows}

    teams, kept = await reads.kept_page(
        principal, "year-end row", query, params, values, build, until=lambda _, now: next_day(now)
    )
    return teams, [kept[t.team_id] for t in teams.items]


async def report(
    reads: Reads,
    principal: Principal,
    params: PageParams,
    school_year: str | None,
    school_id: uuid.UUID | None,
) -> Page[YearEndRow]:
    """A page of the report."""
    teams, kept = await _kept_rows(reads, principal, params, school_year, school_id)
    return teams.holding(YearEndRow, [k.row for k in kept])


# A CSV of at most this many teams (a school's) is kept whole; a larger one is joined from its
# rows as kept each time.
KEPT_CSV_TEAMS = 200


@functools.cache
def _csv_teams(reach: team_policies.TeamReach, by_year: bool, by_school: bool) -> AnySelect:
    """The teams a CSV lists (as `_teams_query`, unordered), up to `teams_up_to`: what a CSV
    kept whole is filed under."""
    stmt = _teams_query(reach, by_year, by_school).stmt.with_only_columns(col(Team.id))
    return stmt.limit(bindparam("teams_up_to"))


async def report_csv(
    reads: Reads, principal: Principal, school_year: str | None, school_id: uuid.UUID | None
) -> str:
    """The whole report (up to MAX_CSV_TEAMS teams) as CSV, its rows' lines as kept. A school's
    CSV (up to KEPT_CSV_TEAMS teams) is kept whole for the caller while its teams are the same
    and none of them changed, until the day turns (core/kept.py)."""
    everything = PageParams(limit=MAX_CSV_TEAMS, offset=0, counted=False)

    async def build(_teams: list[uuid.UUID] | None) -> str:
        _, kept = await _kept_rows(reads, principal, everything, school_year, school_id)
        return _CSV_HEADER + "".join(k.line for k in kept)

    reach = team_policies.reach_at_school(principal, school_id)
    if reach is team_policies.TeamReach.district and school_id is None:
        return await build(None)  # every team: more than are kept whole
    _, values = teams_query(principal, school_year, school_id)
    listing = _csv_teams(reach, school_year is not None, school_id is not None)
    return await reads.kept_whole(
        principal,
        ("year-end csv", school_year, school_id),
        Bound(listing, {**values, "teams_up_to": KEPT_CSV_TEAMS + 1}),
        build,
        until=lambda _, now: next_day(now),
        at_most=KEPT_CSV_TEAMS,
    )


def to_row(facts: YearEndFacts, as_of: datetime) -> YearEndRow:
    progress = build_progress(facts, as_of)
    return YearEndRow(
        team_id=facts.team_id,
        team_name=facts.team_name,
        school_year=facts.school_year,
        schools=facts.schools,
        focus_area=facts.focus_area,
        members=[f"{m.given_name} {m.family_name}" for m in facts.members],
        plan_status=progress.plan_status,
        cycle_complete=progress.complete,
        steps_missing=len(progress.missing),
        missing_steps=[m.code for m in progress.missing],
        deadlines_overdue=[d.code for d in progress.deadlines if d.state == DeadlineState.overdue],
        observations_held=sum(o.observed for o in progress.observations),
        observation_records=progress.observation_records,
        reflections=progress.reflections,
        coverage_arranged=facts.coverage_arranged,
        coverage_pending=facts.coverage_pending,
        year_end_meeting=progress.year_end_meeting,
    )


CSV_COLUMNS = list(YearEndRow.model_fields)
_CSV_HEADER = csv_export.to_csv(CSV_COLUMNS, [])


def _cells(row: YearEndRow) -> list[Any]:
    return [getattr(row, c) for c in CSV_COLUMNS]
