"""The year-end growth report for administrators: each team with its focus area, progress,
coverage arranged and year-end meeting status, in a fixed number of queries."""

from __future__ import annotations

import csv
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.core.db import utcnow
from app.coverage.models import CoverageRequest, CoverageStatus
from app.focus_areas.models import FocusArea
from app.progress.service import build_progress, load_facts
from app.reports.schemas import YearEndRow
from app.schools.models import School
from app.teams import policies as team_policies
from app.teams.models import Team, TeamMember
from app.users.models import SchoolMembership


def teams_statement(
    principal: Principal, school_year: str | None, school_id: uuid.UUID | None
) -> Select[Any]:
    stmt = (
        select(
            Team.id,
            Team.name,
            Team.school_year,
            Team.focus_area_other,
            FocusArea.name.label("focus_name"),
        )
        .outerjoin(FocusArea, FocusArea.id == Team.focus_area_id)
        .where(team_policies.visible_teams(principal, include_deleted=False))
    )
    if school_year is not None:
        stmt = stmt.where(Team.school_year == school_year)
    if school_id is not None:
        stmt = stmt.where(
            Team.id.in_(
                select(TeamMember.team_id)
                .join(SchoolMembership, SchoolMembership.user_id == TeamMember.user_id)
                .where(SchoolMembership.school_id == school_id)
            )
        )
    return stmt.order_by(Team.school_year.desc(), Team.name, Team.id)


async def rows_for(
    session: AsyncSession, principal: Principal, teams: Iterable[dict[str, Any]]
) -> list[YearEndRow]:
    teams = list(teams)
    ids = [t["id"] for t in teams]
    facts = await load_facts(session, principal, ids)
    schools: dict[uuid.UUID, set[str]] = defaultdict(set)
    coverage: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    if ids:
        for team_id, name in await session.execute(
            select(TeamMember.team_id, School.name)
            .join(SchoolMembership, SchoolMembership.user_id == TeamMember.user_id)
            .join(School, School.id == SchoolMembership.school_id)
            .where(TeamMember.team_id.in_(ids))
        ):
            schools[team_id].add(name)
        for team_id, status, count in await session.execute(
            select(CoverageRequest.team_id, CoverageRequest.status, func.count(CoverageRequest.id))
            .where(CoverageRequest.team_id.in_(ids))
            .group_by(CoverageRequest.team_id, CoverageRequest.status)
        ):
            coverage[team_id][status] = count
    now = utcnow()
    out = []
    for t in teams:
        f = facts[t["id"]]
        progress = build_progress(t["id"], f, now)
        out.append(
            YearEndRow(
                team_id=t["id"],
                team_name=t["name"],
                school_year=t["school_year"],
                schools=sorted(schools[t["id"]]),
                focus_area=t["focus_name"] or t["focus_area_other"],
                members=[f"{m['given_name']} {m['family_name']}" for m in f.members],
                plan_status=progress.plan_status,
                cycle_complete=progress.complete,
                steps_missing=len(progress.missing),
                observations_held=sum(o.observed for o in progress.observations),
                observation_records=progress.observation_records,
                reflections=progress.reflections,
                coverage_arranged=coverage[t["id"]].get(CoverageStatus.arranged, 0),
                coverage_pending=coverage[t["id"]].get(CoverageStatus.pending, 0),
                year_end_meeting=progress.year_end_meeting,
            )
        )
    return out


CSV_COLUMNS = list(YearEndRow.model_fields)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = "" if value is None else str(value.value if hasattr(value, "value") else value)
    # A spreadsheet would run a cell starting with these as a formula (CSV injection).
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: list[YearEndRow]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        data = row.model_dump()
        writer.writerow([_cell(data[c]) if c != "team_id" else str(data[c]) for c in CSV_COLUMNS])
    return buf.getvalue()
