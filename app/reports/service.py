"""The year-end growth report for administrators: each team with its focus area, progress,
coverage arranged and year-end meeting status; a page of it is one statement."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlmodel import col

from app.auth.principal import Principal, caller_values
from app.core import csv_export
from app.core.pagination import Page, PageQuery
from app.core.sql import AnySelect, collected
from app.coverage.models import CoverageRequest, CoverageStatus
from app.focus_areas.models import FocusArea
from app.progress.schemas import DeadlineState
from app.progress.service import TeamFacts, as_of_values, build_progress, facts_columns
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


def teams_query(
    principal: Principal, school_year: str | None, school_id: uuid.UUID | None, now: datetime
) -> tuple[PageQuery, dict[str, Any]]:
    """The report's teams, newest school year first, with the facts of each row as of `now`,
    and the values of its parameters."""
    query = _teams_query(
        team_policies.team_reach(principal),
        reflection_policies.reader(principal),
        school_year is not None,
        school_id is not None,
    )
    values = {
        **caller_values(principal),
        **as_of_values(now),
        "school_year": school_year,
        "school_id": school_id,
    }
    return query, values


@functools.cache
def _teams_query(
    reach: team_policies.TeamReach,
    kind: reflection_policies.Reader,
    by_year: bool,
    by_school: bool,
) -> PageQuery:
    stmt: AnySelect = (
        select(
            col(Team.id),
            col(Team.id).label("team_id"),
            col(Team.name).label("team_name"),
            col(Team.school_year),
            func.coalesce(FocusArea.name, Team.focus_area_other).label("focus_area"),
        )
        .outerjoin(FocusArea, col(FocusArea.id) == Team.focus_area_id)
        .where(team_policies.teams_within(reach, include_deleted=False))
    )
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
    order = [col(Team.school_year).desc(), col(Team.name).label("team_name"), Team.id]
    return PageQuery(stmt, order, per_row=_per_team(kind))


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


def to_rows(page: Page[YearEndFacts], as_of: datetime) -> Page[YearEndRow]:
    return Page[YearEndRow](
        items=[to_row(f, as_of) for f in page.items],
        total=page.total,
        total_exact=page.total_exact,
        limit=page.limit,
        offset=page.offset,
        next=page.next,
    )


CSV_COLUMNS = list(YearEndRow.model_fields)


def to_csv(rows: list[YearEndRow]) -> str:
    return csv_export.to_csv(CSV_COLUMNS, [[getattr(row, c) for c in CSV_COLUMNS] for row in rows])
