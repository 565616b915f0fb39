"""Links the API puts in its answers (`next` of a page, where an import's rows go on).

They never come from the request's `Host` header, which the client chooses: with `PUBLIC_URL`
set they are absolute on that base; without it they are relative references (`/api/v1/...`),
which clients resolve against the address they called."""

from __future__ import annotations

from fastapi import Request
from starlette.datastructures import URL


def link(request: Request, url: URL) -> str:
    """`url` (made from this request) on the configured public base, or relative."""
    base = (request.app.state.settings.public_url or "").rstrip("/")
    query = f"?{url.query}" if url.query else ""
    return f"{base}{url.path}{query}"
