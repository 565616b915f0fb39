"""The OpenAPI document: how the app describes itself (operation ids, the integration-key scheme,
problem documents for every error, models read off the event loop), and its rendering for the
committed `openapi/openapi.json` (the CLI and the staleness test use the same function)."""

import json
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from app.auth.deps import (
    KEY_SCHEME,
    KEY_SCHEME_NAME,
    STAFF_SCHEME_NAME,
    admits_keys,
    oauth2_scheme,
)
from app.core.config import Settings
from app.core.errors import error_responses
from app.core.schemas import DOCUMENTED


def operation_id(route: APIRoute) -> str:
    # Stable, readable ids for generated clients: the handler's name (unique across the app).
    return route.name


def _marks(dependant: Dependant) -> list[bool]:
    """Whether each authenticating check (`require`) in the dependency tree admits keys."""
    mark = admits_keys(dependant.call)
    if mark is not None:
        return [mark]
    return [m for d in dependant.dependencies for m in _marks(d)]


def _document_schemes(app: FastAPI, schema: dict[str, Any]) -> None:
    """Staff tokens and integration keys travel in the same header and the checks read it
    themselves, so no dependency declares a scheme (app/auth/deps.py): name the login scheme on
    each operation with a check, and the key scheme after it where no check turns keys away."""
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[STAFF_SCHEME_NAME] = oauth2_scheme.model.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    schemes[KEY_SCHEME_NAME] = KEY_SCHEME
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        found = _marks(route.dependant)
        if not found:
            continue
        names = [STAFF_SCHEME_NAME]
        if True in found and False not in found:
            names.append(KEY_SCHEME_NAME)
        for method in route.methods or ():
            op = schema["paths"][route.path_format][method.lower()]
            op["security"] = [{name: []} for name in names]


def _document_sso_schemes(schema: dict[str, Any], settings: Settings, api_prefix: str) -> None:
    """Each configured single sign-on provider as an OAuth 2.0 authorization-code scheme, so
    the docs' Authorize button signs in through it (PKCE; the same access token). Operations
    that take a staff token accept one got this way."""
    if not settings.oidc_providers:
        return
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    names = []
    for name, provider in sorted(settings.oidc_providers.items()):
        scheme = f"SSO-{name}"
        names.append(scheme)
        schemes[scheme] = {
            "type": "oauth2",
            "description": f"Sign in with {provider.display_name}",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{api_prefix}/sso/{name}/authorize",
                    "tokenUrl": f"{api_prefix}/sso/token",
                    "scopes": {},
                }
            },
        }
    for item in schema["paths"].values():
        for op in item.values():
            security = op.get("security", [])
            if any(STAFF_SCHEME_NAME in entry for entry in security):
                security.extend({scheme: []} for scheme in names)


def install_openapi(app: FastAPI, api_prefix: str) -> None:
    """Errors are documented as problem documents only; every API route may answer 503 and
    422 (the input guard refuses NUL characters anywhere), and every route with a body 413 and
    415 (JSON not in UTF-8)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        _document_schemes(app, schema)
        _document_sso_schemes(schema, app.state.settings, api_prefix)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in DOCUMENTED:
            found = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(found.pop("$defs", {}))
            components[model.__name__] = found
        common = error_responses(413, 415, 422, 503)
        for path, item in schema["paths"].items():
            for op in item.values():
                responses = op.get("responses", {})
                extra = [422, 503] if path.startswith(api_prefix) else []
                if "requestBody" in op:
                    extra += [413, 415]  # the body limit and encoding apply before any route
                for status in extra:
                    responses.setdefault(
                        str(status),
                        {
                            "description": common[status]["description"],
                            "content": common[status]["content"],
                        },
                    )
                for status, resp in responses.items():
                    if status[0] in "45":
                        resp.get("content", {}).pop("application/json", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def render_openapi() -> str:
    from app.main import create_app

    # Fixed settings: the document must not depend on the machine that renders it.
    app = create_app(
        Settings(environment="development", database_url="sqlite:///unused.db", cors_origins=[])
    )
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
