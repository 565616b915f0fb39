"""Input no route should ever see, refused at the edge with a problem document.

- NUL characters anywhere: in the path, the query string, a JSON string (`\\u0000`) or a form
  field. PostgreSQL cannot store them and rejects statements that carry them (a 500 on login
  names and `q` filters before this existed); no field of this API accepts one.
- JSON that is not UTF-8 (RFC 8259): Python's parser would read UTF-16 and UTF-32 as well,
  so a client could send what other consumers of the same body misread.

JSON and form bodies are read here in full (they are parsed in full by the route anyway, and
the body limit of RequestContextMiddleware still applies) and handed on unchanged; other
bodies (file uploads) stream through untouched.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PROBLEM_JSON, problem_body

# A JSON escape for NUL: \u0000 after an even number of backslashes (\\u0000 is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_INSPECTED = (b"application/json", b"application/x-www-form-urlencoded")


def _nul_in_query(query: bytes) -> bool:
    return b"\x00" in query or b"%00" in query


def _body_problem(content_type: bytes, body: bytes) -> tuple[int, str, str, str] | None:
    """(status, detail, field message, error type) for a body to refuse, or None."""
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        if b"\x00" in body or b"%00" in body:
            return 422, "A form field contains a NUL character", "contains NUL", "nul"
        return None
    if body.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in body:
        return 415, "JSON bodies must be encoded as UTF-8", "not UTF-8", "encoding"
    if _JSON_NUL.search(body):
        return 422, "A JSON string contains a NUL character", "contains NUL", "nul"
    return None


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or _nul_in_query(scope.get("query_string", b"")):
            where = "path" if "\x00" in scope.get("path", "") else "query"
            await self._refuse(
                scope, send, 422, f"The {where} contains a NUL character", where, "nul"
            )
            return
        content_type = b""
        for key, value in scope.get("headers") or ():
            if key == b"content-type":
                content_type = value.lower()
        if not content_type.startswith(_INSPECTED) and b"+json" not in content_type:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([], message, receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        problem = _body_problem(content_type, body)
        if problem is not None:
            status, detail, message_text, kind = problem
            await self._refuse(scope, send, status, detail, "body", kind, message_text)
            return
        await self.app(scope, _replay([body], None, receive), send)

    @staticmethod
    async def _refuse(
        scope: Scope,
        send: Send,
        status: int,
        detail: str,
        field: str,
        kind: str,
        message: str = "contains NUL",
    ) -> None:
        request_id = scope.get("state", {}).get("request_id")
        body = json.dumps(
            problem_body(
                scope.get("path", "").replace("\x00", "\\u0000"),
                status,
                detail,
                request_id=request_id,
                errors=[{"field": field, "message": message, "type": kind}],
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", PROBLEM_JSON.encode()),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(bodies: list[bytes], first: Message | None, receive: Receive) -> Receive:
    """A receive that gives the app the body already read, then the real channel."""
    pending: list[Message] = [
        {"type": "http.request", "body": b, "more_body": False} for b in bodies
    ]
    if first is not None:
        pending.append(first)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
