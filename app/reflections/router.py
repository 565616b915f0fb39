import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.auth.deps import StaffCaller
from app.core.deps import ReadsDep, SessionDep, WritesDep
from app.core.errors import error_responses
from app.core.etag import IfMatch, etag, require_current
from app.core.pagination import Page, PageDep
from app.reflections import service
from app.reflections.deps import (
    CommentedPost,
    EditableComment,
    EditableReflection,
    HideableComment,
    HideableReflection,
    ReflectionView,
    WithinReadableReflection,
)
from app.reflections.models import Visibility
from app.reflections.schemas import (
    CommentCreate,
    CommentPublic,
    ReflectionCreate,
    ReflectionHide,
    ReflectionPublic,
    ReflectionUpdate,
)

router = APIRouter(prefix="/reflections", tags=["reflections"])


def _tagged(public: ReflectionPublic, response: Response) -> ReflectionPublic:
    response.headers["ETag"] = etag("reflection", public.version)
    return public


@router.get("", responses=error_responses(401, 403, 422))
async def list_reflections(
    request: Request,
    reads: ReadsDep,
    principal: StaffCaller,
    page: PageDep,
    team_id: uuid.UUID | None = None,
    author_id: uuid.UUID | None = None,
    visibility: Visibility | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Title contains")] = None,
) -> Page[ReflectionPublic]:
    """The reflections blog, newest first: your own posts, your teams' posts, and every
    `program` post of the district. Filters only narrow that."""
    query, values = service.list_query(
        principal, team_id=team_id, author_id=author_id, visibility=visibility, q=q
    )
    return await reads.page(ReflectionPublic, query, page, values)


@router.post("", status_code=201, responses=error_responses(401, 403, 422))
async def create_reflection(
    body: ReflectionCreate, writes: WritesDep, principal: StaffCaller, response: Response
) -> ReflectionPublic:
    """Write a post (Markdown). Link it to a team you are on, and optionally to one of its
    events or observation records. `private` is the default."""
    return _tagged(await service.create(writes, principal, body), response)


@router.get("/{reflection_id}", responses=error_responses(401, 403, 404, 422))
async def get_reflection(found: ReflectionView, response: Response) -> ReflectionPublic:
    """One post; 404 if you may not read it."""
    return _tagged(found, response)


@router.patch("/{reflection_id}", responses=error_responses(401, 403, 404, 412, 422, 428))
async def update_reflection(
    post: EditableReflection,
    body: ReflectionUpdate,
    session: SessionDep,
    principal: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> ReflectionPublic:
    """Edit your post or change who can read it. A stale `If-Match` answers 412."""
    require_current(if_match, "reflection", post.version)
    return _tagged(await service.update(session, principal, post, body), response)


@router.delete(
    "/{reflection_id}", status_code=204, responses=error_responses(401, 403, 404, 412, 422, 428)
)
async def delete_reflection(
    post: EditableReflection, session: SessionDep, if_match: IfMatch = None
) -> Response:
    """Delete your post (send its `ETag` as `If-Match`; kept in the database, hidden from
    everyone)."""
    require_current(if_match, "reflection", post.version)
    await service.soft_delete(session, post)
    return Response(status_code=204)


@router.get("/{reflection_id}/comments", responses=error_responses(401, 403, 404, 422))
async def list_reflection_comments(
    reflection_id: uuid.UUID, post: WithinReadableReflection, reads: ReadsDep, page: PageDep
) -> Page[CommentPublic]:
    """Comments on a post you can read, oldest first."""
    query, values = service.comments_query(reflection_id)
    return await reads.page(CommentPublic, query, page, values, within=post)


@router.post(
    "/{reflection_id}/comments", status_code=201, responses=error_responses(401, 403, 404, 422)
)
async def create_reflection_comment(
    post: CommentedPost, body: CommentCreate, writes: WritesDep, principal: StaffCaller
) -> CommentPublic:
    """Comment on a post you can read."""
    return await service.add_comment(writes, principal, post, body)


@router.post(
    "/{reflection_id}/hide", status_code=204, responses=error_responses(401, 403, 404, 409, 422)
)
async def hide_reflection(
    post: HideableReflection, body: ReflectionHide, session: SessionDep, caller: StaffCaller
) -> Response:
    """Take a program post off the blog, saying why (district administrators). Its author still
    reads it, with the reason; nobody else does."""
    await service.hide(session, caller, post, body)
    return Response(status_code=204)


COMMENT = "/{reflection_id}/comments/{comment_id}"


@router.patch(COMMENT, responses=error_responses(401, 403, 404, 412, 422, 428))
async def update_reflection_comment(
    comment: EditableComment,
    body: CommentCreate,
    session: SessionDep,
    caller: StaffCaller,
    response: Response,
    if_match: IfMatch = None,
) -> CommentPublic:
    """Edit your comment (send its `ETag` as `If-Match`)."""
    require_current(if_match, "comment", comment.version)
    updated = await service.edit_comment(session, caller, comment, body)
    response.headers["ETag"] = etag("comment", updated.version)
    return updated


@router.delete(COMMENT, status_code=204, responses=error_responses(401, 403, 404, 412, 422, 428))
async def delete_reflection_comment(
    comment: EditableComment, session: SessionDep, if_match: IfMatch = None
) -> Response:
    """Delete your comment (send its `ETag` as `If-Match`)."""
    require_current(if_match, "comment", comment.version)
    await service.delete_comment(session, comment)
    return Response(status_code=204)


@router.post(f"{COMMENT}/hide", status_code=204, responses=error_responses(401, 403, 404, 422))
async def hide_reflection_comment(
    comment: HideableComment, session: SessionDep, caller: StaffCaller
) -> Response:
    """Hide a comment on a post you read (administrators); it leaves every list."""
    await service.hide_comment(session, caller, comment)
    return Response(status_code=204)
