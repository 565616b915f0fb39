"""The shape a newcomer can rely on: every package that owns tables the API serves has its
rules in `policies.py` and its access dependencies in `deps.py`."""

from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
# Packages whose tables are not resources of the API: the login throttle.
# Infrastructure with tables but no API of its own: sign-in; the email outbox.
NOT_RESOURCES = {"auth", "mail"}


def test_every_resource_package_has_policies_and_deps():
    missing = []
    for models in sorted(APP.glob("*/models.py")):
        package = models.parent
        if package.name in NOT_RESOURCES:
            continue
        for name in ("policies.py", "deps.py", "router.py", "service.py", "schemas.py"):
            if not (package / name).exists():
                missing.append(f"{package.name}/{name}")
    assert missing == []


def test_routers_never_raise_not_found_themselves():
    """A router does not decide who may see a record: 404s come from deps and services."""
    offenders = [
        str(router.relative_to(APP))
        for router in APP.glob("*/router.py")
        if "raise NotFound(" in router.read_text()
        and router.parent.name not in {"records"}  # "no record written yet" for a visible event
    ]
    assert offenders == []


def test_no_read_opens_a_session():
    """Every GET reads through the read interface (core/reads.py), never a request session;
    tests/test_route_matrix.py checks that no statement ran on one either."""
    from fastapi.routing import APIRoute, iter_route_contexts

    from app.core.deps import get_session
    from app.main import create_app

    def uses_session(dependant) -> bool:
        return any(d.call is get_session or uses_session(d) for d in dependant.dependencies)

    offenders = [
        ctx.path
        for ctx in iter_route_contexts(create_app().routes)
        if isinstance(ctx.original_route, APIRoute)
        and "GET" in (ctx.original_route.methods or ())
        and uses_session(ctx.original_route.dependant)
    ]
    assert offenders == []


def test_no_dependency_runs_in_a_worker_thread():
    """FastAPI runs a dependency written as a plain function (or a class) in a worker thread,
    a hop per request and a wait for a free thread under load: every one of ours is async."""
    from fastapi.dependencies.models import _is_async_gen_callable, _is_coroutine_callable
    from fastapi.routing import APIRoute, iter_route_contexts
    from fastapi.security import OAuth2PasswordRequestForm

    from app.main import create_app

    framework = {OAuth2PasswordRequestForm}  # the sign-in form, as FastAPI documents it

    def threaded(dependant) -> set[str]:
        found = set()
        for sub in dependant.dependencies:
            call = sub.call
            if call not in framework and not (
                _is_coroutine_callable(call) or _is_async_gen_callable(call)
            ):
                found.add(getattr(call, "__qualname__", repr(call)))
            found |= threaded(sub)
        return found

    offenders = set()
    for ctx in iter_route_contexts(create_app().routes):
        if isinstance(ctx.original_route, APIRoute):
            offenders |= threaded(ctx.original_route.dependant)
    assert offenders == set()
