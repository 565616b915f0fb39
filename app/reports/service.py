"""The year-end growth report for administrators: each team with its focus area, progress,
coverage arranged and year-end meeting status. A page reads its teams, then the rows this
worker has not kept (core/kept.py) in one statement."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core import csv_export
from app.core.db import utcnow
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
from app.teams.models import Team, TeamMember
from app.users.models import SchoolMembership


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
            .distinct()
            .join(SchoolMembership, col(SchoolMembership.school_id) == School.id)
            .join(TeamMember, col(TeamMember.user_id) == SchoolMembership.user_id)
            .where(TeamMember.team_id == team.id)
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


class ReportTeam(BaseModel):
    team_id: uuid.UUID


def teams_query(
    principal: Principal, school_year: str | None, school_id: uuid.UUID | None
) -> tuple[PageQuery, dict[str, Any]]:
    """The report's teams (their ids), newest school year first, and the values of the query's
    parameters."""
    query = _teams_query(
        team_policies.team_reach(principal), school_year is not None, school_id is not None
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
        stmt = stmt.where(
            col(Team.id).in_(
                select(col(TeamMember.team_id))
                .join(SchoolMembership, col(SchoolMembership.user_id) == TeamMember.user_id)
                .where(col(SchoolMembership.school_id) == bindparam("school_id"))
            )
        )
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


async def report(
    reads: Reads,
    principal: Principal,
    params: PageParams,
    school_year: str | None,
    school_id: uuid.UUID | None,
) -> Page[YearEndRow]:
    """A page of the report, from one snapshot: the page's teams, then each team's row as this
    worker kept it for the caller, unless anything it shows has changed (core/kept.py)."""
    query, values = teams_query(principal, school_year, school_id)
    async with reads.snapshot():
        teams = await reads.page(ReportTeam, query, params, values)

        async def build(missing: list[uuid.UUID]) -> dict[uuid.UUID, YearEndRow]:
            now = utcnow()
            facts = await reads.all(YearEndFacts, facts_statement(principal, missing, now))
            return {f.team_id: to_row(f, now) for f in facts}

        ids = [t.team_id for t in teams.items]
        rows = await reads.kept_each(
            principal, "year-end row", ids, build, until=lambda _, now: next_day(now)
        )
    return Page[YearEndRow](
        items=[rows[i] for i in ids],
        total=teams.total,
        total_exact=teams.total_exact,
        limit=teams.limit,
        offset=teams.offset,
        next=teams.next,
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


def to_csv(rows: list[YearEndRow]) -> str:
    return csv_export.to_csv(CSV_COLUMNS, [[getattr(row, c) for c in CSV_COLUMNS] for row in rows])
