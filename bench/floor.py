"""The bare floor the district benchmark compares each endpoint with: a separate minimal FastAPI
app, no middleware, no database, no authentication, that validates and serialises the same
response model from an answer captured from the real app (`BENCH_FLOOR_FILE`).

Route `/floor/<n>` answers capture n: a GET returns the captured answer validated into the real
route's response model (FastAPI then serialises it as it does for the app); a POST also takes
and validates the same request body model. Endpoints that answer a document (CSV, HTML) send the
captured bytes; a redirect (a single sign-on's start) answers the captured `Location`.

    BENCH_FLOOR_FILE=captures.json uvicorn bench.floor:app
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, get_type_hints

from fastapi import FastAPI, Response
from fastapi.responses import RedirectResponse
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import TypeAdapter

from app.core.heap import freeze
from app.main import create_app


def _routes() -> dict[tuple[str, str], APIRoute]:
    found = {}
    for ctx in iter_route_contexts(create_app().routes):
        if isinstance(ctx.original_route, APIRoute):
            path = ctx.path
            assert path is not None  # a route of the app's tree has its full path
            for method in ctx.original_route.methods or ():
                # As OpenAPI names it: `{import_id:uuid}` is `{import_id}`.
                found[method, re.sub(r"\{(\w+):\w+\}", r"{\1}", path)] = ctx.original_route
    return found


def _get(model: Any, answer: Any) -> Any:
    adapter = TypeAdapter(model)

    async def floor() -> Any:
        return adapter.validate_python(answer)

    return floor


def _post(model: Any, body_model: Any, answer: Any) -> Any:
    adapter = TypeAdapter(model)

    async def floor(body: Any) -> Any:
        return adapter.validate_python(answer)

    floor.__annotations__["body"] = body_model  # the real route's body model, validated
    return floor


def _document(content: bytes, media_type: str) -> Any:
    async def floor() -> Response:
        return Response(content, media_type=media_type)

    return floor


def _redirect(location: str) -> Any:
    async def floor() -> RedirectResponse:
        return RedirectResponse(location, status_code=302)

    return floor


def build(captures: list[dict[str, Any]]) -> FastAPI:
    floor = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    floor.add_api_route("/floor/ready", _document(b"", "text/plain"), methods=["GET"])
    routes = _routes()
    for n, capture in enumerate(captures):
        route = routes[capture["method"], capture["template"]]
        path = f"/floor/{n}"
        if capture.get("redirect") is not None:
            floor.add_api_route(path, _redirect(capture["redirect"]), methods=["GET"])
        elif capture.get("text") is not None:
            handler = _document(capture["text"].encode(), capture["media_type"])
            floor.add_api_route(path, handler, methods=["GET"])
        elif capture["method"] == "POST":
            body = get_type_hints(route.endpoint, include_extras=True)["body"]
            handler = _post(route.response_model, body, capture["answer"])
            floor.add_api_route(
                path, handler, methods=["POST"], response_model=route.response_model
            )
        else:
            handler = _get(route.response_model, capture["answer"])
            floor.add_api_route(path, handler, methods=["GET"], response_model=route.response_model)
    return floor


def _load() -> FastAPI:
    path = os.environ.get("BENCH_FLOOR_FILE")
    if not path:
        return FastAPI()
    with open(path, encoding="utf-8") as f:
        return build(json.load(f))


app = _load()
# Finding the response models built the whole app (create_app above), whose ~300,000 objects a
# bare app would not carry: left to the collector, its full passes stall the floor for 150 ms
# every few thousand requests (the app freezes them the same way).
freeze()
