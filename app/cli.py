"""The `peercoach` command: serve, migrate, demo data, accounts, the OpenAPI document."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app.core.config import Settings, get_settings

cli = typer.Typer(help="peercoach: the peer coaching program API", no_args_is_help=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        typer.secho(f"Invalid settings:\n{exc}", fg="red", err=True)
        raise typer.Exit(2) from exc


def _ready_database(settings: Settings) -> None:
    """Exit 2 with a sentence, not a traceback, when the database cannot be used as it is."""
    from app.core.db import Database
    from app.core.migrations import head_revision

    async def probe() -> str | None:
        db = Database(settings)
        try:
            return await db.driver.probe()
        finally:
            await db.dispose()

    try:
        current = asyncio.run(probe())
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0][:200]
        typer.secho(f"Cannot open the database: {reason}", fg="red", err=True)
        raise typer.Exit(2) from exc
    if current is None:
        typer.secho(
            "The database is not migrated: run `peercoach migrate` first", fg="red", err=True
        )
        raise typer.Exit(2)
    if current != head_revision():
        typer.secho(
            f"The database schema is at {current}, this version needs {head_revision()}: "
            "run `peercoach migrate` first",
            fg="red",
            err=True,
        )
        raise typer.Exit(2)


@cli.command()
def migrate(revision: Annotated[str, typer.Argument(help="Target revision")] = "head") -> None:
    """Bring the database schema up to date (alembic upgrade)."""
    from app.core import migrations

    settings = _settings()
    migrations.upgrade(settings.database_url, revision)
    typer.echo(f"database migrated to {revision}")


@cli.command("demo-data")
def demo_data() -> None:
    """Load the demo district (development only). Loading twice changes nothing."""
    from app.demo.data import DEMO_PASSWORD, DemoRefused, load, logins_table

    settings = _settings()
    _ready_database(settings)
    try:
        added = asyncio.run(load(settings))
    except DemoRefused as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"demo data ready ({added} accounts added). Demo logins, password '{DEMO_PASSWORD}':"
    )
    for email, role, schools in logins_table():
        typer.echo(f"  {email:32} {role:15} {schools}")


@cli.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64)] = 1,
    reload: bool = False,
) -> None:
    """Serve the API with uvicorn (docs at /docs in development). SIGTERM drains first:
    /readyz fails for SHUTDOWN_DRAIN_SECONDS while requests are still served, then in-flight
    requests finish; Ctrl-C stops without the drain."""
    from app.core.serving import event_loop

    settings = _settings()
    if reload:
        import uvicorn

        loop = event_loop(settings, 1)
        uvicorn.run("app.main:app", host=host, port=port, reload=True, access_log=False, loop=loop)
        return
    from app.core.serving import serve as serve_app

    serve_app(
        "app.main:app",
        host=host,
        port=port,
        workers=workers,
        grace_seconds=settings.shutdown_grace_seconds,
        loop=event_loop(settings, workers),
    )


@cli.command()
def worker(
    once: Annotated[bool, typer.Option(help="Deliver what is due, then stop")] = False,
    poll_seconds: Annotated[float, typer.Option(min=0.1, max=300)] = 5.0,
) -> None:
    """Fire due reminders, email the notifications people want emailed, and deliver the email
    outbox (invitations, resets, calendar invitations, notifications) to SMTP_HOST until
    stopped: at least once, retried with backoff while the mail server is down; run one beside
    the API, or several on several hosts (on PostgreSQL they never take the same message).
    It also forgets expired single sign-ins."""
    import asyncio

    from app.mail.worker import run

    settings = _settings()
    _ready_database(settings)
    asyncio.run(run(settings, once=once, poll_seconds=poll_seconds))


@cli.command("create-user")
def create_user(
    email: str,
    given_name: str,
    family_name: str,
    role: Annotated[str, typer.Option(help="teacher, school_admin or district_admin")],
    school: Annotated[list[str] | None, typer.Option(help="School name or id; repeatable")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Create a staff account. The password is prompted for, or read from stdin."""
    from app.users.cli_service import CliError, create_user_from_cli

    settings = _settings()
    _ready_database(settings)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user_id = asyncio.run(
            create_user_from_cli(
                settings, email, given_name, family_name, role, school or [], password
            )
        )
    except CliError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {role} {email} ({user_id})")


@cli.command("import-roster")
def import_roster(
    path: Annotated[
        Path,
        typer.Argument(
            exists=True, readable=True, help="A CSV file, a zip, or a folder of loose CSV files"
        ),
    ],
    fmt: Annotated[str, typer.Option("--format", help="auto, csv, oneroster or clever")] = "auto",
    sync: Annotated[
        bool,
        typer.Option(
            "--sync", help="Also deactivate staff of the covered schools the file leaves out"
        ),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Let a sync deactivate more than the allowed share")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report changes, write nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
    invite_new: Annotated[
        bool,
        typer.Option("--invite-new", help="Invite the people it creates (emailed by the worker)"),
    ] = False,
) -> None:
    """Import staff from OneRoster, Clever or a plain CSV. Exit code 0 on success, 1 when the
    import is rejected (the errors are listed), 2 on bad arguments or a database that cannot
    be used (unreachable, or not migrated: run `peercoach migrate`)."""
    from app.rosters.cli_output import run_import

    settings = _settings()
    _ready_database(settings)
    try:
        code = run_import(
            settings,
            path,
            fmt=fmt,
            sync=sync,
            force=force,
            dry_run=dry_run,
            as_json=as_json,
            invite_new=invite_new,
        )
    except ValueError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc
    if code:
        raise typer.Exit(code)


@cli.command()
def openapi(
    output: Annotated[Path, typer.Option(help="Where to write it")] = Path("openapi/openapi.json"),
) -> None:
    """Write the OpenAPI document the app serves."""
    from app.openapi import render_openapi

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render_openapi())
    typer.echo(f"wrote {output}")


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
