"""The real app plus one bench-only route: the same 50-item page built without a database.

That route is the floor the list endpoints are measured against (validation, serialization,
middleware and the event loop, but no database and no authentication).
"""

import uuid
from datetime import UTC, datetime

from fastapi import Request

from app.core.pagination import Page
from app.main import create_app
from app.users.models import Role
from app.users.schemas import UserPublic

app = create_app()

_NOW = datetime.now(UTC)
_ROWS = [
    {
        "id": uuid.uuid4(),
        "email": f"teacher{i}@example.org",
        "given_name": f"Given{i}",
        "family_name": f"Family{i:04d}",
        "role": Role.teacher,
        "school_ids": [uuid.uuid4()],
        "sourced_id": None,
        "is_active": True,
        "created_at": _NOW,
        "updated_at": _NOW,
    }
    for i in range(50)
]


@app.get("/bench/floor", include_in_schema=False)
async def floor(request: Request) -> Page[UserPublic]:
    items = [UserPublic(**row) for row in _ROWS]
    return Page(items=items, total=500, total_exact=True, limit=50, offset=0, next=str(request.url))
