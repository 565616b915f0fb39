import pytest

from app.users.models import Role
from tests.teams import approve_plan, form_team, post_observation


def make_team(client, world, factory, auth):
    """Teacher A's team with teacher A2 (both at school A); teacher A3 is at A but not on it."""
    world.teacher_a3 = factory.user(Role.teacher, [world.school_a], email="teacher.a3@example.org")
    return form_team(
        client,
        auth,
        world.teacher_a,
        world.teacher_a2,
        name="Reading circle",
        learning_target="Better guided reading",
    )


@pytest.fixture
def team(client, world, factory, auth):
    """Teacher A's team with teacher A2 (both at school A); teacher A3 is at A but not on it."""
    return make_team(client, world, factory, auth)


# Who may read a team's plan, calendar, progress and coverage: the team and the
# administrators of its members' schools; everyone else cannot tell it exists.
TEAM_READERS = [
    ("anonymous", 401),
    ("member", 200),
    ("same_school_teacher", 404),
    ("outside_teacher", 404),
    ("school_admin", 200),
    ("other_school_admin", 404),
    ("district_admin", 200),
    ("read_key", 403),
]

TEAM_CALLERS = {
    "anonymous": None,
    "member": "teacher_a",
    "same_school_teacher": "teacher_a3",
    "outside_teacher": "teacher_b",
    "school_admin": "admin_a",
    "other_school_admin": "admin_b",
    "district_admin": "district_admin",
    "read_key": "read_key",
}


@pytest.fixture
def as_caller(world, auth):
    def headers(name):
        attr = TEAM_CALLERS[name]
        return auth(None if attr is None else getattr(world, attr))

    return headers


@pytest.fixture
def observation(client, team, world, auth):
    """Teacher A observes teacher A2 on 1 December, the team's plan approved (observations are
    held only after that)."""
    approve_plan(client, auth, team["id"], world.teacher_a, world.admin_a)
    return post_observation(client, auth, world, team, "2026-12-01")
