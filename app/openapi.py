"""The committed OpenAPI document is rendered here, so the CLI and the staleness test agree."""

import json

from app.core.config import Settings


def render_openapi() -> str:
    from app.main import create_app

    # Fixed settings: the document must not depend on the machine that renders it.
    app = create_app(
        Settings(environment="development", database_url="sqlite:///unused.db", cors_origins=[])
    )
    return json.dumps(app.openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
