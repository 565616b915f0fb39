"""Concurrent edits of one record: If-Match and state transitions hold under real parallelism.

The requests of each trial run at the same time on one event loop, each with its own database
connection, so on PostgreSQL their transactions interleave (read, check, write) exactly as two
members saving the same form do. Exactly one may win; the other is told the record changed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from app.main import create_app
from app.plans.models import ActionPlan
from tests.teams import observations_before_approval, post_observation

TRIALS = 8


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


def race(
    settings,
    requests: Callable[[httpx.AsyncClient, int], list[Any]],
    check: Callable[[int, list[httpx.Response]], None],
    trials: int = TRIALS,
) -> None:
    """Run `trials` trials: each gathers the requests `requests(client, trial)` makes, then
    `check(trial, responses)` looks at the answers and what was stored."""
    app = create_app(settings)

    async def run() -> None:
        async with _client(app) as c:
            for trial in range(trials):
                check(trial, await asyncio.gather(*requests(c, trial)))
        await app.state.db.dispose()

    asyncio.run(run())


@pytest.fixture
def team(client, world, factory, auth):
    from tests.coaching.conftest import make_team

    return make_team(client, world, factory, auth)


def test_two_saves_of_a_plan_with_the_same_if_match(settings, client, team, world, auth):
    url = f"/api/v1/teams/{team['id']}/plan"
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        tag = client.get(url, headers=a).headers["etag"]
        return [
            c.patch(url, headers={**h, "If-Match": tag}, json={"focus_goal": f"{who} {trial}"})
            for who, h in (("a", a), ("a2", a2))
        ]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        assert sorted(r.status_code for r in answers) == [200, 412], trial
        winner = next(r for r in answers if r.status_code == 200)
        stored = client.get(url, headers=a)
        assert stored.json()["focus_goal"] == winner.json()["focus_goal"]
        assert stored.headers["etag"] == winner.headers["etag"]

    race(settings, requests, check)


def test_two_saves_of_an_observation_record_with_the_same_if_match(
    settings, client, team, world, auth
):
    event = post_observation(client, auth, world, team, "2026-10-01")
    observations_before_approval(client, auth, world.district_admin)
    url = f"/api/v1/events/{event['id']}/observation-record"
    h = auth(world.teacher_a)  # the observer, in two browser tabs
    assert client.post(url, headers=h, json={"affirmations": ["first"]}).status_code == 201

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        tag = client.get(url, headers=h).headers["etag"]
        return [
            c.patch(url, headers={**h, "If-Match": tag}, json={"evidence": f"tab {tab} {trial}"})
            for tab in (1, 2)
        ]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        assert sorted(r.status_code for r in answers) == [200, 412], trial
        winner = next(r for r in answers if r.status_code == 200)
        assert client.get(url, headers=h).json()["evidence"] == winner.json()["evidence"]

    race(settings, requests, check)


def test_two_first_records_of_one_observation_store_one(settings, client, team, world, auth):
    """The observer saves the first record in two tabs at once: one is stored and answered 201,
    the other is told a record exists (409), never a 500 or two records."""
    observations_before_approval(client, auth, world.district_admin)
    h = auth(world.teacher_a)
    days = [f"2026-11-{day:02d}" for day in range(1, TRIALS + 1)]
    events = [post_observation(client, auth, world, team, day) for day in days]

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        url = f"/api/v1/events/{events[trial]['id']}/observation-record"
        return [c.post(url, headers=h, json={"evidence": f"tab {tab}"}) for tab in (1, 2)]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        assert sorted(r.status_code for r in answers) == [201, 409], (trial, answers)
        winner = next(r for r in answers if r.status_code == 201)
        url = f"/api/v1/events/{events[trial]['id']}/observation-record"
        stored = client.get(url, headers=h)
        assert stored.json() == winner.json()
        assert stored.headers["etag"] == winner.headers["etag"]
        event = client.get(f"/api/v1/events/{events[trial]['id']}", headers=h).json()
        assert event["status"] == "held"

    race(settings, requests, check)


def test_a_record_and_a_cancellation_of_one_observation_do_not_both_succeed(
    settings, client, team, world, auth
):
    """Writing the record holds the observation; cancelling it at the same moment must not
    leave a cancelled observation with a record, or a held one marked cancelled: one of the two
    succeeds, the other is refused, and the event says which happened."""
    observations_before_approval(client, auth, world.district_admin)
    h = auth(world.teacher_a)
    days = [f"2026-11-{day:02d}" for day in range(1, TRIALS + 1)]
    events = [post_observation(client, auth, world, team, day) for day in days]

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        event = events[trial]
        url = f"/api/v1/events/{event['id']}"
        tag = client.get(url, headers=h).headers["etag"]
        return [
            c.post(f"{url}/observation-record", headers=h, json={"evidence": "seen"}),
            c.post(f"{url}/cancel", headers={**h, "If-Match": tag}, json={"reason": "ill"}),
        ]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        recorded, cancelled = (r.status_code for r in answers)
        assert (recorded, cancelled) in ((201, 412), (201, 409), (409, 200)), (trial, answers)
        url = f"/api/v1/events/{events[trial]['id']}"
        event = client.get(url, headers=h).json()
        record = client.get(f"{url}/observation-record", headers=h)
        if recorded == 201:
            assert event["status"] == "held", trial
            assert record.status_code == 200, trial
        else:
            assert event["status"] == "cancelled", trial
            assert record.status_code == 404, trial

    race(settings, requests, check)


def test_parallel_bookings_of_the_same_people_at_one_time_store_one(
    settings, client, team, world, auth
):
    """Four members' tabs schedule the team at the same hour at once (the participants listed
    in different orders): one is stored, the others are told of the clash (409), and no two
    bookings wait on each other crosswise."""
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    ids = [str(world.teacher_a.id), str(world.teacher_a2.id)]

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        hour = f"2026-10-{trial + 5:02d}T15:00:00Z", f"2026-10-{trial + 5:02d}T16:00:00Z"
        return [
            c.post(
                "/api/v1/events",
                headers=h,
                json={
                    "team_id": team["id"],
                    "kind": "other",
                    "title": f"Planning {n}",
                    "starts_at": hour[0],
                    "ends_at": hour[1],
                    "participant_ids": ids if n % 2 else ids[::-1],
                },
            )
            for n, h in enumerate((a, a2, a, a2))
        ]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        assert sorted(r.status_code for r in answers) == [201, 409, 409, 409], (trial, answers)
        day = f"2026-10-{trial + 5:02d}"
        listed = client.get(
            "/api/v1/events",
            headers=a,
            params={"team_id": team["id"], "from": f"{day}T00:00:00Z", "to": f"{day}T23:59:00Z"},
        ).json()["items"]
        winner = next(r for r in answers if r.status_code == 201).json()
        assert [e["id"] for e in listed] == [winner["id"]], trial

    race(settings, requests, check)


def test_two_saves_of_a_conference_record_and_an_event(settings, client, team, world, auth):
    a, a2 = auth(world.teacher_a), auth(world.teacher_a2)
    event = client.post(
        "/api/v1/events",
        headers=a,
        json={
            "team_id": team["id"],
            "kind": "pre_conference",
            "starts_at": "2026-09-01T15:00:00Z",
            "ends_at": "2026-09-01T16:00:00Z",
        },
    ).json()
    record_url = f"/api/v1/events/{event['id']}/conference-record"
    event_url = f"/api/v1/events/{event['id']}"
    assert (
        client.put(
            record_url, headers={**a, "If-Match": "*"}, json={"summary": "start"}
        ).status_code
        == 201
    )

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        record_tag = client.get(record_url, headers=a).headers["etag"]
        event_tag = client.get(event_url, headers=a).headers["etag"]
        return [
            c.put(record_url, headers={**a, "If-Match": record_tag}, json={"summary": "a"}),
            c.put(record_url, headers={**a2, "If-Match": record_tag}, json={"summary": "a2"}),
            c.patch(event_url, headers={**a, "If-Match": event_tag}, json={"title": "a"}),
            c.patch(event_url, headers={**a2, "If-Match": event_tag}, json={"title": "a2"}),
        ]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        codes = [r.status_code for r in answers]
        assert sorted(codes[:2]) == [200, 412], (trial, codes)
        assert sorted(codes[2:]) == [200, 412], (trial, codes)
        winner = next(r for r in answers[:2] if r.status_code == 200)
        assert client.get(record_url, headers=a).json()["summary"] == winner.json()["summary"]

    race(settings, requests, check)


def test_two_edits_of_a_reflection_with_the_same_if_match(settings, client, world, auth):
    h = auth(world.teacher_a)
    post = client.post("/api/v1/reflections", headers=h, json={"title": "T", "body": "b"}).json()
    url = f"/api/v1/reflections/{post['id']}"

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        tag = client.get(url, headers=h).headers["etag"]
        return [
            c.patch(url, headers={**h, "If-Match": tag}, json={"body": f"{tab} {trial}"})
            for tab in (1, 2)
        ]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        assert sorted(r.status_code for r in answers) == [200, 412], trial

    race(settings, requests, check)


def test_a_submitted_plan_is_either_approved_or_returned_never_both(
    settings, client, sync_engine, team, world, auth
):
    moves = f"/api/v1/teams/{team['id']}/plan/transitions"
    h = auth(world.teacher_a)

    def requests(c: httpx.AsyncClient, trial: int) -> list[Any]:
        # Each trial starts from a submitted plan (an approved one cannot go back by the API).
        with sync_engine.begin() as conn:
            conn.execute(
                update(ActionPlan)
                .where(ActionPlan.team_id == uuid.UUID(team["id"]))
                .values(status="draft", version=ActionPlan.version + 1)
            )
        assert (
            client.post(
                moves, headers={**h, "If-Match": "*"}, json={"action": "submit"}
            ).status_code
            == 200
        )
        return [
            c.post(
                moves, headers={**auth(world.admin_a), "If-Match": "*"}, json={"action": "approve"}
            ),
            c.post(
                moves,
                headers={**auth(world.district_admin), "If-Match": "*"},
                json={"action": "return", "comment": "please add dates"},
            ),
        ]

    def check(trial: int, answers: list[httpx.Response]) -> None:
        approve, ret = answers
        assert sorted([approve.status_code, ret.status_code]) == [200, 409], trial
        history = client.get(f"{moves}?limit=200", headers=h).json()["items"]
        assert history[-2]["to_status"] == "submitted"  # one decision per submission
        assert history[-1]["to_status"] == (
            "approved" if approve.status_code == 200 else "returned"
        )

    race(settings, requests, check)


def test_parallel_coverage_requests_store_one_and_decisions_do_not_overlap(
    settings, client, team, world, auth
):
    a = auth(world.teacher_a)

    def observation(trial: int) -> str:
        return str(post_observation(client, auth, world, team, f"2030-11-{trial + 2:02d}")["id"])

    def ask(c: httpx.AsyncClient, trial: int) -> list[Any]:
        event_id = observation(trial)
        return [
            c.post("/api/v1/coverage-requests", headers=a, json={"event_id": event_id})
            for _ in range(3)
        ]

    asked: list[str] = []

    def check_asked(trial: int, answers: list[httpx.Response]) -> None:
        assert sorted(r.status_code for r in answers) == [201, 409, 409], trial
        asked.append(next(r for r in answers if r.status_code == 201).json()["id"])

    race(settings, ask, check_asked)
    listed = client.get("/api/v1/coverage-requests?limit=200", headers=a).json()
    assert listed["total"] == TRIALS

    def decide(c: httpx.AsyncClient, trial: int) -> list[Any]:
        url = f"/api/v1/coverage-requests/{asked[trial]}"
        return [
            c.post(f"{url}/arrange", headers=auth(world.admin_a), json={"covered_by": "Sub"}),
            c.post(f"{url}/decline", headers=auth(world.district_admin), json={"reason": "No"}),
            c.post(f"{url}/cancel", headers={**a, "If-Match": "*"}),
        ]

    def check_decided(trial: int, answers: list[httpx.Response]) -> None:
        codes = [r.status_code for r in answers]
        decided = codes[:2].count(200)
        assert decided <= 1, (trial, codes)
        assert codes[:2].count(409) == 2 - decided, (trial, codes)
        stored = client.get(f"/api/v1/coverage-requests/{asked[trial]}", headers=a).json()
        if codes[2] == 200:  # withdrawn: before any decision, or after an arrangement
            assert stored["status"] == "cancelled"
            assert decided == 0 or codes[0] == 200, (trial, codes)
        else:  # the teacher was too late: a decision came first
            assert decided == 1, (trial, codes)
            assert stored["status"] in ("arranged", "declined"), (trial, codes)

    race(settings, decide, check_decided)


def test_parallel_removals_keep_two_teachers_and_parallel_consents_both_count(
    settings, client, team, world, factory, auth
):
    from app.users.models import Role
    from tests.teams import accept_invitations

    a = auth(world.teacher_a)
    members = f"/api/v1/teams/{team['id']}/members"
    third = world.teacher_a3

    def join(person) -> None:
        r = client.post(
            f"/api/v1/teams/{team['id']}/invitations", headers=a, json={"user_id": str(person.id)}
        )
        assert r.status_code == 201, r.text
        accept_invitations(client, auth, team["id"], person)

    join(third)

    def consents(c: httpx.AsyncClient, trial: int) -> list[Any]:
        url = f"{members}/{third.id}/history-consent"
        return [c.post(url, headers=auth(who)) for who in (world.teacher_a, world.teacher_a2)]

    def opened(trial: int, answers: list[httpx.Response]) -> None:
        assert [r.status_code for r in answers] == [200, 200]
        team_now = client.get(f"/api/v1/teams/{team['id']}", headers=a).json()
        newcomer = next(m for m in team_now["members"] if m["id"] == str(third.id))
        assert newcomer["sees_earlier_records"] is True  # neither consent missed the other

    race(settings, consents, opened, trials=1)  # once: a newcomer's history opens once

    extra = []

    def removals(c: httpx.AsyncClient, trial: int) -> list[Any]:
        # Three teachers again, then two leave at once: one must be told the team keeps two.
        if trial:
            extra.append(factory.user(Role.teacher, [world.school_a]))
            join(extra[-1])
        team_now = client.get(f"/api/v1/teams/{team['id']}", headers=a).json()
        leaving = [m["id"] for m in team_now["members"] if m["id"] != str(world.teacher_a.id)]
        assert len(leaving) == 2
        return [c.delete(f"{members}/{uid}", headers={**a, "If-Match": "*"}) for uid in leaving]

    def kept_two(trial: int, answers: list[httpx.Response]) -> None:
        assert sorted(r.status_code for r in answers) == [204, 409], trial
        team_now = client.get(f"/api/v1/teams/{team['id']}", headers=a).json()
        assert len(team_now["members"]) == 2

    race(settings, removals, kept_two)
