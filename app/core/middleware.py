"""Pure ASGI middleware: request ids, access logs, security headers, body limits, last-resort 500s.

Written as raw ASGI rather than `BaseHTTPMiddleware` because it wraps every request and that
class costs a task and a queue per request.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON, problem_body
from app.core.lifecycle import Lifecycle
from app.core.logging import AccessLog

access_log = AccessLog(logging.getLogger("peercoach.access"))
error_log = logging.getLogger("peercoach.errors")

REQUEST_ID_HEADER = b"x-request-id"
# An API answer is data, never a page: nothing in it may load, run or be framed.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"


def _valid_request_id(raw: bytes | None) -> str | None:
    # Accept a caller's id (for tracing across services) only if it is short and plain.
    if raw and len(raw) <= 128 and all(32 < c < 127 for c in raw):
        return raw.decode()
    return None


# A request's own id: 32 hex digits as before (a uuid4's), 64 random bits per process then a
# counter. Unique across workers and restarts without reading the system's random source on
# every request (`uuid4` is a system call, about 1.5 us on the bench machine).
_ID_PREFIX = ""
_ID_COUNTER = itertools.count()


def _new_id_prefix() -> None:
    """This process's prefix, and a forked worker's own (uvicorn spawns its workers; a fork
    would copy ours)."""
    global _ID_PREFIX, _ID_COUNTER
    _ID_PREFIX, _ID_COUNTER = uuid.uuid4().hex[:16], itertools.count()


_new_id_prefix()
os.register_at_fork(after_in_child=_new_id_prefix)


def _next_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):016x}"


class RequestContextMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, lifecycle: Lifecycle | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.lifecycle = lifecycle or Lifecycle()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = dict(scope.get("headers") or [])
        request_id = _valid_request_id(headers.get(REQUEST_ID_HEADER)) or _next_request_id()
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        start = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500, "started": False, "answered_413": False}
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if status_holder["answered_413"]:
                return  # we already answered; whatever the app says now is dropped
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                hdrs = list(message.get("headers") or [])
                hdrs.append((REQUEST_ID_HEADER, request_id.encode()))
                hdrs.append((b"x-content-type-options", b"nosniff"))
                if path.startswith("/api/"):
                    names = {k for k, _ in hdrs}
                    if b"cache-control" not in names:
                        hdrs.append((b"cache-control", b"no-store"))
                    if b"content-security-policy" not in names:  # documents set their own
                        hdrs.append((b"content-security-policy", API_CSP))
                if self.lifecycle.draining:
                    # Shutting down: a kept-alive connection would be cut under the next request.
                    hdrs.append((b"connection", b"close"))
                message["headers"] = hdrs
            await send(message)

        async def send_problem(
            status: int, detail: str, extra: dict[str, str] | None = None
        ) -> None:
            body = json.dumps(problem_body(path, status, detail, request_id=request_id)).encode()
            hdrs = [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(body)).encode()),
            ]
            hdrs += [(k.lower().encode(), v.encode()) for k, v in (extra or {}).items()]
            await send_with_headers(
                {"type": "http.response.start", "status": status, "headers": hdrs}
            )
            await send({"type": "http.response.body", "body": body})

        # Refuse an oversized body before reading it when the client declares its length ...
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_body_bytes
            except ValueError:
                too_big = False
            if too_big:
                await send_problem(413, f"Request body exceeds {self.max_body_bytes} bytes")
                self._log(scope, state, 413, start)
                return

        # ... and stop reading one that streams past the limit without declaring it: answer 413
        # ourselves and tell the app the client went away (frameworks swallow exceptions raised
        # while they parse a body, so raising here would become their 400).
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if status_holder["answered_413"]:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    if not status_holder["started"]:
                        await send_problem(413, f"Request body exceeds {self.max_body_bytes} bytes")
                    status_holder["answered_413"] = True
                    return {"type": "http.disconnect"}
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except Exception:
            if status_holder["answered_413"]:
                self._log(scope, state, 413, start)
                return
            error_log.exception("unhandled error", extra={"request_id": request_id, "path": path})
            if not status_holder["started"]:
                await send_problem(500, "An unexpected error occurred; quote the request id")
            status_holder["status"] = 500
        self._log(scope, state, int(status_holder["status"]), start)

    @staticmethod
    def _log(scope: Scope, state: dict[str, Any], status: int, start: float) -> None:
        access_log.write(
            {
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status,
                "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                "user_id": state.get("user_id"),
                "request_id": state.get("request_id"),
            }
        )


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS handling, with a refused preflight answered as a problem document like
    every other error (Starlette answers it in plain text)."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        detail = bytes(response.body).decode()
        headers = {
            k: v for k, v in response.headers.items() if k not in ("content-type", "content-length")
        }
        return JSONResponse(
            problem_body(None, response.status_code, detail),
            status_code=response.status_code,
            headers=headers,
            media_type=PROBLEM_JSON,
        )
