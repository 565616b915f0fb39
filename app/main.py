"""The application factory: routers, error handlers and middleware."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

import app.models
from app.audit.router import router as audit_router
from app.auth.principal_cache import PrincipalCache
from app.auth.router import router as auth_router
from app.auth.sso import Providers
from app.calendar_feeds.router import router as calendar_feeds_router
from app.core.config import Settings, get_settings
from app.core.db import Database
from app.core.errors import install_error_handlers
from app.core.heap import frozen_after_startup
from app.core.input_guard import InputGuardMiddleware
from app.core.journal import Journal
from app.core.lifecycle import Lifecycle
from app.core.logging import configure_logging
from app.core.middleware import ProblemCORSMiddleware, RequestContextMiddleware
from app.core.routing import (
    classify_dependencies_once,
    index_routes,
    read_parameters_by_plan,
    solve_dependencies_by_plan,
)
from app.core.security import HASHING
from app.core.telemetry import telemetry_config
from app.coverage.router import arrangements_router
from app.coverage.router import router as coverage_router
from app.events.router import router as events_router
from app.focus_areas.router import router as focus_areas_router
from app.growth.router import router as growth_router
from app.health.router import router as health_router
from app.health.service import Probe
from app.integration_keys.router import router as keys_router
from app.invitations.router import router as invitations_router
from app.learning_forms.router import router as learning_forms_router
from app.notifications.router import router as notifications_router
from app.openapi import install_openapi, operation_id
from app.plans.router import router as plans_router
from app.program_rules.router import router as program_rules_router
from app.progress.router import router as progress_router
from app.read_log.router import router as read_log_router
from app.records.router import router as records_router
from app.reflections.router import router as reflections_router
from app.reports.router import router as reports_router
from app.resources.router import router as resources_router
from app.rosters.router import router as rosters_router
from app.school_years.router import router as school_years_router
from app.schools.router import router as schools_router
from app.summary.router import router as summary_router
from app.support.router import router as support_router
from app.teams.router import invitations as team_invitations_router
from app.teams.router import router as teams_router
from app.users.router import router as users_router

API_PREFIX = "/api/v1"

DESCRIPTION = """
The API behind a school district's **peer coaching** program: teachers form coaching teams,
plan, observe each other and reflect; administrators review plans, arrange coverage and meet
teams at year end.

Sign in with `POST /api/v1/auth/token` (or the **Authorize** button) and send the token as
`Authorization: Bearer <token>`. District systems use integration keys the same way.
Every error is an RFC 9457 problem document (`application/problem+json`).
"""

TAGS = [
    {"name": "auth", "description": "Signing in and your own account"},
    {"name": "schools", "description": "The district's schools"},
    {"name": "users", "description": "Staff accounts, roles and school memberships"},
    {"name": "integration keys", "description": "Credentials for district systems"},
    {"name": "focus areas", "description": "The catalog of focus areas teams choose from"},
    {"name": "teams", "description": "Coaching teams: two or more teachers and their target"},
    {"name": "plans", "description": "Each team's action plan and its review by administrators"},
    {"name": "events", "description": "The calendar: conferences, observations, meetings"},
    {"name": "notifications", "description": "What each person is told, and what is emailed"},
    {
        "name": "calendar feeds",
        "description": "Secret iCalendar addresses for Google Calendar, Outlook and Apple Calendar",
    },
    {"name": "records", "description": "Observation and conference records: team members only"},
    {
        "name": "read log",
        "description": "Who read a team's confidential records: its members' own log",
    },
    {
        "name": "learning forms",
        "description": "Each teacher's own learning form for the cycle: team members only",
    },
    {"name": "reflections", "description": "The reflections blog: private, team or program posts"},
    {"name": "progress", "description": "Where each team is in the cycle (counts and statuses)"},
    {"name": "coverage", "description": "Substitute coverage for observation times"},
    {"name": "program rules", "description": "The program's rules a district edits"},
    {"name": "school years", "description": "School years and the program's dates in each"},
    {
        "name": "growth",
        "description": "The year-end meeting's growth record, read by the team's administrators",
    },
    {"name": "reports", "description": "Year-end growth reports for administrators"},
    {"name": "summary", "description": "The Peer Coaching Summary Form, as JSON or a document"},
    {"name": "resources", "description": "The library of peer coaching materials"},
    {"name": "support", "description": "Teachers ask administrators for direction and support"},
    {"name": "roster imports", "description": "Bulk staff imports from CSV or JSON"},
    {
        "name": "audit",
        "description": "Security-relevant actions, for district administrators; never content",
    },
    {"name": "health", "description": "Liveness and readiness probes"},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    HASHING.configure(settings.password_hash_concurrency, settings.password_hash_queue)
    db = Database(settings)
    lifecycle = Lifecycle()
    principals = PrincipalCache(ttl=settings.principal_cache_seconds)
    feed = principals.follow(db) if settings.principal_cache_seconds > 0 else None
    journal = Journal(db.driver, settings.read_log_flush_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await db.refresh_statistics()
        except Exception:  # a busy or read-only database: serve without fresh statistics
            logging.getLogger("peercoach.errors").warning(
                "planner statistics not refreshed", exc_info=True
            )
        if feed is not None:
            feed.start()
        journal.start()
        try:
            with frozen_after_startup():
                yield
        finally:
            await journal.stop()
            if feed is not None:
                await feed.stop()
            await db.dispose()

    app = FastAPI(
        title="peercoach",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        telemetry=telemetry_config(),  # off unless OpenTelemetry is set up (core/telemetry.py)
        generate_unique_id_function=operation_id,
        # The interactive docs and the document itself: off in production unless asked for
        # (`peercoach openapi` writes the document whatever this says).
        docs_url="/docs" if settings.serves_docs else None,
        redoc_url="/redoc" if settings.serves_docs else None,
        openapi_url="/openapi.json" if settings.serves_docs else None,
        # The docs' Authorize button signs in through the district's provider (app/openapi.py).
        swagger_ui_init_oauth={
            "clientId": "peercoach-docs",
            "usePkceWithAuthorizationCodeGrant": True,
        },
    )
    app.state.settings = settings
    app.state.db = db
    app.state.lifecycle = lifecycle
    app.state.readiness = Probe()
    app.state.principals = principals
    app.state.sso_providers = Providers(settings)
    app.state.principal_feed = feed
    app.state.journal = journal
    install_error_handlers(app)
    install_openapi(app, API_PREFIX)

    # Each domain router straight on the app under the prefix: FastAPI matches a request by
    # walking the tree of included routers, so one level less is one walk less per request
    # (about 9 % of a /users request's instructions, measured with callgrind).
    for router in (
        auth_router,
        invitations_router,
        audit_router,
        notifications_router,
        schools_router,
        users_router,
        keys_router,
        focus_areas_router,
        program_rules_router,
        school_years_router,
        teams_router,
        team_invitations_router,
        plans_router,
        calendar_feeds_router,  # before events: /events/{id}.ics is matched first
        events_router,
        records_router,
        learning_forms_router,
        read_log_router,
        growth_router,
        reflections_router,
        progress_router,
        coverage_router,
        arrangements_router,
        reports_router,
        summary_router,
        resources_router,
        support_router,
        rosters_router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health_router)
    index_routes(app)
    classify_dependencies_once()
    read_parameters_by_plan()
    solve_dependencies_by_plan()

    if settings.cors_origins:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=settings.cors_allow_credentials,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-Id"],
            expose_headers=["ETag", "X-Request-Id", "Retry-After", "Location"],
            max_age=600,
        )
    app.add_middleware(InputGuardMiddleware)  # inside the next: its answers get a request id
    app.add_middleware(
        RequestContextMiddleware, max_body_bytes=settings.max_body_bytes, lifecycle=lifecycle
    )
    return app


app = create_app()  # type: ignore[assignment]  # mypy confuses the name with the package
