import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from app.auth import identities
from app.auth.deps import Admin, AdminOrReadKey, StaffOrReadKey
from app.auth.schemas import SsoIdentityPublic
from app.core.deps import ReadsDep, SessionDep, SettingsDep
from app.core.errors import error_responses
from app.core.pagination import Page, PageDep
from app.users import service
from app.users.deps import ChangeableUser, ManagedUser, UserView, WithinManagedUser
from app.users.models import Role
from app.users.schemas import ColleaguePublic, UserCreate, UserPublic, UserUpdate

router = APIRouter(tags=["users"])

SchoolFilter = Annotated[uuid.UUID | None, Query(description="Members of this school")]
Search = Annotated[str | None, Query(max_length=200, description="Name or email contains")]


@router.get("/users", responses=error_responses(401, 403, 422))
async def list_users(
    request: Request,
    reads: ReadsDep,
    caller: AdminOrReadKey,
    page: PageDep,
    school_id: SchoolFilter = None,
    role: Role | None = None,
    is_active: bool | None = None,
    q: Search = None,
    activated: Annotated[
        bool | None,
        Query(description="false: who has not set a password yet (to invite); true: who has"),
    ] = None,
) -> Page[UserPublic]:
    """Staff records. District administrators see everyone; school administrators see the
    staff of their schools. Teachers use `/colleagues` instead. Ordered by family name."""
    query, values = service.list_query(
        caller, school_id=school_id, role=role, is_active=is_active, q=q, activated=activated
    )
    return await reads.page(UserPublic, query, page, values)


@router.post("/users", status_code=201, responses=error_responses(401, 403, 409, 422, 429))
async def create_user(
    body: UserCreate, session: SessionDep, settings: SettingsDep, caller: Admin
) -> UserPublic:
    """Add a staff member. School administrators may add teachers and school administrators
    to their own schools; only district administrators may create district administrators."""
    return await service.create(session, settings, caller, body)


@router.get("/users/{user_id}", responses=error_responses(401, 403, 404, 422))
async def get_user(user: UserView) -> UserPublic:
    """One staff record. 404 if it is outside the caller's schools."""
    return user


@router.patch("/users/{user_id}", responses=error_responses(401, 403, 404, 409, 422, 429))
async def update_user(
    found: ChangeableUser,
    body: UserUpdate,
    session: SessionDep,
    settings: SettingsDep,
    caller: Admin,
) -> UserPublic:
    """Change a staff record: names, email, role, schools (`school_ids` replaces them) or
    `is_active`. Deactivating ends the account's sessions at once; nothing is deleted."""
    return await service.update(session, settings, caller, found.user, found.school_ids, body)


@router.get("/colleagues", responses=error_responses(401, 403, 422))
async def list_colleagues(
    request: Request,
    reads: ReadsDep,
    caller: StaffOrReadKey,
    page: PageDep,
    school_id: SchoolFilter = None,
    q: Search = None,
) -> Page[ColleaguePublic]:
    """Active staff who share a school with the caller: names and ids, enough to invite
    someone to a coaching team. Ordered by family name."""
    query, values = service.list_query(
        caller, school_id=school_id, role=None, is_active=True, q=q, colleagues_only=True
    )
    return await reads.page(ColleaguePublic, query, page, values)


@router.get("/users/{user_id}/sso-identities", responses=error_responses(401, 403, 404, 422))
async def list_sso_identities(
    user_id: uuid.UUID, managed: WithinManagedUser, reads: ReadsDep, page: PageDep
) -> Page[SsoIdentityPublic]:
    """The provider accounts this person signs in with, each bound at their first single
    sign-on there (administrators who manage the person)."""
    query, values = identities.bindings_query(user_id)
    return await reads.page(SsoIdentityPublic, query, page, values, within=managed)


@router.delete(
    "/users/{user_id}/sso-identities/{provider}",
    status_code=204,
    responses=error_responses(401, 403, 404, 422),
)
async def unbind_sso_identity(
    found: ManagedUser,
    provider: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    caller: Admin,
) -> Response:
    """Forget the provider account this person signs in with at `provider` (administrators
    who manage them), when the district's provider replaced it or it was bound in error. Their
    next single sign-on there binds the account it comes with, found as a first sign-in is (by
    roster id, or a verified email nobody else set); whoever is signed in on the account is
    signed out. Recorded in the audit trail."""
    await identities.unbind(session, caller, found.user, provider)
    return Response(status_code=204)
