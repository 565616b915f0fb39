"""The reflections blog: posts with visibility, and comments by those who can read them."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import bindparam, case, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.principal import CALLER_ID, Principal, caller_values
from app.core import rows
from app.core.db import columns_of, table_of, utcnow
from app.core.errors import Conflict, FieldError, NotFound, Unprocessable
from app.core.pagination import PageQuery, contains_param, search_text
from app.core.reads import Bound
from app.core.sql import AnySelect, json_object
from app.core.writes import Transaction, Writes, new_row
from app.events.models import Event
from app.notifications import service as notifications
from app.notifications.models import Notification, NotificationKind
from app.records.models import ObservationRecord
from app.reflections import policies
from app.reflections.models import Reflection, ReflectionComment, Visibility
from app.reflections.schemas import (
    CommentCreate,
    CommentPublic,
    ReflectionCreate,
    ReflectionHide,
    ReflectionPublic,
    ReflectionUpdate,
)
from app.teams.models import Team, TeamMember
from app.users.models import User


class _Links(BaseModel):
    """Whether what a new post links to is the caller's to link to."""

    on_team: bool  # a member of the live team
    event_of_team: bool
    record_of_team: bool


_LINKS = select(
    exists()
    .where(
        col(TeamMember.team_id) == bindparam("team_id"),
        col(TeamMember.user_id) == bindparam(CALLER_ID),
        col(Team.id) == TeamMember.team_id,
        col(Team.deleted_at).is_(None),
    )
    .label("on_team"),
    exists()
    .where(
        col(Event.id) == bindparam("event_id"),
        col(Event.team_id) == bindparam("team_id"),
        col(Event.deleted_at).is_(None),
    )
    .label("event_of_team"),
    exists()
    .where(
        col(ObservationRecord.id) == bindparam("record_id"),
        col(ObservationRecord.team_id) == bindparam("team_id"),
    )
    .label("record_of_team"),
)


async def _check_links(tx: Transaction, principal: Principal, data: ReflectionCreate) -> None:
    """A post links to a team the caller is on, and to that team's events and records only
    (read in the transaction that writes the post)."""
    if data.team_id is None:
        return
    values = {
        **caller_values(principal),
        "team_id": data.team_id,
        "event_id": data.event_id,
        "record_id": data.observation_record_id,
    }
    links = await tx.one(_Links, Bound(_LINKS, values))
    assert links is not None
    if not links.on_team:
        raise Unprocessable.for_field("team_id", "not a team you are on", "unknown")
    if data.event_id is not None and not links.event_of_team:
        raise Unprocessable.for_field("event_id", "not an event of that team", "unknown")
    if data.observation_record_id is not None and not links.record_of_team:
        raise Unprocessable.for_field(
            "observation_record_id", "not an observation record of that team", "unknown"
        )


async def create(writes: Writes, principal: Principal, data: ReflectionCreate) -> ReflectionPublic:
    """Write the post and answer it as its author reads it, from what was written (a new post
    has no comments, and its author sees what it links to)."""
    post = new_row(Reflection, author_id=principal.staff.id, **data.model_dump())
    async with writes.transaction() as tx:
        await _check_links(tx, principal, data)
        await tx.insert(Reflection, post)
    return ReflectionPublic.model_validate(
        {**post, "author": principal.staff.member_ref(), "comment_count": 0}
    )


def _comment_count(post_id: Any = Reflection.id) -> Any:
    """The post's shown comments, for a post id column (the table's, or a page's)."""
    return (
        select(func.count(col(ReflectionComment.id)))
        .where(
            col(ReflectionComment.reflection_id) == post_id,
            col(ReflectionComment.deleted_at).is_(None),
            col(ReflectionComment.hidden_at).is_(None),
        )
        .scalar_subquery()
        .label("comment_count")
    )


def list_query(
    principal: Principal,
    *,
    team_id: uuid.UUID | None,
    author_id: uuid.UUID | None,
    visibility: Visibility | None,
    q: str | None,
) -> tuple[PageQuery, dict[str, Any]]:
    """The posts the caller reads, newest first, with the values of its parameters."""
    filters = (team_id is not None, author_id is not None, visibility is not None, bool(q))
    query = _list_query(policies.reader(principal), *filters)
    values = {
        **caller_values(principal),
        "team_id": team_id,
        "author_id": author_id,
        "visibility": visibility,
        "q": search_text(q) if q else None,
    }
    return query, values


def team_posts_statement(principal: Principal, team_id: uuid.UUID) -> Bound:
    """A team's posts the caller reads, newest first (the list filtered by team)."""
    values = {**caller_values(principal), "team_id": team_id}
    return Bound(_team_posts(policies.reader(principal)), values)


def one_statement(principal: Principal, reflection_id: uuid.UUID) -> Bound:
    """One post as the list shows it, if the caller may read it."""
    values = {**caller_values(principal), "reflection_id": reflection_id}
    return Bound(_one(policies.reader(principal)), values)


@functools.cache
def _posts(
    kind: policies.Reader,
    by_team: bool,
    by_author: bool,
    by_visibility: bool,
    by_text: bool,
    counted: bool = True,
) -> AnySelect:
    """The posts a kind of reader reads, narrowed by the filters given (built once each);
    with their comment counts unless `counted` is false (a page counts its own rows'
    afterwards)."""
    stmt = (
        select(*_post_columns(kind), _author(), *([_comment_count()] if counted else []))
        .join(User, col(User.id) == Reflection.author_id)
        .where(policies.readable_by(kind))
    )
    return _filtered(stmt, by_team, by_author, by_visibility, by_text)


def _filtered(
    stmt: AnySelect, by_team: bool, by_author: bool, by_visibility: bool, by_text: bool
) -> AnySelect:
    """`stmt` narrowed by the list's filters given (their values bind parameters)."""
    if by_team:
        stmt = stmt.where(col(Reflection.team_id) == bindparam("team_id"))
    if by_author:
        stmt = stmt.where(col(Reflection.author_id) == bindparam("author_id"))
    if by_visibility:
        stmt = stmt.where(col(Reflection.visibility) == bindparam("visibility"))
    if by_text:
        stmt = stmt.where(contains_param(Reflection.title, "q"))
    return stmt


ORDER = (col(Reflection.created_at).desc(), col(Reflection.id))


@functools.cache
def _team_posts(kind: policies.Reader) -> AnySelect:
    return _posts(kind, True, False, False, False).order_by(*ORDER)


@functools.cache
def _list_query(kind: policies.Reader, *filters: bool) -> PageQuery:
    # Comments are counted for the page's 50 posts only, after it is cut: counted in the
    # page's own select, SQLite counted them for every readable post before sorting (a
    # district administrator's page: 48 ms when it chose to sort 2,000 program posts).
    # Read by parts (`policies.readable_parts`, each the list's filters applied): their union
    # is exactly what the caller reads, so the page's own select only gives each post's
    # columns; asking the whole rule again of each candidate cost PostgreSQL 0.3-0.6 ms.
    parts = [
        _filtered(select(col(Reflection.id)).where(part), *filters)
        for part in policies.readable_parts(kind)
    ]
    if not parts:  # an integration key: nothing
        return PageQuery(_posts(kind, *filters, counted=False), ORDER)
    columns = select(*_post_columns(kind), _author()).join(
        User, col(User.id) == Reflection.author_id
    )
    return PageQuery(columns, ORDER, per_row=lambda page: [_comment_count(page.id)], parts=parts)


def seen_statement(principal: Principal, reflection_id: uuid.UUID) -> Bound:
    """The post's id if the caller may read it (`readable` plus the id)."""
    values = {**caller_values(principal), "reflection_id": reflection_id}
    return Bound(_seen(policies.reader(principal)), values)


@functools.cache
def _seen(kind: policies.Reader) -> AnySelect:
    return select(col(Reflection.id)).where(
        col(Reflection.id) == bindparam("reflection_id"), policies.readable_by(kind)
    )


@functools.cache
def _one(kind: policies.Reader) -> AnySelect:
    stmt = _posts(kind, False, False, False, False)
    return stmt.where(col(Reflection.id) == bindparam("reflection_id"))


LINKS = ("team_id", "event_id", "observation_record_id")


def _post_columns(kind: policies.Reader) -> list[Any]:
    """A post's columns; which team, event and record it is about only for those who may see
    them (null for everyone else)."""
    sees = policies.sees_links(kind)
    return [
        case((sees, column), else_=None).label(column.key) if column.key in LINKS else column
        for column in table_of(Reflection).columns
    ]


def _author() -> Any:
    """The joined author as a MemberRef."""
    return json_object(
        id=col(User.id), given_name=col(User.given_name), family_name=col(User.family_name)
    ).label("author")


async def view(
    session: AsyncSession, principal: Principal, reflection_id: uuid.UUID
) -> ReflectionPublic:
    """One post as the API shows it, if the caller may read it (404 otherwise)."""
    one = one_statement(principal, reflection_id)
    row = (await session.execute(one.stmt, one.values)).mappings().first()
    if row is None:
        raise NotFound("No such reflection")
    return ReflectionPublic.model_validate(row)


async def update(
    session: AsyncSession, principal: Principal, post: Reflection, data: ReflectionUpdate
) -> ReflectionPublic:
    changes = rows.patch(post, data)
    if changes.get("visibility") == Visibility.team and post.team_id is None:
        raise Unprocessable(
            "team visibility needs a linked team",
            errors=[
                FieldError(field="body.visibility", message="the post has no team", type="no_team")
            ],
        )
    for key, value in changes.items():
        setattr(post, key, value)
    rows.changed(post)
    await session.flush()
    # Its author edits it (`can_edit`): answered as they read it, from the written row.
    comments = await session.scalar(select(_comment_count(post.id)))
    return ReflectionPublic.model_validate(
        {**columns_of(post), "author": principal.staff.member_ref(), "comment_count": comments}
    )


async def soft_delete(session: AsyncSession, post: Reflection) -> None:
    rows.soft_delete(post)
    await session.flush()


def comments_query(reflection_id: uuid.UUID) -> tuple[PageQuery, dict[str, Any]]:
    """A post's comments, oldest first (a list template), with the value of its parameter."""
    return _comments(), {"reflection_id": reflection_id}


@functools.cache
def _comments() -> PageQuery:
    stmt = (
        select(*table_of(ReflectionComment).columns, _author())
        .join(User, col(User.id) == ReflectionComment.author_id)
        .where(
            col(ReflectionComment.reflection_id) == bindparam("reflection_id"),
            col(ReflectionComment.deleted_at).is_(None),
            col(ReflectionComment.hidden_at).is_(None),
        )
    )
    return PageQuery(stmt, (ReflectionComment.created_at, ReflectionComment.id))


class CommentedPost(BaseModel):
    """A post the caller reads, with what telling its author of a comment needs."""

    id: uuid.UUID
    author_id: uuid.UUID
    author_is_active: bool
    author_quiet: bool  # chose no email of comments


@dataclass(frozen=True)
class _Author:
    """A post's author as `notifications.Recipients` reads a person."""

    id: uuid.UUID
    is_active: bool


def commented_statement(principal: Principal, reflection_id: uuid.UUID) -> Bound:
    """The post, if the caller may read it (`readable` plus the id), with its author's
    standing for notifications: `CommentedPost`."""
    values = {**caller_values(principal), "reflection_id": reflection_id}
    return Bound(_commented(policies.reader(principal)), values)


@functools.cache
def _commented(kind: policies.Reader) -> AnySelect:
    return (
        select(
            col(Reflection.id),
            col(Reflection.author_id),
            col(User.is_active).label("author_is_active"),
            notifications.quiet_column(NotificationKind.reflection_comment).label("author_quiet"),
        )
        .join(User, col(User.id) == Reflection.author_id)
        .where(col(Reflection.id) == bindparam("reflection_id"), policies.readable_by(kind))
    )


async def add_comment(
    writes: Writes, principal: Principal, post: CommentedPost, data: CommentCreate
) -> CommentPublic:
    """Comment on a post the caller reads (`deps.CommentedPost`) and tell its author: one
    write transaction of two rows (on PostgreSQL one round trip)."""
    me = principal.staff
    comment = new_row(ReflectionComment, reflection_id=post.id, author_id=me.id, body=data.body)
    kind = NotificationKind.reflection_comment
    message = notifications.Message(
        [post.author_id], kind, f"{me.given_name} {me.family_name} commented on your reflection",
        f"/reflections/{post.id}",
    )  # fmt: skip
    author = _Author(post.author_id, post.author_is_active)
    told = notifications.Recipients.of(kind, [(author, post.author_quiet)])
    async with writes.transaction() as tx:
        await tx.insert(ReflectionComment, comment)
        for row in notifications.rows_for([message], actor=principal, known=told):
            await tx.insert(Notification, row)
    return CommentPublic.model_validate({**comment, "author": me.member_ref()})


async def edit_comment(
    session: AsyncSession, principal: Principal, comment: ReflectionComment, data: CommentCreate
) -> CommentPublic:
    comment.body = data.body
    rows.changed(comment)
    session.add(comment)
    await session.flush()
    return _comment_public(principal, comment)


def _comment_public(principal: Principal, comment: ReflectionComment) -> CommentPublic:
    """A comment the caller wrote, as the API shows it."""
    return CommentPublic.model_validate(
        {**columns_of(comment), "author": principal.staff.member_ref()}
    )


async def delete_comment(session: AsyncSession, comment: ReflectionComment) -> None:
    rows.soft_delete(comment)
    session.add(comment)
    await session.flush()


async def hide_comment(
    session: AsyncSession, principal: Principal, comment: ReflectionComment
) -> None:
    comment.hidden_at = utcnow()
    comment.hidden_by_id = principal.staff.id
    rows.changed(comment)
    session.add(comment)
    await session.flush()


async def hide(
    session: AsyncSession, principal: Principal, post: Reflection, data: ReflectionHide
) -> None:
    """Take a program post off the blog, saying why (its author still reads it)."""
    if post.hidden_at is not None:
        raise Conflict("The post is already hidden")
    post.hidden_at = utcnow()
    post.hidden_by_id = principal.staff.id
    post.hidden_reason = data.reason
    rows.changed(post)
    session.add(post)
    await session.flush()
