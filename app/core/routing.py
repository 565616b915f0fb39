"""Finding a request's route without walking every route: the one module that knows how
FastAPI's router walks its routes.

FastAPI 0.165 keeps each `include_router` as one entry that re-derives its routes' effective
paths and dependencies as it matches them, and it matches an included router's routes twice
(once to choose it, once to handle). A request therefore pays for every route of every router
included before the one that serves it: measured in-process, 170 µs to find `GET /events/{id}`
and 560 µs to find `/healthz` among 19 routers, against 1-2 ms for a whole request
(bench/README.md).

`index_routes(app)` puts a small dispatcher in front of the app's router. It files each route
under the keys of the requests it can fully match: a method it answers, the number of segments
of its path, and the segments at the `KEY_POSITIONS` (`GET`, 5, `api`, `v1`, `teams`, `summary`
for `GET /api/v1/teams/{id}/summary`); a route of an included router in FastAPI's own effective
form of it (its full path, the inclusion's dependencies and handler, built once by FastAPI), any
other top-level route as it is. A request is matched only against the entries filed under its
key, in the app's order (the first full match), and handed to the route as FastAPI's router
would hand it down: each
inclusion's form limits, the included router and effective route noted in the scope, the
route's `handle`. FastAPI itself matches an included router's routes twice (once to choose the
router, once to handle) and copies the scope at each level; handing the request down directly
took 10-11 us off every request (bench/README.md); keyed by method and length too, a request
meets no other method's routes nor longer or shorter paths (a failed match costs about 2 us).
When the key names no entries, or none of them match, the request goes to the app's router and
walks everything as before, so a 404, a 405 for a method the path does not take, a redirect for
a trailing slash or a route added after start-up are answered exactly as without the index.
An included router holding anything but FastAPI routes (a mount, a plain Starlette route) stays
one entry that FastAPI walks itself.

What this relies on beyond FastAPI's documented API: `_IncludedRouter.effective_candidates()`
(an included router's routes in their effective form, `_EffectiveRouteContext`, and the routers
it includes), the scope keys FastAPI's router sets before a route handles a request
(`_FASTAPI_INCLUDED_ROUTER_KEY`, `_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY`, through
`_get_fastapi_scope`, `_update_scope`, `_apply_router_form_limits` and telemetry's
`_route_selected`), `APIRouter._routes_version` (to notice routes added to the app after the
index was built; a route added later to a router already included is found by the full walk,
unless a route filed under the same key answers first), and that `Router.__call__` runs
`Router.middleware_stack`. `TESTED_FASTAPI` names the releases this was checked against; a test
fails on any other, and tests compare what a handler sees of how it was reached, with and
without the index.

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

`read_parameters_by_plan()` is the third. FastAPI 0.165's `request_params_to_args` reads a
dependency's path, query, header or cookie parameters one by one, asking again for each what
kind of parameter it is (a parameter model? which names? a list? JSON?) and deep-copying its
default when it is absent: measured in-process, a list of events with its eight query
parameters spent about 50 of 617 us there. The replacement works the answers out once per list
of parameters (with FastAPI's own helpers) and reads each plain parameter (one name, not a
list, not JSON, not a model) with one lookup, its default deep-copied only when it is not an
immutable value; a list holding any other kind of parameter is read by FastAPI's own function.
A test compares both functions' values and errors for every parameter list the app has.

`solve_dependencies_by_plan()` is the fourth. FastAPI 0.165's `solve_dependencies` walks a
route's dependency tree on every request asking again, at every level, what only the tree
decides: each sub-dependency's cache key and kind of callable, which of its four parameter
lists to read (it reads all four, empty or not, so every dependency parses the query string
and the cookies), and which special parameters it takes; measured in-process, about 37 of a
60 us solve for a one-statement read (the rest is the dependencies' own work, the caller's
check above all). The replacement works each dependant's plan out once (FastAPI's own helpers
give every answer) and walks the plans: the same calls, in the same order, with the same cache,
exit stacks, threads for sync callables, errors and values. A request with dependency
overrides (tests) or a WebSocket goes to FastAPI's own function. A test answers the same
requests with both solvers on an app using every kind of dependency FastAPI knows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from enum import Enum
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi import params as fastapi_params
from fastapi import routing as fastapi_routing
from fastapi.dependencies import models as dependency_models
from fastapi.dependencies import utils as dependency_utils
from fastapi.routing import (
    _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY as _EFFECTIVE_ROUTE_CONTEXT,
)
from fastapi.routing import (
    _FASTAPI_INCLUDED_ROUTER_KEY as _INCLUDED_ROUTER,
)
from fastapi.routing import (
    APIRoute,
    APIRouter,
    _apply_router_form_limits,
    _EffectiveRouteContext,
    _get_fastapi_scope,
    _IncludedRouter,
    _update_scope,
)
from fastapi.telemetry._api import _route_selected
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount
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


def _key(method: str, path: str) -> tuple[str | int, ...]:
    """A request's key: its method, how many segments its path has, and the segments at the
    key positions."""
    segments = path.split("/")[1:]
    picked = (segments[i] for i in KEY_POSITIONS if i < len(segments))
    return (method, len(segments), *picked)


def _literal_keys(path_format: str, methods: Iterable[str]) -> list[tuple[str | int, ...]]:
    """The keys of every request this format matches with one of `methods`, or none when a
    parameter sits at a key position (then it is filed under every key it may match)."""
    if any("{" in str(part) for part in _key("", path_format)[2:]):
        return []
    return [_key(method, path_format) for method in methods]


def _paths(route: BaseRoute | _EffectiveRouteContext) -> Iterable[str] | None:
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


def _may_match(path_format: str, methods: frozenset[str] | None, key: tuple[Any, ...]) -> bool:
    """Whether a route with this path format and these methods (None: any) can fully match
    some request whose key is `key`."""
    method, count, *parts = key
    if methods is not None and method not in methods:
        return False  # the route would answer 405: left to the full walk
    segments = path_format.split("/")[1:]
    if any(":path}" in segment for segment in segments):
        return True  # a path parameter matches the rest of the path, whatever it is
    if len(segments) != count:
        return False  # a parameter matches one segment: paths of this format are as long
    positions = [i for i in KEY_POSITIONS if i < len(segments)]
    pairs = zip(positions, parts, strict=True)
    return all("{" in segments[i] or segments[i] == wanted for i, wanted in pairs)


def _methods(entry: _Entry) -> frozenset[str] | None:
    """The methods an entry's route answers (None: any, or it cannot say)."""
    methods = getattr(entry.route, "methods", None)
    return None if methods is None else frozenset(methods)


@dataclass(frozen=True)
class _Entry:
    """A route a bucket hands requests to. For a route of an included router: FastAPI's
    effective form of it (its full path, the inclusion's dependencies; `context`) and the
    included routers it is reached through, outermost first (`chain`), so the request is
    handled as the app's router would hand it down. Any other top-level route (`context` None)
    is matched and handled as it is."""

    route: BaseRoute
    context: _EffectiveRouteContext | None = None
    chain: tuple[_IncludedRouter, ...] = ()

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.context is None:
            return self.route.matches(scope)
        match, child_scope = self.context.matches(scope)
        if match is not Match.NONE:
            child_scope["route"] = self.route  # as APIRoute.matches adds
        return match, child_scope

    async def handle(self, scope: Scope, child_scope: Scope, receive: Receive, send: Send) -> None:
        context = self.context
        if context is None:  # what APIRouter.app does with a route it matched
            _update_scope(scope, child_scope)
            path = getattr(self.route, "path_format", None)
            _route_selected(scope=scope, path=path, mount=isinstance(self.route, Mount))
            await self.route.handle(scope, receive, send)
            return
        # What _IncludedRouter.handle and _handle_selected do, level by level, once the route
        # is chosen: each inclusion's form limits, then the route under its effective context.
        for included in self.chain:
            _apply_router_form_limits(scope, included.include_context.form_limits)
        fastapi_scope = _get_fastapi_scope(scope)
        fastapi_scope[_INCLUDED_ROUTER] = self.chain[-1]
        _update_scope(scope, child_scope)
        _route_selected(scope=scope, path=context.path_format)
        fastapi_scope[_EFFECTIVE_ROUTE_CONTEXT] = context
        await self.route.handle(scope, receive, send)


def _entries(route: BaseRoute) -> list[_Entry]:
    """A top-level route as the entries it serves, in the order the app's router tries them.
    An included router whose routes are not all FastAPI routes (a mount, a plain Starlette
    route, a front-end group) stays one entry and is walked by FastAPI itself."""

    def expand(
        included: _IncludedRouter, chain: tuple[_IncludedRouter, ...]
    ) -> list[_Entry] | None:
        found: list[_Entry] = []
        for candidate in included.effective_candidates():
            if isinstance(candidate, _IncludedRouter):
                inner = expand(candidate, (*chain, candidate))
                if inner is None:
                    return None
                found += inner
            elif isinstance(candidate.original_route, APIRoute):
                found.append(_Entry(candidate.original_route, candidate, chain))
            else:
                return None
        return found

    expanded = expand(route, (route,)) if isinstance(route, _IncludedRouter) else None
    return [_Entry(route)] if expanded is None else expanded


class RouteIndex:
    """The dispatcher `index_routes` installs; `buckets` maps a request's key (`_key`) to the
    entries filed under it."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self.walk_all: ASGIApp = router.app
        self.version = -1
        self.buckets: dict[tuple[str | int, ...], tuple[_Entry, ...]] = {}
        self.rebuild()

    def rebuild(self) -> None:
        entries = [entry for route in self.router.routes for entry in _entries(route)]
        filed = [(e, _paths(e.context or e.route), _methods(e)) for e in entries]
        keys = {
            key
            for _, paths, methods in filed
            for path in paths or ()
            for key in _literal_keys(path, methods or ())
        }
        self.buckets = {
            key: tuple(
                entry
                for entry, paths, methods in filed
                if paths is None or any(_may_match(path, methods, key) for path in paths)
            )
            for key in keys
        }
        self.version = self.router._routes_version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.walk_all(scope, receive, send)
            return
        if self.router._routes_version != self.version:
            self.rebuild()
        entries = self.buckets.get(_key(scope["method"], scope["path"]))
        if entries is None:
            await self.walk_all(scope, receive, send)
            return
        # The app's router's own steps before it walks its routes (APIRouter.app).
        _apply_router_form_limits(scope, self.router.form_limits)
        scope.setdefault("router", self.router)
        for entry in entries:
            match, child_scope = entry.matches(scope)
            if match is Match.FULL:
                await entry.handle(scope, child_scope, receive, send)
                return
        # A wrong method (405: a bucket holds only the routes answering this one), a 404, a
        # redirect, a late route: as the app's router answers them.
        await self.walk_all(scope, receive, send)


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


# ---- a route's parameters read by a plan made once -----------------------------------------


@dataclass(frozen=True, slots=True)
class _Param:
    """What FastAPI 0.165's `request_params_to_args` works out for one plain parameter (one
    request key, not a list, not JSON, not a parameter model), worked out once."""

    field: Any  # fastapi's ModelField
    name: str
    alias: str
    loc: tuple[str, str]
    required: bool
    default: Any
    copy_default: bool  # a default that is not immutable: a deep copy per request, as FastAPI
    validate_default: bool


# Defaults a deep copy would return unchanged (`copy.deepcopy` of these is the value itself).
_IMMUTABLE = (type(None), bool, int, float, str, bytes, Enum)


def _plan(fields: Sequence[Any]) -> tuple[_Param, ...] | None:
    """The parameters' plan, or None when one of them is not plain (FastAPI reads those)."""
    plan = []
    for field in fields:
        if dependency_utils._get_param_model(field) is not None:
            return None
        aliases = dependency_utils._get_param_aliases(field)
        info = field.field_info
        if (
            len(aliases) != 1
            or dependency_utils._is_json_field(field)
            or dependency_utils.field_annotation_is_sequence(info.annotation)
            or not isinstance(info, fastapi_params.Param)
        ):
            return None
        alias = aliases[0][1]
        required = info.is_required()
        default = None if required else field.default
        plan.append(
            _Param(
                field=field,
                name=field.name,
                alias=alias,
                loc=(info.in_.value, alias),
                required=required,
                default=default,
                copy_default=not isinstance(default, _IMMUTABLE),
                validate_default=bool(info.validate_default),
            )
        )
    return tuple(plan)


def _planned(original: Callable[..., Any]) -> Callable[..., Any]:
    """`request_params_to_args` reading plain parameters by their plan (memoised per list of
    fields, by identity, as the classifiers are); any other list goes to FastAPI's own."""
    plan_of = _remembered(Classifier(_plan))  # per list of fields, by identity
    missing = dependency_utils.get_missing_field_error

    def request_params_to_args(
        fields: Sequence[Any], received_params: Any
    ) -> tuple[dict[str, Any], list[Any]]:
        if not fields:
            return {}, []
        plan = plan_of(fields)
        if plan is None:
            return original(fields, received_params)
        values: dict[str, Any] = {}
        errors: list[Any] = []
        for param in plan:
            value = received_params.get(param.alias)
            if value is None:  # absent (FastAPI: "apply defaults during validation")
                if param.required:
                    errors.append(missing(loc=param.loc))
                    continue
                value = deepcopy(param.default) if param.copy_default else param.default
                if not param.validate_default:
                    values[param.name] = value
                    continue
            found, wrong = param.field.validate(value, values, loc=param.loc)
            if wrong:
                errors.extend(wrong)
            else:
                values[param.name] = found
        return values, errors

    request_params_to_args.__wrapped__ = original  # type: ignore[attr-defined]
    return request_params_to_args


def read_parameters_by_plan() -> None:
    """Install `_planned` as the `request_params_to_args` FastAPI's dependency solver calls
    (see the module's docstring). Idempotent; process-wide."""
    current = dependency_utils.request_params_to_args
    if getattr(current, "__wrapped__", None) is None:
        dependency_utils.request_params_to_args = _planned(current)


# ---- a request's dependencies solved by a plan made once -------------------------------------

_COROUTINE, _SYNC, _GENERATOR = 0, 1, 2
# Where FastAPI 0.165 keeps a request's exit stacks (its code after `yield` of a dependency
# with scope "function", and of the others) in the ASGI scope.
_FUNCTION_STACK, _REQUEST_STACK = "fastapi_function_astack", "fastapi_inner_astack"


@dataclass(frozen=True, slots=True)
class _Sub:
    """What FastAPI 0.165's `solve_dependencies` works out for one sub-dependency on every
    request, worked out once."""

    dependant: Any  # fastapi's Dependant
    plan: _Solve
    name: str | None
    key: Any  # its cache key
    use_cache: bool
    kind: int  # _COROUTINE, _SYNC or _GENERATOR (sync or async)
    function_scope: bool  # a generator whose code after `yield` runs before the answer
    concurrency: Any


@dataclass(frozen=True, slots=True)
class _Solve:
    """A dependant's plan: its sub-dependencies in order, its parameter lists that are not
    empty, and the names its special parameters take."""

    call: Any
    subs: tuple[_Sub, ...]
    path: Any
    query: Any
    header: Any
    cookie: Any
    body: Any
    request: str | None
    http_connection: str | None
    background_tasks: str | None
    response: str | None
    security_scopes: Any  # (name, scopes) or None


def _solve_plan(dependant: Any) -> _Solve:
    subs = []
    for sub in dependant.dependencies:
        call = sub.call
        if dependency_utils._is_gen_callable(call) or dependency_utils._is_async_gen_callable(call):
            kind = _GENERATOR
        elif dependency_utils._is_coroutine_callable(call):
            kind = _COROUTINE
        else:
            kind = _SYNC
        subs.append(
            _Sub(
                dependant=sub,
                plan=_planned_solve(sub),
                name=sub.name,
                key=dependency_utils._get_cache_key(dependant=sub, uses_scopes_cache={}),
                use_cache=sub.use_cache,
                kind=kind,
                function_scope=sub.scope == "function",
                concurrency=sub.concurrency,
            )
        )
    scopes = None
    if dependant.security_scopes_param_name:
        own = dependency_models._get_oauth_scopes(dependant=dependant)
        scopes = (dependant.security_scopes_param_name, tuple(own))
    return _Solve(
        call=dependant.call,
        subs=tuple(subs),
        path=dependant.path_params or None,
        query=dependant.query_params or None,
        header=dependant.header_params or None,
        cookie=dependant.cookie_params or None,
        body=dependant.body_params or None,
        request=dependant.request_param_name,
        http_connection=dependant.http_connection_param_name,
        background_tasks=dependant.background_tasks_param_name,
        response=dependant.response_param_name,
        security_scopes=scopes,
    )


_planned_solve = _remembered(Classifier(_solve_plan))  # per dependant, by identity


async def _solved(
    request: Request,
    plan: _Solve,
    body: Any,
    background_tasks: Any,
    response: Response,
    cache: dict[Any, Any],
    embed_body_fields: bool,
) -> tuple[dict[str, Any], list[Any], Any]:
    """FastAPI 0.165's `solve_dependencies` for one dependant, by its plan: (values, errors,
    background tasks), in FastAPI's order."""
    values: dict[str, Any] = {}
    errors: list[Any] = []
    for sub in plan.subs:
        sub_values, sub_errors, background_tasks = await _solved(
            request, sub.plan, body, background_tasks, response, cache, embed_body_fields
        )
        if sub_errors:
            errors.extend(sub_errors)
            continue
        key = sub.key
        if sub.use_cache and key in cache:
            solved = cache[key]
        elif sub.kind == _COROUTINE:
            if sub.concurrency is None:
                solved = await sub.plan.call(**sub_values)
            else:
                async with sub.concurrency.get_semaphore():
                    solved = await sub.plan.call(**sub_values)
        elif sub.kind == _GENERATOR:
            stack = request.scope[_FUNCTION_STACK if sub.function_scope else _REQUEST_STACK]
            solved = await dependency_utils._solve_generator(
                request=request, dependant=sub.dependant, stack=stack, sub_values=sub_values
            )
        elif sub.concurrency is None:
            solved = await dependency_utils.run_in_threadpool(sub.plan.call, **sub_values)
        else:
            async with sub.concurrency.get_semaphore():
                solved = await dependency_utils.run_in_threadpool(sub.plan.call, **sub_values)
        if sub.name is not None:
            values[sub.name] = solved
        if key not in cache:
            cache[key] = solved
    read = dependency_utils.request_params_to_args
    for fields, source in (
        (plan.path, "path_params"),
        (plan.query, "query_params"),
        (plan.header, "headers"),
        (plan.cookie, "cookies"),
    ):
        if fields is not None:
            found, wrong = read(fields, getattr(request, source))
            values.update(found)
            errors += wrong
    if plan.body is not None:
        found, wrong = await dependency_utils.request_body_to_args(
            body_fields=plan.body, received_body=body, embed_body_fields=embed_body_fields
        )
        values.update(found)
        errors.extend(wrong)
    if plan.http_connection:
        values[plan.http_connection] = request
    if plan.request:
        values[plan.request] = request
    if plan.background_tasks:
        if background_tasks is None:
            background_tasks = dependency_utils.BackgroundTasks()
        values[plan.background_tasks] = background_tasks
    if plan.response:
        values[plan.response] = response
    if plan.security_scopes is not None:
        name, scopes = plan.security_scopes
        values[name] = dependency_utils.SecurityScopes(scopes=list(scopes))
    return values, errors, background_tasks


class _SubResponse(Response):
    """The response FastAPI's `solve_dependencies` makes for the dependencies and the handler
    to set a status, headers or cookies on (a `Response` parameter): no status, no headers, no
    body, as FastAPI leaves its own `Response()` (content-length deleted, status None), built
    without rendering a body and writing a header only to delete it."""

    def __init__(self) -> None:
        self.status_code = None  # type: ignore[assignment]
        self.background = None
        self.body = b""
        self.raw_headers = []


def _solving_by_plan(original: Callable[..., Any]) -> Callable[..., Any]:
    """`solve_dependencies` by each dependant's plan, for an HTTP request without dependency
    overrides; anything else (a WebSocket, overrides set by tests) goes to FastAPI's own."""

    async def solve_dependencies(
        *,
        request: Any,
        dependant: Any,
        body: Any = dependency_utils.Undefined,
        background_tasks: Any = None,
        response: Response | None = None,
        dependency_overrides_provider: Any = None,
        dependency_cache: dict[Any, Any] | None = None,
        async_exit_stack: Any,
        embed_body_fields: bool,
        _uses_scopes_cache: Any = None,
    ) -> Any:
        if not isinstance(request, Request) or (
            dependency_overrides_provider is not None
            and getattr(dependency_overrides_provider, "dependency_overrides", None)
        ):
            return await original(
                request=request,
                dependant=dependant,
                body=body,
                background_tasks=background_tasks,
                response=response,
                dependency_overrides_provider=dependency_overrides_provider,
                dependency_cache=dependency_cache,
                async_exit_stack=async_exit_stack,
                embed_body_fields=embed_body_fields,
                _uses_scopes_cache=_uses_scopes_cache,
            )
        if response is None:
            response = _SubResponse()
        if dependency_cache is None:
            dependency_cache = {}
        values, errors, background_tasks = await _solved(
            request,
            _planned_solve(dependant),
            body,
            background_tasks,
            response,
            dependency_cache,
            embed_body_fields,
        )
        return dependency_utils.SolvedDependency(
            values=values,
            errors=errors,
            background_tasks=background_tasks,
            response=response,
            dependency_cache=dependency_cache,
        )

    solve_dependencies.__wrapped__ = original  # type: ignore[attr-defined]
    return solve_dependencies


def solve_dependencies_by_plan() -> None:
    """Install `_solving_by_plan` as the `solve_dependencies` FastAPI's routes call (see the
    module's docstring). Idempotent; process-wide."""
    current = fastapi_routing.solve_dependencies
    if getattr(current, "__wrapped__", None) is None:
        fastapi_routing.solve_dependencies = _solving_by_plan(current)
