"""The route index (app/core/routing.py): every request reaches the route the app's router
would have chosen, the index is in use, and the FastAPI release is one it was written for."""

from __future__ import annotations

import re
import uuid

import fastapi
import pytest
from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    FastAPI,
    Header,
    Query,
    Request,
    Response,
    Security,
)
from fastapi.routing import _IncludedRouter
from fastapi.security import SecurityScopes
from fastapi.testclient import TestClient
from pydantic import AliasChoices, BaseModel
from starlette.routing import Match

from app.core.routing import TESTED_FASTAPI, RouteIndex, _key, index_routes, is_tested
from app.main import create_app


def test_the_installed_fastapi_is_one_routing_py_was_written_for():
    """routing.py relies on how FastAPI walks included routers: an upgrade must be checked,
    then the range moved (and the pin in pyproject.toml with it)."""
    assert is_tested(fastapi.__version__), (fastapi.__version__, TESTED_FASTAPI)
    assert not is_tested("0.164.9")
    assert not is_tested("0.166.0")


def _sample(path_format: str) -> str:
    """A concrete path for a route's path format: ids become a uuid, anything else a word."""
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path_format)


def _scope(app: FastAPI, method: str, path: str) -> dict:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "headers": [],
        "query_string": b"",
        "app": app,
    }


def _first_match(routes, scope) -> tuple[Match, object | None]:
    """What the app's router would dispatch to among `routes`: the first full match, else the
    first partial one (a wrong method: 405)."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return Match.FULL, route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return (Match.PARTIAL, partial) if partial is not None else (Match.NONE, None)


def _every_path_and_method(app: FastAPI) -> list[tuple[str, str]]:
    pairs = []
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        for context in contexts() if contexts else [route]:
            path = _sample(context.path_format)
            for method in sorted(getattr(context, "methods", None) or {"GET"}):
                pairs.append((method, path))
    return pairs


def _walked(app: FastAPI, scope) -> tuple[Match, object | None, object | None]:
    """Where the app's router hands a request: the match, the route that answers and the
    effective form FastAPI gives it under its included router (None for a top-level route)."""
    match, route = _first_match(app.router.routes, scope)
    context = None
    while isinstance(route, _IncludedRouter):
        _, _, route, context = route._match(scope)
    return match, route, context


def _indexed(entries, scope) -> tuple[Match, object | None, object | None]:
    match, entry = _first_match(entries, scope)
    return match, getattr(entry, "route", None), getattr(entry, "context", None)


def test_every_route_is_filed_where_the_full_walk_would_find_it():
    app = create_app()
    index = app.router.middleware_stack
    assert isinstance(index, RouteIndex), "create_app() must install the route index"
    pairs = _every_path_and_method(app)
    assert len(pairs) > 80
    odd = [
        ("GET", "/api/v1/teams/"),
        ("GET", "/api/v1/teams/x/nothing-here"),
        ("DELETE", "/api/v1/users"),  # 405 on the full walk
        ("PUT", "/healthz"),
        ("GET", "/api/v1/events/x/y/z/w"),
    ]
    for method, path in pairs + odd:
        scope = _scope(app, method, path)
        expected = _walked(app, scope)
        entries = index.buckets.get(_key(method, path))
        if entries is None:
            continue  # not filed: the app's router walks everything, as without the index
        got = _indexed(entries, scope)
        if got[0] is not Match.FULL:
            continue  # no entry fully matches: the full walk answers
        assert got == expected, (method, path)
        if path.startswith(("/api/", "/healthz")):  # the app's routers, not FastAPI's docs
            assert got[2] is not None, "an included router's route is handed down in its form"
    # The operations themselves are filed, not left to the fallback.
    filed = sum(1 for method, path in pairs if _key(method, path) in index.buckets)
    assert filed == len(pairs)


def test_a_bucket_holds_only_the_routes_its_requests_can_reach():
    """Filed by method, path length and the segments at the key positions: a request meets
    neither another method's routes nor longer or shorter paths."""
    index = create_app().router.middleware_stack

    def formats(method: str, path: str) -> list[str]:
        return [entry.context.path_format for entry in index.buckets[_key(method, path)]]

    assert formats("GET", "/api/v1/teams/x/summary") == ["/api/v1/teams/{team_id}/summary"]
    assert formats("GET", "/api/v1/teams/x/summary/document") == [
        "/api/v1/teams/{team_id}/summary/document"
    ]
    assert formats("GET", "/api/v1/schools/x") == ["/api/v1/schools/{school_id}"]
    assert formats("PATCH", "/api/v1/schools/x") == ["/api/v1/schools/{school_id}"]
    assert formats("GET", "/api/v1/schools") == ["/api/v1/schools"]
    # A parameter and a suffix in one segment: both formats may match an event's path.
    assert formats("GET", "/api/v1/events/x") == [
        "/api/v1/events/{event_id}.ics",
        "/api/v1/events/{event_id}",
    ]
    assert formats("GET", "/healthz") == ["/healthz"]
    # No route takes DELETE there: not filed, so the full walk answers (405).
    assert _key("DELETE", "/api/v1/schools") not in index.buckets


def _scope_seen(request: Request) -> dict:
    """What a handler can learn of how it was reached."""
    fastapi_scope = request.scope["fastapi"]
    return {
        "route": request.scope["route"].path,
        "endpoint": request.scope["endpoint"].__name__,
        "path_params": request.path_params,
        "router": request.scope["router"] is request.app.router,
        "effective": fastapi_scope["effective_route_context"].path_format,
        "included": fastapi_scope["included_router"].include_context.prefix,
        "form_limits": fastapi_scope.get("form_limits"),
        "state": dict(request.scope.get("state", {})),
    }


def _small_app(indexed: bool) -> FastAPI:
    """Routers included within routers, with prefixes, dependencies and form limits."""
    inner = APIRouter()

    @inner.get("/things/{thing_id}")
    async def read_thing(thing_id: int, request: Request) -> dict:
        return _scope_seen(request)

    @inner.post("/things/{thing_id}")
    async def write_thing(thing_id: int) -> dict:
        return {"wrote": thing_id}

    def mark(request: Request) -> None:
        request.scope.setdefault("state", {})["marked"] = True

    outer = APIRouter(dependencies=[Depends(mark)])
    outer.include_router(inner, prefix="/inner", form_limits={"max_part_size": 2048})

    @outer.get("/plain")
    async def plain(request: Request) -> dict:
        return _scope_seen(request)

    app = FastAPI()
    app.include_router(outer, prefix="/api/v1")

    @app.get("/top")
    async def top(request: Request) -> dict:
        return {"route": request.scope["route"].path}

    if indexed:
        index_routes(app)
    return app


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/inner/things/7"),
        ("POST", "/api/v1/inner/things/7"),
        ("DELETE", "/api/v1/inner/things/7"),
        ("GET", "/api/v1/inner/things/x"),
        ("GET", "/api/v1/plain"),
        ("GET", "/top"),
        ("GET", "/api/v1/nothing"),
    ],
)
def test_a_handler_is_reached_as_the_full_walk_reaches_it(method, path):
    """The index hands a request down as the app's router does: the same route, endpoint,
    path parameters, effective route, included router, form limits and router dependencies,
    and the same answer for a wrong method or an unknown path."""
    with_index = TestClient(_small_app(indexed=True)).request(method, path)
    without = TestClient(_small_app(indexed=False)).request(method, path)
    assert (with_index.status_code, with_index.json()) == (without.status_code, without.json())
    assert with_index.headers.get("allow") == without.headers.get("allow")


def test_the_small_app_is_indexed_and_its_routes_are_seen_in_their_included_form():
    app = _small_app(indexed=True)
    assert isinstance(app.router.middleware_stack, RouteIndex)
    seen = TestClient(app).get("/api/v1/inner/things/7").json()
    assert seen["effective"] == "/api/v1/inner/things/{thing_id}"
    assert seen["included"] == "/api/v1/inner"
    assert seen["form_limits"] == {"max_part_size": 2048}
    assert seen["state"] == {"marked": True}
    assert seen["path_params"] == {"thing_id": "7"}  # raw text, as Starlette keeps them


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("PUT", "/healthz", 405),
        ("GET", "/api/v1/nothing", 404),
        ("GET", "/api/v1/teams/not-a-uuid/summary", 401),
    ],
)
def test_answers_are_those_of_the_full_walk(client: TestClient, method, path, status):
    assert client.request(method, path).status_code == status


def test_a_trailing_slash_still_redirects(client: TestClient):
    answer = client.get("/api/v1/schools/", follow_redirects=False)
    assert answer.status_code == 307
    assert answer.headers["location"].endswith("/api/v1/schools")


def test_a_route_added_after_start_up_is_found():
    app = create_app()
    client = TestClient(app)

    assert client.delete("/api/v1/users").status_code == 405

    # Filed under the same key as the users router, which answers 405 for this method: a stale
    # index would answer that instead of reaching the new route.
    @app.delete("/api/v1/users", include_in_schema=False)
    async def added_late() -> dict[str, bool]:
        return {"late": True}

    assert client.delete("/api/v1/users").json() == {"late": True}


def _dependants(app: FastAPI):
    """Every dependency object of every route of the app, sub-dependencies included."""
    from fastapi.routing import APIRoute, iter_route_contexts

    pending = [
        context.dependant
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
    ]
    while pending:
        dependant = pending.pop()
        yield dependant
        pending.extend(dependant.dependencies)


def _subjects(name: str, dependants: list) -> list:
    """What each remembered helper is asked about in the app: its dependencies, their
    callables, their parameters or the parameters' annotations."""
    params = [
        field
        for d in dependants
        for field in (*d.path_params, *d.query_params, *d.header_params, *d.cookie_params)
    ]
    if name == "_get_cache_key":
        return dependants
    if name.startswith("_is_") and name.endswith("_callable"):
        return [d.call for d in dependants]
    if name == "field_annotation_is_sequence":
        return [field.field_info.annotation for field in params]
    return params


def test_the_solver_remembers_fastapis_own_classification_of_every_dependency():
    """classify_dependencies_once: installed by create_app, and for every dependency and
    parameter the app has it answers what FastAPI's helper answers, the second time from
    memory."""
    from fastapi.dependencies import utils as solver

    from app.core.routing import CLASSIFIERS

    app = create_app()
    dependants = list(_dependants(app))
    assert len(dependants) > 200
    for name, helper in CLASSIFIERS.items():
        remembered = getattr(solver, name)
        assert remembered.__wrapped__ is helper.ask, name
        subjects = _subjects(name, dependants)
        assert len(subjects) > 100, name
        for subject in subjects:
            if helper.argument:
                want = helper.ask(**{helper.argument: subject})
                assert remembered(**{helper.argument: subject}, uses_scopes_cache={}) == want
                assert remembered(**{helper.argument: subject}) == want
            else:
                want = helper.ask(subject)
                assert remembered(subject) == want, (name, subject)
                assert remembered(subject) == want, (name, subject)
    assert {solver._is_coroutine_callable(d.call) for d in dependants} == {True, False}
    assert {solver._get_cache_key(dependant=d)[2] for d in dependants} == {"function", ""}


def test_a_remembered_answer_is_asked_once_per_object_and_the_memory_is_bounded(monkeypatch):
    from app.core import routing

    asked: list[object] = []

    def ask(subject: object, *, upper: bool = False) -> int:
        asked.append(subject)
        return len(asked) * (10 if upper else 1)

    monkeypatch.setattr(routing, "MEMO_MAX", 3)
    remembered = routing._remembered(routing.Classifier(ask))
    first, second = object(), object()
    assert remembered(first) == 1
    assert remembered(first) == 1
    assert remembered(second) == 2  # another object is asked about, never answered for another
    assert remembered(first, upper=True) == 30  # another argument: asked, not remembered
    assert remembered(first) == 1
    assert asked == [first, second, first]
    for _ in range(5):
        remembered(object())
    assert remembered(first) == 9  # forgotten when the memory filled: asked again
    assert len(asked) == 9


def test_installing_the_memory_twice_keeps_one_layer():
    from fastapi.dependencies import utils as solver

    from app.core.routing import classify_dependencies_once

    classify_dependencies_once()
    before = solver._get_cache_key
    classify_dependencies_once()
    assert solver._get_cache_key is before


# Values tried for every parameter: absent, empty, and strings each kind of parameter the app
# has accepts or refuses (ids, numbers, flags, instants, dates, enum values, free text).
_TRIED = [
    "",
    str(uuid.uuid4()),
    "not-an-id",
    "0",
    "50",
    "-1",
    "100000",
    "true",
    "no",
    "2026-09-01T00:00:00Z",
    "2026-09-01",
    "observation",
    "submitted",
    "x" * 300,
]


def test_parameters_read_by_plan_are_read_as_fastapi_reads_them():
    """read_parameters_by_plan: installed by create_app, and for every list of parameters of
    every route and dependency of the app, and each value tried, the same values and the same
    errors as FastAPI's own `request_params_to_args`."""
    from fastapi.dependencies import utils as solver
    from starlette.datastructures import Headers, QueryParams

    from app.core.routing import _plan

    app = create_app()
    planned = solver.request_params_to_args
    original = planned.__wrapped__
    lists = 0
    for dependant in _dependants(app):
        for fields, received in (
            (dependant.path_params, dict),
            (dependant.query_params, lambda v: QueryParams(list(v.items()))),
            (dependant.header_params, lambda v: Headers(v)),
            (dependant.cookie_params, dict),
        ):
            if not fields:
                continue
            lists += _plan(fields) is not None
            for value in [None, *_TRIED]:
                given = {} if value is None else {f.alias: value for f in fields}
                got = planned(fields, received(given))
                want = original(fields, received(given))
                assert got[0] == want[0], (fields, value)
                assert repr(got[1]) == repr(want[1]), (fields, value)
                assert got[0] or got[1] or not given, (fields, value)
    assert lists > 150  # nearly every list is plain enough to be planned


class _Filters(BaseModel):
    tag: str | None = None


def _listed(tags: list[str] = Query([])) -> None: ...


def _modelled(filters: _Filters = Query()) -> None: ...


def _either(q: str | None = Query(None, validation_alias=AliasChoices("q", "query"))) -> None: ...


def _plain(q: str | None = None, n: int = 3) -> None: ...


def test_a_parameter_fastapi_reads_its_own_way_is_left_to_it():
    """A list, a parameter model or several accepted names: no plan, FastAPI's own reading."""
    from fastapi.routing import APIRoute

    from app.core.routing import _plan

    def params_of(endpoint):
        return APIRoute("/x", endpoint).dependant.query_params

    assert _plan(params_of(_listed)) is None
    assert _plan(params_of(_modelled)) is None
    assert _plan(params_of(_either)) is None
    plan = _plan(params_of(_plain))
    assert plan is not None
    assert [(p.alias, p.default, p.copy_default) for p in plan] == [
        ("q", None, False),
        ("n", 3, False),
    ]


def test_installing_the_plan_twice_keeps_one_layer():
    from fastapi.dependencies import utils as solver

    from app.core.routing import read_parameters_by_plan

    read_parameters_by_plan()
    before = solver.request_params_to_args
    read_parameters_by_plan()
    assert solver.request_params_to_args is before
    assert before.__wrapped__.__name__ == "request_params_to_args"


# ---- a request's dependencies solved by a plan ------------------------------------------------


class Item(BaseModel):
    name: str
    size: int


def _dependency_app(log: list[str]) -> FastAPI:
    """A small app using every kind of dependency FastAPI's solver knows: async, sync (run on
    a thread), generators and async generators of both exit scopes, cached and uncached
    sub-dependencies, nested parameter errors, a body, and the special parameters."""
    calls: dict[str, int] = {}

    def counted(name: str) -> int:
        calls[name] = calls.get(name, 0) + 1
        return calls[name]

    async def shared(request: Request) -> str:
        return f"shared{counted('shared')}:{request.url.path}"

    def on_thread(n: int = Query(3, ge=0)) -> str:
        return f"thread{counted('thread')}:{n}"

    def sync_gen(tag: str = Header("none")):
        log.append(f"enter sync {tag}")
        yield f"sync-gen:{tag}"
        log.append("exit sync")

    async def async_gen(shared_value: str = Depends(shared)):
        log.append("enter async")
        yield f"async-gen({shared_value})"
        log.append("exit async")

    async def needs_id(item_id: int) -> int:
        return item_id * 2

    async def scoped(security_scopes: SecurityScopes) -> list[str]:
        return security_scopes.scopes

    async def uncached(request: Request) -> str:
        return f"fresh{counted('fresh')}"

    async def background(tasks: BackgroundTasks, response: Response) -> str:
        tasks.add_task(log.append, "background ran")
        response.headers["X-From-Dependency"] = "yes"
        return "queued"

    app = FastAPI()

    @app.post("/items/{item_id}")
    async def handler(
        item: Item,
        item_id: int,
        doubled: int = Depends(needs_id),
        first: str = Depends(shared),
        again: str = Depends(shared),
        thread: str = Depends(on_thread),
        sync_value: str = Depends(sync_gen, scope="function"),
        async_value: str = Depends(async_gen),
        scopes: list[str] = Security(scoped, scopes=["read", "write"]),
        fresh_a: str = Depends(uncached, use_cache=False),
        fresh_b: str = Depends(uncached, use_cache=False),
        queued: str = Depends(background),
        note: str = Query(""),
        cookie_value: str | None = fastapi.Cookie(None, alias="c"),
    ) -> dict:
        log.append("handler")
        return {
            "item": item.model_dump(),
            "item_id": item_id,
            "doubled": doubled,
            "first": first,
            "again": again,
            "thread": thread,
            "sync": sync_value,
            "async": async_value,
            "scopes": scopes,
            "fresh": [fresh_a, fresh_b],
            "queued": queued,
            "note": note,
            "cookie": cookie_value,
        }

    return app


REQUESTS = [
    ("/items/4?n=5&note=hi", {"name": "a", "size": 1}, {"tag": "t1"}, {"c": "cookie"}),
    ("/items/4", {"name": "a", "size": 1}, {}, {}),
    ("/items/x?n=-1", {"name": "a"}, {}, {}),  # errors: path, query, body, all reported
    ("/items/7?n=oops", [], {}, {}),
]


def _answers(log: list[str]) -> list[tuple[int, object, str | None, list[str]]]:
    answers = []
    for path, body, headers, cookies in REQUESTS:
        log.clear()
        with TestClient(_dependency_app(log), cookies=cookies) as client:
            r = client.post(path, json=body, headers=headers)
        answers.append((r.status_code, r.json(), r.headers.get("x-from-dependency"), list(log)))
    return answers


def test_dependencies_solved_by_plan_are_solved_as_fastapi_solves_them(monkeypatch):
    """The same requests, answered with the planned solver and with FastAPI's own: the same
    values (cached once, uncached twice, a sync one on a thread), the same errors in the same
    order, the same cleanup order of generators of both scopes, background tasks and
    headers set by a dependency."""
    import fastapi.routing as fastapi_routing

    from app.core.routing import solve_dependencies_by_plan

    solve_dependencies_by_plan()
    planned = fastapi_routing.solve_dependencies
    log: list[str] = []
    by_plan = _answers(log)
    monkeypatch.setattr(fastapi_routing, "solve_dependencies", planned.__wrapped__)
    by_fastapi = _answers(log)
    assert by_plan == by_fastapi
    ok = by_plan[0]
    assert ok[0] == 200
    assert ok[1]["first"] == ok[1]["again"]
    assert ok[1]["fresh"][0] != ok[1]["fresh"][1]
    assert ok[1]["scopes"] == ["read", "write"]
    assert ok[2] == "yes"
    assert ok[3] == ["enter sync t1", "enter async", "handler", "exit sync", "background ran",
                     "exit async"]  # fmt: skip
    assert by_plan[2][0] == 422
    assert {e["loc"][0] for e in by_plan[2][1]["detail"]} == {"path", "query", "body"}


def test_overrides_are_solved_by_fastapi_itself():
    """With a dependency overridden (as tests do), FastAPI's own solver runs, and the
    override is what the handler gets."""
    from app.core.routing import solve_dependencies_by_plan

    solve_dependencies_by_plan()

    async def real() -> str:
        return "real"

    async def fake() -> str:
        return "fake"

    app = FastAPI()

    @app.get("/")
    async def handler(value: str = Depends(real)) -> str:
        return value

    with TestClient(app) as client:
        assert client.get("/").json() == "real"
        app.dependency_overrides[real] = fake
        assert client.get("/").json() == "fake"


def test_installing_the_solver_twice_keeps_one_layer():
    import fastapi.routing as fastapi_routing

    from app.core.routing import solve_dependencies_by_plan

    create_app()
    before = fastapi_routing.solve_dependencies
    assert before.__wrapped__.__name__ == "solve_dependencies"
    solve_dependencies_by_plan()
    assert fastapi_routing.solve_dependencies is before


def test_the_response_a_handler_sets_starts_as_fastapis_own():
    """`solve_dependencies` by plan makes the response the dependencies and the handler set a
    status, headers and cookies on without Starlette's constructor: it starts as FastAPI's own
    (a `Response()` with its content-length deleted and no status) and takes the same
    changes the same way."""
    from starlette.responses import Response

    from app.core.routing import _SubResponse

    theirs = Response()
    del theirs.headers["content-length"]
    theirs.status_code = None  # type: ignore[assignment]
    ours = _SubResponse()
    names = ("status_code", "background", "body", "raw_headers", "media_type", "charset")
    assert [getattr(ours, n) for n in names] == [getattr(theirs, n) for n in names]
    for response in (theirs, ours):
        response.headers["ETag"] = '"3"'
        response.set_cookie("seen", "yes", httponly=True)
        response.status_code = 201
    assert [getattr(ours, n) for n in names] == [getattr(theirs, n) for n in names]
    assert ours.headers["etag"] == '"3"'
