import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.deps import AnyReader, CurrentPrincipal, CurrentUser, DistrictAdmin
from app.core.deps import ReaderDep, SessionDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep, build_page, fetch_page, paginate
from app.teams import service
from app.teams.deps import AdminTeam, EditableTeam, ViewableTeam
from app.teams.schemas import (
    FocusAreaCreate,
    FocusAreaPublic,
    FocusAreaUpdate,
    TeamCreate,
    TeamMemberAdd,
    TeamPublic,
    TeamUpdate,
)

router = APIRouter(tags=["teams"])
catalog = APIRouter(prefix="/focus-areas", tags=["focus areas"])


@catalog.get("", responses=error_responses(401, 403, 422))
async def list_focus_areas(
    request: Request,
    reads: ReaderDep,
    _caller: AnyReader,
    page: PageDep,
    include_inactive: bool = False,
) -> Page[FocusAreaPublic]:
    """The focus-area catalog (seeded with the program's suggestions), ordered by name."""
    stmt = service.focus_area_statement(include_inactive)
    return await paginate(reads, stmt, page, request, Page[FocusAreaPublic])


@catalog.post("", status_code=201, responses=error_responses(401, 403, 409, 422))
async def create_focus_area(
    body: FocusAreaCreate, session: SessionDep, _caller: DistrictAdmin
) -> FocusAreaPublic:
    """Add a focus area to the catalog (district administrators)."""
    return FocusAreaPublic.model_validate(await service.create_focus_area(session, body))


@catalog.patch("/{focus_area_id}", responses=error_responses(401, 403, 404, 409, 422))
async def update_focus_area(
    focus_area_id: uuid.UUID, body: FocusAreaUpdate, session: SessionDep, _caller: DistrictAdmin
) -> FocusAreaPublic:
    """Rename, describe or retire (`is_active: false`) a focus area. Teams keep theirs."""
    area = await service.update_focus_area(session, focus_area_id, body)
    return FocusAreaPublic.model_validate(area)


@router.get("/teams", responses=error_responses(401, 403, 422))
async def list_teams(
    request: Request,
    session: SessionDep,
    reads: ReaderDep,
    principal: CurrentPrincipal,
    _user: CurrentUser,
    page: PageDep,
    school_year: Annotated[
        str | None, Query(pattern=r"^\d{4}-\d{4}$", examples=["2026-2027"])
    ] = None,
    focus_area_id: uuid.UUID | None = None,
    member_id: Annotated[uuid.UUID | None, Query(description="Teams this teacher is on")] = None,
    school_id: Annotated[uuid.UUID | None, Query(description="Teams with a member here")] = None,
    include_deleted: Annotated[
        bool, Query(description="Administrators: include deleted teams (to restore them)")
    ] = False,
) -> Page[TeamPublic]:
    """Coaching teams the caller may see: teachers their own, school administrators those with
    a member in their schools, district administrators all. Newest school year first."""
    stmt = service.list_statement(
        principal,
        school_year=school_year,
        focus_area_id=focus_area_id,
        member_id=member_id,
        school_id=school_id,
        include_deleted=include_deleted,
    )
    rows, total = await fetch_page(reads, stmt, page)
    items = await service.to_public_many(session, rows)
    return build_page(Page[TeamPublic], items, total, page, request)


@router.post("/teams", status_code=201, responses=error_responses(401, 403, 422))
async def create_team(
    body: TeamCreate, session: SessionDep, principal: CurrentPrincipal, _user: CurrentUser
) -> TeamPublic:
    """Form a coaching team. A teacher starts one with colleagues of their schools (and is
    added to it); administrators form teams of teachers in their schools. The team's action
    plan starts as a draft."""
    team = await service.create(session, principal, body)
    return await service.to_public(session, team)


@router.get("/teams/{team_id}", responses=error_responses(401, 403, 404, 422))
async def get_team(access: ViewableTeam, session: SessionDep) -> TeamPublic:
    """One team. 404 for callers who are neither on it nor administer a member's school."""
    return await service.to_public(session, access.team)


@router.patch("/teams/{team_id}", responses=error_responses(401, 403, 404, 422))
async def update_team(access: EditableTeam, body: TeamUpdate, session: SessionDep) -> TeamPublic:
    """Change the team's name, school year, focus area or learning target (members and
    administrators)."""
    team = await service.update(session, access.team, body)
    return await service.to_public(session, team)


@router.delete("/teams/{team_id}", status_code=204, responses=error_responses(401, 403, 404, 422))
async def delete_team(
    access: EditableTeam, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Delete a team. It is hidden, not erased: an administrator can restore it with
    everything the team wrote."""
    await service.soft_delete(session, principal, access.team)
    return Response(status_code=204)


@router.post("/teams/{team_id}/restore", responses=error_responses(401, 403, 404, 409, 422))
async def restore_team(access: AdminTeam, session: SessionDep) -> TeamPublic:
    """Bring back a deleted team (administrators of a member's school)."""
    team = await service.restore(session, access.team)
    return await service.to_public(session, team)


@router.post(
    "/teams/{team_id}/members", status_code=201, responses=error_responses(401, 403, 404, 409, 422)
)
async def add_team_member(
    access: EditableTeam, body: TeamMemberAdd, session: SessionDep, principal: CurrentPrincipal
) -> TeamPublic:
    """Add a teacher to the team (a colleague of the caller's schools)."""
    await service.add_member(session, principal, access, body)
    return await service.to_public(session, access.team)


@router.delete(
    "/teams/{team_id}/members/{user_id}",
    status_code=204,
    responses=error_responses(401, 403, 404, 409, 422),
)
async def remove_team_member(
    access: EditableTeam, user_id: uuid.UUID, session: SessionDep
) -> Response:
    """Take a teacher off the team. A team keeps at least two teachers (409)."""
    await service.remove_member(session, access, user_id)
    return Response(status_code=204)
