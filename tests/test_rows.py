"""The one rule for changing an existing row (app/core/rows.py)."""

import pytest

from app.core import rows
from app.core.errors import Conflict
from app.events.models import Event
from app.teams.models import Team


def _event() -> Event:
    return Event(team_id=Team().id, kind="observation", title="x", created_by_id=None)


def test_a_change_advances_the_version_and_the_time() -> None:
    event = _event()
    before = event.updated_at
    rows.changed(event)
    assert event.version == 2
    assert event.updated_at >= before


def test_a_table_without_a_version_only_records_the_time() -> None:
    team = Team(name="t", school_year="2026-2027")
    rows.changed(team)
    assert not hasattr(team, "version")


def test_soft_delete_and_restore_each_advance_the_version() -> None:
    event = _event()
    rows.soft_delete(event)
    assert event.deleted_at is not None
    assert event.version == 2
    rows.restore(event, "event")
    assert event.deleted_at is None
    assert event.version == 3


def test_restoring_what_is_not_deleted_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="The event is not deleted"):
        rows.restore(_event(), "event")
