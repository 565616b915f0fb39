"""One pagination shape for every collection: limit/offset with the total and a next link.

A page costs the same number of statements whatever its size. On PostgreSQL it is one: the rows
plus `count(*) OVER ()` for the total. SQLite computes that window by sorting every matching row
with all its columns (six times the cost of the page itself for 500 staff), so there the page and
the count are two statements, and the count is skipped when the page is the last one.

Lists select plain columns (no ORM identity map), run on the hot read path (core/reads.py), and
the whole page is validated in one call. The busiest lists go one step further: their statements
are `PageQuery` templates, built once per filter combination with bind parameters for every value
a request varies, so a request neither builds nor compiles SQL (see `fetch_page`).
"""

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select

from app.core.reads import Reader

T = TypeVar("T")

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000
TOTAL = "_total"
LIMIT = "_limit"
OFFSET = "_offset"


class PageParams(BaseModel):
    limit: int
    offset: int


async def page_params(
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


def _counted(stmt: Select[Any]) -> Select[Any]:
    return select(func.count()).select_from(stmt.order_by(None).subquery())


class PageQuery:
    """An ordered column select built once, for every request of one filter combination: what
    a request varies (the caller's schools, filter values, the page) are named bind parameters.

    Its page and count statements are derived here once, and the reader finds their compiled
    form by identity (`fixed` in reads.py). Build them in a cached function of the filter
    combination, never per request."""

    def __init__(self, stmt: Select[Any]) -> None:
        limit, offset = bindparam(LIMIT, type_=Integer), bindparam(OFFSET, type_=Integer)
        self.page = stmt.limit(limit).offset(offset)
        self.windowed = (
            stmt.add_columns(func.count().over().label(TOTAL)).limit(limit).offset(offset)
        )
        self.count = _counted(stmt)


def search_pattern(text: str) -> str:
    """A case-insensitive LIKE pattern for "contains `text`" (escape character `/`, as
    SQLAlchemy's `contains(..., autoescape=True)`), for `contains_param`."""
    escaped = text.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def contains_param(column: Any, name: str) -> ColumnElement[bool]:
    """`column` contains, ignoring case, the text whose `search_pattern` is bound to `name`."""
    return func.lower(column).like(bindparam(name), escape="/")  # type: ignore[no-any-return]


async def fetch_page(
    reads: Reader,
    stmt: Select[Any] | PageQuery,
    params: PageParams,
    *,
    values: dict[str, Any] | None = None,
    raw: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Rows of one page of an ordered column select (as dicts), and the total matching rows.

    `stmt` is a statement built for this request, or a `PageQuery` template with the `values`
    of its bind parameters. `raw=True` is for rows validated straight into a schema (see
    Reader.rows)."""
    if isinstance(stmt, PageQuery):
        fixed = True
        args = {**(values or {}), LIMIT: params.limit, OFFSET: params.offset}
        paged = stmt.windowed if reads.window_total else stmt.page
    else:
        fixed = False
        args = values or {}
        paged = stmt.add_columns(func.count().over().label(TOTAL)) if reads.window_total else stmt
        paged = paged.limit(params.limit).offset(params.offset)
    rows = await reads.rows(paged, args, raw=raw, fixed=fixed)
    if rows and reads.window_total:
        return rows, int(rows[0][TOTAL])
    if rows and len(rows) < params.limit:
        return rows, params.offset + len(rows)  # the last page: no need to count
    if not rows and params.offset == 0:
        return [], 0
    count = stmt.count if isinstance(stmt, PageQuery) else _counted(stmt)
    return rows, int(await reads.scalar(count, values, fixed=fixed))


def build_page(
    page_type: type[BaseModel],
    items: list[Any],
    total: int,
    params: PageParams,
    request: Request,
) -> Any:
    """Validate a whole page in one call (pydantic's core does the per-item work)."""
    return page_type.model_validate(
        {
            "items": items,
            "total": total,
            "limit": params.limit,
            "offset": params.offset,
            "next": next_link(request, params, total),
        },
    )


async def paginate(
    reads: Reader,
    stmt: Select[Any] | PageQuery,
    params: PageParams,
    request: Request,
    page_type: type[BaseModel],
    values: dict[str, Any] | None = None,
) -> Any:
    rows, total = await fetch_page(reads, stmt, params, values=values, raw=True)
    return build_page(page_type, rows, total, params, request)
