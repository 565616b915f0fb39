"""Links the API puts in its answers (`next` of a page, where an import's rows go on).

They never come from the request's `Host` header, which the client chooses: with `PUBLIC_URL`
set they are absolute on that base; without it they are relative references (`/api/v1/...`),
which clients resolve against the address they called."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote_plus, urlencode

from fastapi import Request
from starlette.datastructures import URL


def link(request: Request, url: URL) -> str:
    """`url` (made from this request) on the configured public base, or relative."""
    return link_to(request, url.path, url.query)


def link_to(request: Request, path: str, query: str) -> str:
    """A path (as a URL has it: escaped) and query on the configured public base, or
    relative."""
    base = (request.app.state.settings.public_url or "").rstrip("/")
    return f"{base}{path}?{query}" if query else f"{base}{path}"


def same_path_with(request: Request, last: dict[str, int]) -> str:
    """This request's path and query string with the parameters `last` set to these numbers,
    put last in their order (the rest as they came), as Starlette's
    `request.url.include_query_params(**last)` makes it but without parsing the whole URL
    (a page's `next`, on every list request)."""
    scope = request.scope
    # The path as Starlette's URL escapes it.
    path = scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    query = scope.get("query_string", b"").decode()
    kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k not in last]
    numbers = "&".join(f"{quote_plus(k)}={v}" for k, v in last.items())
    return link_to(request, path, f"{urlencode(kept)}&{numbers}" if kept else numbers)
