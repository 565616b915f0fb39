"""What a PATCH body's schema says about `null` is what the server does with it (the rule in
app/core/rows.py `patch`): a field whose column is NOT NULL is not nullable in the OpenAPI
document (a client generated from it never sends null there; if one does, 422), a nullable
column's field is (null clears it), and a JSON list's null is its empty list."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON

from app.core.db import table_of
from app.events.models import Event
from app.focus_areas.models import FocusArea
from app.notifications.models import NotificationSetting
from app.plans.models import ActionPlan
from app.program_rules.models import ProgramRules
from app.records.models import ObservationRecord
from app.reflections.models import Reflection
from app.resources.models import Resource
from app.school_years.models import SchoolYear
from app.schools.models import School
from app.teams.models import Team
from app.users.models import User

# Each PATCH body and the table its fields write (a field naming no column of it, such as a
# list of references, is decided by its service and left out here).
TABLES = {
    "ProfileUpdate": User,
    "UserUpdate": User,
    "SchoolUpdate": School,
    "FocusAreaUpdate": FocusArea,
    "ProgramRulesUpdate": ProgramRules,
    "SchoolYearUpdate": SchoolYear,
    "TeamUpdate": Team,
    "PlanUpdate": ActionPlan,
    "EventUpdate": Event,
    "ObservationRecordUpdate": ObservationRecord,
    "ReflectionUpdate": Reflection,
    "ResourceUpdate": Resource,
    "NotificationSettingsUpdate": NotificationSetting,  # {kind: email?}, one row per kind
}


def _patch_bodies(spec):
    for ops in spec["paths"].values():
        body = ops.get("patch", {}).get("requestBody", {}).get("content", {})
        ref = body.get("application/json", {}).get("schema", {}).get("$ref")
        if ref:
            yield ref.rsplit("/", 1)[1]


def _nullable(schema) -> bool:
    return any(s.get("type") == "null" for s in schema.get("anyOf", [])) or (
        schema.get("type") == "null"
    )


def test_every_patch_body_is_decided(app):
    bodies = set(_patch_bodies(app.openapi())) - {"CommentCreate"}  # a comment: replaced whole
    assert bodies == set(TABLES)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_patch_bodys_nulls_are_its_tables(app, name):
    schema = app.openapi()["components"]["schemas"][name]
    columns = table_of(TABLES[name]).c
    wrong = {}
    for field, spec in schema["properties"].items():
        column = columns.get(field)
        if column is None:
            continue
        allowed = column.nullable or isinstance(column.type, JSON)
        if _nullable(spec) != allowed:
            wrong[field] = f"schema nullable={_nullable(spec)}, column nullable={allowed}"
    assert wrong == {}


@pytest.mark.parametrize("field", ["observations_per_teacher", "observations_need_approved_plan"])
def test_null_for_a_field_that_cannot_be_null_is_a_422_not_a_500(client, world, auth, field):
    """A constraint on the value (1 to 10) never applies to the null: the null rule answers."""
    r = client.patch(
        "/api/v1/program-rules",
        headers={**auth(world.district_admin), "If-Match": "*"},
        json={field: None},
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"] == [
        {"field": f"body.{field}", "message": "cannot be null", "type": "null"}
    ]
