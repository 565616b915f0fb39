import uuid

import pytest

from app.users.models import Role, User


def ids(body):
    return {u["id"] for u in body["items"]}


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 200),
        ("other_school_admin", 200),
        ("district_admin", 200),
        ("read_key", 200),
        ("roster_key", 403),
    ],
)
def test_list_users_by_caller(client, world, auth, caller, status):
    r = client.get("/api/v1/users", headers=auth(world.caller(caller)))
    assert r.status_code == status
    if status != 200:
        return
    everyone = ["district_admin", "admin_a", "admin_b", "teacher_a", "teacher_a2", "teacher_b"]
    expected = {
        "school_admin": ["admin_a", "teacher_a", "teacher_a2"],
        "other_school_admin": ["admin_b", "teacher_b"],
        "district_admin": everyone,
        "read_key": everyone,
    }[caller]
    assert ids(r.json()) == {str(getattr(world, name).id) for name in expected}
    assert r.json()["total"] == len(expected)


def test_filters_never_widen_access(client, world, auth):
    r = client.get(f"/api/v1/users?school_id={world.school_b.id}", headers=auth(world.admin_a))
    assert r.json()["items"] == []
    assert r.json()["total"] == 0
    r = client.get("/api/v1/users?role=teacher&q=teacher", headers=auth(world.admin_a))
    assert ids(r.json()) == {str(world.teacher_a.id), str(world.teacher_a2.id)}


def test_listed_school_ids_are_sorted_as_in_the_single_record(client, world, factory, auth):
    schools = [world.school_a, world.school_b, *(factory.school() for _ in range(4))]
    many = factory.user(schools=schools, family_name="Aardvark")
    none = factory.user(schools=[], family_name="Aaberg")
    h = auth(world.district_admin)
    listed = {u["id"]: u for u in client.get("/api/v1/users?limit=200", headers=h).json()["items"]}
    expected = sorted(str(s.id) for s in schools)
    assert listed[str(many.id)]["school_ids"] == expected
    assert client.get(f"/api/v1/users/{many.id}", headers=h).json()["school_ids"] == expected
    assert listed[str(none.id)]["school_ids"] == []
    # Filtered by one of the schools: the user still shows all of them.
    r = client.get(f"/api/v1/users?school_id={schools[3].id}", headers=h).json()
    assert [u["school_ids"] for u in r["items"]] == [expected]


def test_search_and_filters_combine(client, world, factory, auth):
    a = world.school_a
    o_brien = factory.user(schools=[a], given_name="Siobhan", family_name="O'Brien_Smith")
    percent = factory.user(schools=[a], family_name="Hundred%Percent", email="pct@example.org")
    retired = factory.user(schools=[a], family_name="Obrienne", is_active=False)
    factory.user(schools=[world.school_b], family_name="O'Brien_Smith")  # another school

    def found(query: str, caller=world.admin_a) -> set[str]:
        r = client.get(f"/api/v1/users?{query}", headers=auth(caller))
        assert r.status_code == 200, r.text
        assert r.json()["total"] == len(r.json()["items"])
        return ids(r.json())

    assert found("q=BRIEN_") == {str(o_brien.id)}  # any case; "_" is literal
    assert found("q=n_s") == {str(o_brien.id)}
    assert found("q=d%25p") == {str(percent.id)}  # "%" is literal
    assert found("q=PCT@") == {str(percent.id)}  # email too
    assert found("q=obrien") == {str(retired.id)}
    assert found("q=obrien&is_active=true") == set()
    assert found(f"q=brien&is_active=false&role=teacher&school_id={a.id}") == {str(retired.id)}
    assert found("q=brien&role=school_admin") == set()
    both = found("q=brien_", caller=world.district_admin)
    assert len(both) == 2
    assert str(o_brien.id) in both


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("other_teacher", 403),
        ("school_admin", 200),
        ("other_school_admin", 404),
        ("district_admin", 200),
        ("read_key", 200),
        ("roster_key", 403),
    ],
)
def test_get_user_by_caller(client, world, auth, caller, status):
    r = client.get(f"/api/v1/users/{world.teacher_a.id}", headers=auth(world.caller(caller)))
    assert r.status_code == status
    if status == 200:
        assert r.json()["email"] == "teacher.a@example.org"
        assert r.json()["school_ids"] == [str(world.school_a.id)]
    if status == 404:  # indistinguishable from a user that does not exist
        missing = client.get(f"/api/v1/users/{uuid.uuid4()}", headers=auth(world.caller(caller)))
        assert missing.status_code == 404
        assert {k: v for k, v in r.json().items() if k not in ("instance", "request_id")} == {
            k: v for k, v in missing.json().items() if k not in ("instance", "request_id")
        }


def new_user(world, **over):
    body = {
        "email": "New.Teacher@Example.org",
        "given_name": "New",
        "family_name": "Teacher",
        "role": "teacher",
        "school_ids": [str(world.school_a.id)],
    }
    body.update(over)
    return body


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("school_admin", 201),
        ("other_school_admin", 403),
        ("district_admin", 201),
        ("read_key", 403),
        ("roster_key", 403),
    ],
)
def test_create_user_by_caller(client, world, auth, sync_engine, caller, status):
    r = client.post("/api/v1/users", headers=auth(world.caller(caller)), json=new_user(world))
    assert r.status_code == status, r.text
    from sqlmodel import Session, select

    with Session(sync_engine) as s:
        created = s.exec(select(User).where(User.email == "new.teacher@example.org")).first()
    assert (created is not None) == (status == 201)
    if status == 201:
        assert r.json()["email"] == "new.teacher@example.org"
        assert r.json()["school_ids"] == [str(world.school_a.id)]
        assert created.password_hash is None


def test_school_admin_cannot_escalate(client, world, auth):
    h = auth(world.admin_a)
    assert (
        client.post(
            "/api/v1/users", headers=h, json=new_user(world, role="district_admin")
        ).status_code
        == 403
    )
    assert (
        client.post("/api/v1/users", headers=h, json=new_user(world, school_ids=[])).status_code
        == 403
    )
    both = [str(world.school_a.id), str(world.school_b.id)]
    assert (
        client.post("/api/v1/users", headers=h, json=new_user(world, school_ids=both)).status_code
        == 403
    )
    r = client.patch(
        f"/api/v1/users/{world.teacher_a.id}", headers=h, json={"role": "district_admin"}
    )
    assert r.status_code == 403
    r = client.patch(
        f"/api/v1/users/{world.teacher_a.id}",
        headers=h,
        json={"school_ids": [str(world.school_a.id), str(world.school_b.id)]},
    )
    assert r.status_code == 403
    # a district admin is not theirs to edit, and is invisible to them
    r = client.patch(
        f"/api/v1/users/{world.district_admin.id}", headers=h, json={"given_name": "X"}
    )
    assert r.status_code == 404
    # and a body cannot smuggle fields in
    r = client.post("/api/v1/users", headers=h, json=new_user(world, id=str(uuid.uuid4())))
    assert r.status_code == 422


def test_create_user_conflicts_and_bad_input(client, world, auth):
    h = auth(world.district_admin)
    r = client.post("/api/v1/users", headers=h, json=new_user(world, email="TEACHER.A@example.org"))
    assert r.status_code == 409
    r = client.post("/api/v1/users", headers=h, json=new_user(world, email="not-an-email"))
    assert r.status_code == 422
    r = client.post(
        "/api/v1/users", headers=h, json=new_user(world, school_ids=[str(uuid.uuid4())])
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["type"] == "unknown_school"
    r = client.post("/api/v1/users", headers=h, json=new_user(world, role="principal"))
    assert r.status_code == 422
    r = client.post("/api/v1/users", headers=h, json=new_user(world, given_name="x" * 101))
    assert r.status_code == 422
    r = client.post("/api/v1/users", headers=h, json=new_user(world, sourced_id="T-1"))
    assert r.status_code == 201
    r = client.post(
        "/api/v1/users",
        headers=h,
        json=new_user(world, email="other@example.org", sourced_id="T-1"),
    )
    assert r.status_code == 409
    assert client.get("/api/v1/users", headers=h).json()["total"] == 7


@pytest.mark.parametrize(
    ("caller", "status"),
    [
        ("anonymous", 401),
        ("teacher", 403),
        ("other_teacher", 403),
        ("school_admin", 200),
        ("other_school_admin", 404),
        ("district_admin", 200),
        ("read_key", 403),
        ("roster_key", 403),
    ],
)
def test_update_user_by_caller(client, world, auth, caller, status):
    r = client.patch(
        f"/api/v1/users/{world.teacher_a2.id}",
        headers=auth(world.caller(caller)),
        json={"family_name": "Renamed"},
    )
    assert r.status_code == status
    got = client.get(
        f"/api/v1/users/{world.teacher_a2.id}", headers=auth(world.district_admin)
    ).json()
    assert (got["family_name"] == "Renamed") == (status == 200)


def test_memberships_are_replaced(client, world, auth):
    h = auth(world.district_admin)
    r = client.patch(
        f"/api/v1/users/{world.teacher_a.id}",
        headers=h,
        json={"school_ids": [str(world.school_b.id)]},
    )
    assert r.status_code == 200
    assert r.json()["school_ids"] == [str(world.school_b.id)]
    # now the user is admin B's, not admin A's
    assert (
        client.get(f"/api/v1/users/{world.teacher_a.id}", headers=auth(world.admin_a)).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/users/{world.teacher_a.id}", headers=auth(world.admin_b)).status_code
        == 200
    )


def test_admins_cannot_lock_themselves_out(client, world, auth):
    h = auth(world.district_admin)
    r = client.patch(
        f"/api/v1/users/{world.district_admin.id}", headers=h, json={"is_active": False}
    )
    assert r.status_code == 409
    r = client.patch(
        f"/api/v1/users/{world.district_admin.id}", headers=h, json={"role": "teacher"}
    )
    assert r.status_code == 409


def test_null_for_required_field_is_422(client, world, auth):
    r = client.patch(
        f"/api/v1/users/{world.teacher_a.id}",
        headers=auth(world.district_admin),
        json={"email": None},
    )
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        ("teacher", {"admin_a", "teacher_a", "teacher_a2"}),
        ("other_teacher", {"admin_b", "teacher_b"}),
        ("school_admin", {"admin_a", "teacher_a", "teacher_a2"}),
        (
            "district_admin",
            {"district_admin", "admin_a", "admin_b", "teacher_a", "teacher_a2", "teacher_b"},
        ),
    ],
)
def test_colleagues_share_a_school(client, world, auth, caller, expected):
    r = client.get("/api/v1/colleagues", headers=auth(world.caller(caller)))
    assert r.status_code == 200
    assert ids(r.json()) == {str(getattr(world, name).id) for name in expected}
    assert set(r.json()["items"][0]) == {"id", "given_name", "family_name"}  # names and ids only


def test_colleagues_hide_inactive_staff_and_other_schools(client, world, factory, auth):
    factory.user(schools=[world.school_a], is_active=False)
    r = client.get(
        f"/api/v1/colleagues?school_id={world.school_b.id}", headers=auth(world.teacher_a)
    )
    assert r.json()["total"] == 0
    r = client.get("/api/v1/colleagues", headers=auth(world.teacher_a))
    assert r.json()["total"] == 3


def test_a_one_school_callers_colleagues_skip_the_deduplication_across_schools(
    client, world, factory, auth
):
    """Only a caller of several schools can meet one person twice among their schools'
    entries: a teacher of one school reads that school's entries alone (no anti-join per row:
    on PostgreSQL it hashed the school's whole staff for the capped count), one of two reads
    each person once."""
    from app.auth.principal import SchoolReach
    from app.users import service as users

    def statement(several: bool) -> str:
        query = users._list_query(
            SchoolReach.schools, True, False, False, True, False, several_schools=several
        )
        return str(query.page.compile())

    assert "NOT (EXISTS" not in statement(False)
    assert "NOT (EXISTS" in statement(True)
    both = factory.user(Role.teacher, [world.school_a, world.school_b])
    one = client.get("/api/v1/colleagues?limit=200", headers=auth(world.teacher_a)).json()
    two = client.get("/api/v1/colleagues?limit=200", headers=auth(both)).json()
    assert [p["id"] for p in one["items"]].count(str(both.id)) == 1
    listed = [p["id"] for p in two["items"]]
    assert len(listed) == len(set(listed)) == two["total"]
    assert {p["id"] for p in one["items"]} < set(listed)


def names(page) -> list[str]:
    return [f"{p['family_name']}, {p['given_name']}" for p in page["items"]]


def test_colleagues_follow_every_change_of_staff_and_schools(client, world, factory, auth):
    """Colleagues are read from the staff directory the database keeps (migration 0015): a
    new person, a new name, a deactivation and a move between schools show at once."""
    h, admin = auth(world.teacher_a), auth(world.district_admin)
    r = client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": "zoe@example.org", "given_name": "Zoe", "family_name": "Aaron",
              "role": "teacher", "school_ids": [str(world.school_a.id)]},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    zoe = r.json()["id"]
    assert names(client.get("/api/v1/colleagues", headers=h).json())[0] == "Aaron, Zoe"
    url = f"/api/v1/users/{zoe}"
    r = client.patch(url, headers={**admin, "If-Match": "*"}, json={"family_name": "Zyx"})
    assert r.status_code == 200, r.text
    assert names(client.get("/api/v1/colleagues", headers=h).json())[-1] == "Zyx, Zoe"
    moved = client.patch(
        url, headers={**admin, "If-Match": "*"}, json={"school_ids": [str(world.school_b.id)]}
    )
    assert moved.status_code == 200, moved.text
    assert zoe not in ids(client.get("/api/v1/colleagues", headers=h).json())
    assert zoe in ids(client.get("/api/v1/colleagues", headers=auth(world.teacher_b)).json())
    client.patch(url, headers={**admin, "If-Match": "*"}, json={"is_active": False})
    assert zoe not in ids(client.get("/api/v1/colleagues", headers=auth(world.teacher_b)).json())


def test_a_colleague_at_two_of_your_schools_is_listed_once(client, world, factory, auth):
    both = factory.user(Role.teacher, [world.school_a, world.school_b], family_name="Both")
    only_b = factory.user(Role.teacher, [world.school_b], family_name="OnlyB")
    me = factory.user(Role.teacher, [world.school_a, world.school_b])
    h = auth(me)
    listed = client.get("/api/v1/colleagues?limit=200", headers=h).json()
    assert [i["id"] for i in listed["items"]].count(str(both.id)) == 1
    assert listed["total"] == len(listed["items"]) == len(ids(listed))
    assert {str(both.id), str(only_b.id), str(world.teacher_a.id)} <= ids(listed)
    assert names(listed) == sorted(names(listed), key=lambda n: n.split(", "))
    # a school asked for: its members who share one of my schools, whichever they share first
    at_b = client.get(f"/api/v1/colleagues?school_id={world.school_b.id}", headers=h).json()
    assert {str(both.id), str(only_b.id)} <= ids(at_b)
    assert str(world.teacher_a.id) not in ids(at_b)
    # and a teacher of school A alone sees those of B only through A
    at_b_for_a = client.get(
        f"/api/v1/colleagues?school_id={world.school_b.id}", headers=auth(world.teacher_a)
    ).json()
    assert ids(at_b_for_a) == {str(both.id), str(me.id)}


def test_colleagues_anonymous_and_roster_key(client, world, auth):
    assert client.get("/api/v1/colleagues").status_code == 401
    assert client.get("/api/v1/colleagues", headers=auth(world.roster_key)).status_code == 403


def test_the_managed_check_in_sql_is_can_manage_user(world, factory, sync_engine):
    """`policies.managed` (the check a person's sign-in bindings are listed with) admits
    exactly the people `can_manage_user` admits among those the caller may know, for every
    kind of caller and person: a district administrator at a school, a teacher at two."""
    from app.users import policies, service
    from tests.coaching.test_confidential_rule import principal_of

    placed_district = factory.user(Role.district_admin, [world.school_a])
    both = factory.user(Role.teacher, [world.school_a, world.school_b])
    admin_both = factory.user(Role.school_admin, [world.school_a, world.school_b])
    people = [
        world.district_admin,
        placed_district,
        world.admin_a,
        world.admin_b,
        admin_both,
        world.teacher_a,
        world.teacher_b,
        both,
    ]
    schools = {
        world.district_admin.id: set(),
        placed_district.id: {world.school_a.id},
        world.admin_a.id: {world.school_a.id},
        world.admin_b.id: {world.school_b.id},
        admin_both.id: {world.school_a.id, world.school_b.id},
        world.teacher_a.id: {world.school_a.id},
        world.teacher_b.id: {world.school_b.id},
        both.id: {world.school_a.id, world.school_b.id},
    }
    kinds = set()
    for caller in people:
        p = principal_of(caller)
        p = type(p)(user=p.user, school_ids=frozenset(schools[caller.id]))
        kinds.add(policies.management(p))
        with sync_engine.connect() as conn:
            for person in people:
                check = service.managed_statement(p, person.id)
                in_sql = conn.execute(check.stmt, dict(check.values)).first() is not None
                view = service.one_statement(p, person.id)
                known = conn.execute(view.stmt, dict(view.values)).first() is not None
                rule = known and policies.can_manage_user(p, person.role, schools[person.id])
                assert in_sql == rule, (caller.email, person.email)
    assert kinds == set(policies.Management)


def test_a_persons_bindings_are_one_statement_and_refused_as_before(
    client, app, world, factory, auth, sync_engine
):
    """A person's sign-in bindings, listed by an administrator who manages them, are read in
    one statement with the check; one who sees but does not manage them (a district
    administrator placed at their school) reads 403, one who may not know them 404, whether
    the person has bindings or not."""
    from datetime import UTC, datetime

    from sqlmodel import Session

    from app.auth.models import SsoIdentity
    from tests.test_query_counts import counting

    placed_district = factory.user(Role.district_admin, [world.school_a])
    with Session(sync_engine) as s:
        for n, who in enumerate((world.teacher_a, placed_district)):
            s.add(SsoIdentity(provider="district", subject=f"sub-{n}", user_id=who.id,
                              bound_at=datetime.now(UTC)))  # fmt: skip
        s.commit()

    def url(who: User) -> str:
        return f"/api/v1/users/{who.id}/sso-identities"

    admin = auth(world.admin_a)
    client.get(url(world.teacher_a), headers=admin)  # warm
    with counting(app, cold=False) as read:
        listed = client.get(url(world.teacher_a), headers=admin)
    assert listed.status_code == 200, listed.text
    assert [b["subject"] for b in listed.json()["items"]] == ["sub-0"]
    read = [s for s in read if not s.startswith("SELECT user_account.id, user_account.email")]
    assert len(read) == 1, read
    for who in (placed_district, world.district_admin):  # sees one, not the other
        expected = 403 if who is placed_district else 404
        assert client.get(url(who), headers=admin).status_code == expected
    assert client.get(url(world.teacher_a), headers=auth(world.admin_b)).status_code == 404
    assert client.get(url(world.teacher_a2), headers=admin).json()["items"] == []
    district = client.get(url(placed_district), headers=auth(world.district_admin))
    assert [b["subject"] for b in district.json()["items"]] == ["sub-1"]
