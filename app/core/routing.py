"""Finding a request's route without walking every route: the one module that knows how
FastAPI's router walks its routes.

FastAPI 0.165 keeps each `include_router` as one entry that re-derives its routes' effective
paths and dependencies as it matches them, and it matches an included router's routes twice
(once to choose it, once to handle). A request therefore pays for every route of every router
included before the one that serves it: measured in-process, 170 µs to find `GET /events/{id}`
and 560 µs to find `/healthz` among 19 routers, against 1-2 ms for a whole request
(bench/README.md).

`index_routes(app)` puts a small dispatcher in front of the app's router. It files each
top-level route (an included router, or a plain route) under the path segments it can match at the
`KEY_POSITIONS` (`api`, `v1`, `teams`, `summary` for `/api/v1/teams/{id}/summary`) and hands a
request to a router holding only the routes filed under its path's key, in their original order.
That router is FastAPI's own: it matches, answers 405 for a wrong method, and applies every
included router's prefix and dependencies as the app's router would. When the key names no
routes, or none of them match (the bucket's default), the request goes to the app's router and
walks everything as before, so a 404, a redirect for a trailing slash or a route added after
start-up are answered exactly as without the index.

What this relies on beyond FastAPI's documented API:
`_IncludedRouter.effective_route_contexts()` (the full paths an included router serves),
`APIRouter._routes_version` (to notice routes added to the app after the index was built; a
route added later to a router already included is found by the full walk, unless a route filed
under the same key answers first), and that `Router.__call__` runs `Router.middleware_stack`.
`TESTED_FASTAPI` names the releases this was checked against; a test fails on any other.

`classify_dependencies_once()` is the module's second use of FastAPI's internals. For each of a
request's dependencies, FastAPI 0.165's `solve_dependencies` works out again what depends only
on the route's dependency tree: the dependency's cache key (walking its sub-dependencies for
security scopes) and whether its callable is a generator, an async generator or a coroutine
(each asked through an `lru_cache` keyed by a wrapper object built for the call); and for each
query, path, header or cookie parameter, its model, its names and whether it takes a list.
Measured in-process, the dependencies were 15-20 µs of a 150-300 µs request, the parameters
about 4 µs each (30 µs of a list with eight; bench/README.md). The function replaces those
helpers (`CLASSIFIERS`), as `fastapi.dependencies.utils` names them, with ones that remember
FastAPI's own answer per dependency, callable or parameter object (by identity, as FastAPI's
caches do): the answers are FastAPI's, computed once. A route's dependency objects and
parameters are built once at start-up; overrides (tests) build new ones per request, so each
memo is emptied when it reaches `MEMO_MAX` entries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies import models as dependency_models
from fastapi.dependencies import utils as dependency_utils
from fastapi.routing import APIRouter
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

# [from, to) as (major, minor, patch). Keep in step with the pin in pyproject.toml.
TESTED_FASTAPI = ((0, 165, 0), (0, 166, 0))

# The path segments a request is filed by: `/api/v1/<collection>/{id}/<sub-resource>` gives
# ("api", "v1", "<collection>", "<sub-resource>"); the id's position is skipped.
KEY_POSITIONS = (0, 1, 2, 4)


def is_tested(release: str | None = None) -> bool:
    parts = tuple(int(p) for p in (release or version("fastapi")).split(".")[:3])
    low, high = TESTED_FASTAPI
    return low <= parts < high


def _key(path: str) -> tuple[str, ...]:
    segments = path.split("/")[1:]
    return tuple(segments[i] for i in KEY_POSITIONS if i < len(segments))


def _literal_key(path_format: str) -> tuple[str, ...] | None:
    """The key of every path this format matches, or None when a parameter sits at a key
    position (then it is filed under every key it may match)."""
    key = _key(path_format)
    return None if any("{" in part for part in key) else key


def _paths(route: BaseRoute) -> Iterable[str] | None:
    """The path formats a top-level route can serve; None when it cannot say (a mount, a host):
    such a route is tried for every request."""
    contexts = getattr(route, "effective_route_contexts", None)
    if contexts is not None:
        paths = [getattr(c, "path_format", None) for c in contexts()]
        return None if any(p is None for p in paths) else [p for p in paths if p]
    path = getattr(route, "path_format", None)
    if path is None or type(route).__name__ in {"Mount", "Host"}:
        return None
    return [path]


def _may_match(path_format: str, key: tuple[str, ...]) -> bool:
    """Whether a route with this path format can match some path whose key is `key`."""
    segments = path_format.split("/")[1:]
    if any(":path}" in segment for segment in segments):
        return True  # a path parameter matches the rest of the path, whatever it is
    positions = [i for i in KEY_POSITIONS if i < len(segments)]
    if len(positions) != len(key):
        return False  # paths of this format are longer or shorter than those with this key
    pairs = zip(positions, key, strict=True)
    return all("{" in segments[i] or segments[i] == wanted for i, wanted in pairs)


class RouteIndex:
    """The dispatcher `index_routes` installs; `buckets` maps a path key to the router that
    holds the routes filed under it."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.walk_all: ASGIApp = router.app
        self.version = -1
        self.buckets: dict[tuple[str, ...], APIRouter] = {}
        self.rebuild()

    def rebuild(self) -> None:
        routes = list(self.router.routes)
        filed = [(route, _paths(route)) for route in routes]
        keys = {
            key
            for _, paths in filed
            for path in paths or ()
            if (key := _literal_key(path)) is not None
        }
        buckets: dict[tuple[str, ...], APIRouter] = {}
        for key in keys:
            chosen = [
                route
                for route, paths in filed
                if paths is None or any(_may_match(path, key) for path in paths)
            ]
            bucket = APIRouter(redirect_slashes=False, default=self.walk_all)
            bucket.routes = chosen
            buckets[key] = bucket
        self.buckets = buckets
        self.version = self.router._routes_version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.walk_all(scope, receive, send)
            return
        if self.router._routes_version != self.version:
            self.rebuild()
        bucket = self.buckets.get(_key(scope["path"]))
        if bucket is None:
            await self.walk_all(scope, receive, send)
            return
        scope.setdefault("router", self.router)
        await bucket.app(scope, receive, send)  # no match there: its default walks everything


def index_routes(app: FastAPI) -> RouteIndex:
    """Install the index on `app`'s router (after every router is included)."""
    index = RouteIndex(app.router)
    app.router.middleware_stack = index
    return index


MEMO_MAX = 4096


@dataclass(frozen=True)
class Classifier:
    """One of FastAPI's helpers whose answer depends only on one long-lived object:
    `argument` names the keyword it takes that object by (positional otherwise), `ignored` the
    keywords that do not change the answer (a per-request cache)."""

    ask: Callable[..., Any]
    argument: str | None = None
    ignored: frozenset[str] = frozenset()


def _remembered(helper: Classifier) -> Callable[..., Any]:
    """The helper, answering again from memory for the same object (by identity: the memo
    holds the object, so its id is not reused while remembered). A call with any other
    argument is passed through unremembered."""
    memo: dict[int, tuple[object, Any]] = {}
    ask, argument, ignored = helper.ask, helper.argument, helper.ignored

    def remembered(*args: Any, **kwargs: Any) -> Any:
        if argument is None:
            if len(args) != 1 or kwargs:
                return ask(*args, **kwargs)
            subject = args[0]
        else:
            if args or not ignored.issuperset(kwargs.keys() - {argument}):
                return ask(*args, **kwargs)
            subject = kwargs[argument]
        hit = memo.get(id(subject))
        if hit is not None and hit[0] is subject:
            return hit[1]
        answer = ask(*args, **kwargs)
        if len(memo) >= MEMO_MAX:
            memo.clear()
        memo[id(subject)] = (subject, answer)
        return answer

    remembered.__wrapped__ = ask  # type: ignore[attr-defined]
    return remembered


# FastAPI's helpers, by the names `solve_dependencies` and `request_params_to_args` look them
# up under in their module: a dependency's cache key and kind of callable; a parameter's
# model, names and whether it is a list.
CLASSIFIERS: dict[str, Classifier] = {
    "_get_cache_key": Classifier(
        dependency_models._get_cache_key, "dependant", frozenset({"uses_scopes_cache"})
    ),
    "_is_gen_callable": Classifier(dependency_models._is_gen_callable),
    "_is_async_gen_callable": Classifier(dependency_models._is_async_gen_callable),
    "_is_coroutine_callable": Classifier(dependency_models._is_coroutine_callable),
    "_get_param_model": Classifier(dependency_utils._get_param_model),
    "_get_param_aliases": Classifier(dependency_utils._get_param_aliases),
    "_is_json_field": Classifier(dependency_utils._is_json_field),
    "field_annotation_is_sequence": Classifier(dependency_utils.field_annotation_is_sequence),
}


def classify_dependencies_once() -> None:
    """Make FastAPI's dependency solver remember how it classified each dependency and
    parameter (see the module's docstring). Idempotent; process-wide, as the helpers it
    replaces are."""
    for name, helper in CLASSIFIERS.items():
        current = getattr(dependency_utils, name)
        if getattr(current, "__wrapped__", None) is not helper.ask:
            setattr(dependency_utils, name, _remembered(helper))
