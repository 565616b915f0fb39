"""One pagination shape for every collection: limit/offset with the total and a next link."""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int = Field(description="Items matching the filters, across all pages")
    limit: int
    offset: int
    next: str | None = Field(description="URL of the next page, or null on the last page")


def next_link(request: Request, params: PageParams, total: int) -> str | None:
    nxt = params.offset + params.limit
    if nxt >= total:
        return None
    return str(request.url.include_query_params(offset=nxt, limit=params.limit))


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    params: PageParams,
    request: Request,
) -> tuple[list[Any], int, str | None]:
    """Rows of one page (the statement must already be ordered) and the total: two queries."""
    count_stmt = select(func.count()).select_from(stmt.order_by(None).subquery())
    total = int((await session.execute(count_stmt)).scalar_one())
    if total <= params.offset:
        return [], total, None
    result = await session.execute(stmt.limit(params.limit).offset(params.offset))
    return list(result.scalars().all()), total, next_link(request, params, total)
