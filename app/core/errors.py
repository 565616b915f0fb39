"""One error format for the whole API: RFC 9457 `application/problem+json`.

Each error is an exception class that knows its status and title, and `error_responses()` turns
a list of statuses into the OpenAPI `responses` of a route, so generated clients know the shape.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("peercoach.errors")


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the offending input, e.g. `body.email`")
    message: str
    type: str = Field(description="Machine-readable error code, e.g. `missing`")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(description="URI reference identifying the problem type")
    title: str
    status: int
    detail: str | None = None
    instance: str | None = Field(default=None, description="The request path")
    request_id: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="Per-field problems (validation and import errors)"
    )


class ProblemError(Exception):
    status: int = 500
    title: str = "Internal server error"
    slug: str = "internal-error"
    # When true, the request's transaction commits before the error is answered.
    persist: bool = False

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class BadRequest(ProblemError):
    status, title, slug = 400, "Bad request", "bad-request"


class Unauthorized(ProblemError):
    status, title, slug = 401, "Not authenticated", "unauthorized"

    def __init__(self, detail: str | None = "Missing or invalid credentials") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ProblemError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(ProblemError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(ProblemError):
    status, title, slug = 409, "Conflict", "conflict"


class PreconditionFailed(ProblemError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PreconditionRequired(ProblemError):
    status, title, slug = 428, "Precondition required", "precondition-required"


class PayloadTooLarge(ProblemError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class Unprocessable(ProblemError):
    status, title, slug = 422, "Validation failed", "validation-error"

    @classmethod
    def for_field(cls, field: str, message: str, type: str = "invalid") -> Unprocessable:
        """A 422 about one body field, e.g. `Unprocessable.for_field("school_id", "...")`."""
        return cls(message, errors=[FieldError(field=f"body.{field}", message=message, type=type)])


class TooManyRequests(ProblemError):
    status, title, slug = 429, "Too many requests", "too-many-requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class ServiceUnavailable(ProblemError):
    status, title, slug = 503, "Service unavailable", "service-unavailable"

    def __init__(self, detail: str = "The database is unavailable; try again shortly") -> None:
        super().__init__(detail, headers={"Retry-After": "2"})


class CommitFailed(sa_exc.OperationalError):
    """The database did not confirm a commit (the connection dropped, the server went away
    mid-COMMIT): the change was probably not saved, and success must not be reported."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__("COMMIT", None, cause, hide_parameters=True)


# What a 503 says, by what went wrong. Saturation is not an outage: the database answers, but
# every connection this worker may open is busy for longer than the pool timeout.
UNAVAILABLE = "The database is unavailable; try again shortly"
BUSY = "The server is busy: every database connection is in use; try again shortly"
NOT_SAVED = (
    "The database did not confirm the change, so it was probably not saved; "
    "read it back before trying again"
)


def unavailable_detail(exc: BaseException) -> str:
    if isinstance(exc, CommitFailed):
        return NOT_SAVED
    if isinstance(exc, sa_exc.TimeoutError):
        return BUSY
    if "database is locked" in str(getattr(exc, "orig", exc)):  # SQLite's busy timeout
        return BUSY
    return UNAVAILABLE


_TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
_SLUGS = {
    405: "method-not-allowed",
    406: "not-acceptable",
    415: "unsupported-media-type",
}
for _cls in (
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    Unprocessable,
    TooManyRequests,
    ServiceUnavailable,
):
    _SLUGS[_cls.status] = _cls.slug


def problem_type(status: int) -> str:
    return f"https://peercoach.dev/problems/{_SLUGS.get(status, 'error')}"


def problem_body(
    request_path: str | None,
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    request_id: str | None = None,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": problem_type(status),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request_path,
        "request_id": request_id,
    }
    if errors is not None:
        body["errors"] = errors
    return body


def problem_response(
    request: Request,
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = problem_body(
        request.url.path,
        status,
        detail,
        title=title,
        request_id=getattr(request.state, "request_id", None),
        errors=errors,
    )
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for a route: each status documented as a problem document."""
    return {
        s: {
            "model": Problem,
            "description": _TITLES.get(s, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in loc)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        out.append(
            {
                "field": _field_path(e.get("loc", ())),
                "message": e.get("msg", ""),
                "type": e.get("type", "invalid"),
            }
        )
    return out


def _route_patterns(app: FastAPI) -> list[tuple[re.Pattern[str], frozenset[str]]]:
    """Every route's path pattern and methods, included routers too (built once per app)."""
    known: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "route_patterns", None
    )
    if known is None:
        known = []
        for route in iter_route_contexts(app.routes):
            path, methods = route.path, route.methods
            if path and methods:
                known.append((compile_path(path)[0], frozenset(methods)))
        app.state.route_patterns = known
    return known


def _allowed_methods(request: Request) -> set[str]:
    methods: set[str] = set()
    for pattern, route_methods in _route_patterns(request.app):
        if pattern.match(request.url.path):
            methods |= route_methods
    return methods


def _is_check_violation(exc: Exception) -> bool:
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) == "23514" or "CHECK constraint failed" in str(orig)


def install_error_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        errors = [e.model_dump() for e in exc.errors] if exc.errors is not None else None
        return problem_response(
            request, exc.status, exc.detail, title=exc.title, errors=errors, headers=exc.headers
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = validation_errors(exc)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:3])
        return problem_response(request, 422, detail, errors=errors)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        headers = dict(exc.headers or {})
        if exc.status_code == 400 and detail == "There was an error parsing the body":
            # Undecodable bodies (bad UTF-8, broken multipart) answer like malformed JSON does.
            return problem_response(
                request,
                422,
                "The request body could not be parsed",
                errors=[
                    {"field": "body", "message": "could not be parsed", "type": "body_invalid"}
                ],
            )
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such resource"
        if exc.status_code == 405:
            # Each route has one method, so the router only knows the first match's; list all.
            headers["Allow"] = ", ".join(sorted(_allowed_methods(request)))
        return problem_response(request, exc.status_code, detail, headers=headers)

    async def on_db_unavailable(request: Request, exc: Exception) -> JSONResponse:
        detail = unavailable_detail(exc)
        log.warning("%s (%s: %s)", detail, type(exc).__name__, str(exc)[:300])
        return problem_response(request, 503, detail, headers={"Retry-After": "2"})

    async def on_stale(request: Request, exc: Exception) -> JSONResponse:
        # Another request changed the row between this one's read and its write (db.py,
        # version_checked): nothing was written. With If-Match this is the precondition.
        status = 412 if "if-match" in request.headers else 409
        return problem_response(
            request,
            status,
            "Someone else changed this record at the same time; fetch it again and retry",
        )

    async def on_integrity(request: Request, exc: Exception) -> JSONResponse:
        if _is_check_violation(exc):
            # A value the schema forbids got past validation: a bug, not the caller's conflict.
            log.error("CHECK constraint violated: %s", str(getattr(exc, "orig", exc))[:300])
            return problem_response(
                request, 500, "An unexpected error occurred; quote the request id"
            )
        # Services check uniqueness first; this answers the race where two requests both passed.
        log.info("integrity error answered 409: %s", type(exc).__name__)
        return problem_response(request, 409, "The change conflicts with existing data")

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(sa_exc.IntegrityError, on_integrity)
    app.add_exception_handler(StaleDataError, on_stale)
    for exc_cls in (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,
        sa_exc.DisconnectionError,
    ):
        app.add_exception_handler(exc_cls, on_db_unavailable)
