"""The app's startup objects are kept out of the garbage collector's full passes while it serves."""

import gc

from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app


def test_what_startup_made_is_frozen_while_serving_and_released_at_stop(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
        assert gc.get_freeze_count() > 0
        # The routes (and all they hold) are in the permanent generation: a full pass skips them.
        assert not any(o is app.router for o in gc.get_objects())
        made_while_serving = [object(), {}]
        assert any(o is made_while_serving for o in gc.get_objects())
    assert gc.get_freeze_count() == 0
