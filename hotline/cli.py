"""The `hotline` command: database, service, staff accounts, demo data and a terminal phone."""
from __future__ import annotations

import threading

import click
from werkzeug.serving import make_server

from hotline import accounts
from hotline.app import create_app
from hotline.migrate import upgrade
from hotline.models import sync_reference
from hotline.periodic import arm, intervals


def _services(app):
    return app.extensions["hotline"]


def _prepared_app():
    """The app with its database migrated and the configured offices, languages, topics in it."""
    app = create_app()
    hotline = _services(app)
    upgrade(hotline.settings.database_url)
    with hotline.db.session() as session:
        sync_reference(session, hotline.catalogue)
    arm(hotline.queue(), every=intervals(hotline.settings))
    return app


@click.group()
def main() -> None:
    """Hotline: the telephony hotline and call routing of the information centres."""


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration, then add configured offices, languages and topics."""
    app = _prepared_app()
    url = _services(app).db.engine.url.render_as_string(hide_password=True)
    click.echo(f"database at {url} is up to date")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def run(host: str, port: int) -> None:
    """Run the service and an RQ worker in this process (embedded SQLite and Redis unless configured)."""
    from hotline.worker import run_in_process

    app = _prepared_app()
    settings = _services(app).settings
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    click.echo(f"Hotline on http://{host}:{port}  (Twilio Voice URL: {settings.public_base_url or f'http://{host}:{port}'}/ivr/voice)")
    click.echo(f"database: {_services(app).db.engine.url.render_as_string(hide_password=True)}; "
               f"redis: {settings.redis_url or 'embedded (fakeredis)'}; worker: in-process")
    stop = threading.Event()
    try:
        run_in_process(app, stop)
    except KeyboardInterrupt:
        stop.set()
    finally:
        server.shutdown()


@main.command()
@click.option("--tick", default=1.0, show_default=True, type=click.FloatRange(0.05, 60),
              help="seconds between the scheduler's rounds (due jobs moved, its lock refreshed)")
@click.option("--arm-every", default=5.0, show_default=True, type=click.FloatRange(0.05, 600),
              help="seconds between re-arming the periodic jobs")
@click.option("--lock-ttl", default=15, show_default=True, type=click.IntRange(1, 600),
              help="seconds the scheduler lock outlives a worker that stopped refreshing it")
def worker(tick: float, arm_every: float, lock_ttl: int) -> None:
    """Run RQ jobs of queue `hotline` (REDIS_URL), the scheduler and the periodic jobs, in this process.

    Any number may run: one at a time holds the scheduler lock, and another takes it over within
    --lock-ttl seconds of that one's death."""
    from hotline.worker import describe, process_name, serve

    app = create_app()
    settings = _services(app).settings
    if settings.embedded:
        raise click.UsageError("REDIS_URL is not set: a separate worker cannot reach the embedded Redis "
                               "(`hotline run` has its worker in-process)")
    name = process_name()
    for line in describe(app, settings.redis_url, name):
        click.echo(line)
    try:
        serve(app, name, tick=tick, arm_every=arm_every, lock_ttl=lock_ttl)
    except RuntimeError as error:
        raise click.ClickException(str(error)) from None
    finally:
        _services(app).db.dispose()


@main.group()
def staff() -> None:
    """Staff accounts."""


@staff.command("add")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice(["consultant", "supervisor", "admin"]), default="consultant",
              show_default=True)
@click.option("--phone", help="the phone a routed call rings, e.g. +359888123456")
@click.option("--languages", default="", help="comma-separated codes, e.g. bg,en")
@click.option("--topics", default="", help="comma-separated codes, e.g. health,social")
@click.option("--office", required=True)
@click.option("--whisper-language", default=None,
              help="language of the whisper they hear (default: staff_language)")
def staff_add(name, role, phone, languages, topics, office, whisper_language) -> None:
    """Add a staff member; prints the new id."""
    app = _prepared_app()
    hotline = _services(app)
    with hotline.db.session() as session:
        try:
            member = accounts.create_staff(session, hotline.catalogue, name=name, role=role, phone=phone,
                                           languages=languages.split(","), topics=topics.split(","),
                                           office=office, whisper_language=whisper_language)
        except accounts.AccountError as error:
            raise click.UsageError(str(error)) from None
        click.echo(member.id)


@staff.command("token")
@click.argument("name")
def staff_token(name: str) -> None:
    """Print a new API bearer token for staff member NAME (shown only this once)."""
    from sqlalchemy import select

    from hotline.models import Staff

    app = _prepared_app()
    with _services(app).db.session() as session:
        member = session.scalar(select(Staff).where(Staff.name == name))
        if member is None:
            raise click.UsageError(f"no staff member named {name!r}")
        click.echo(accounts.issue_token(session, member))


@main.command()
@click.option("--weeks", default=4, show_default=True, type=click.IntRange(0, 52),
              help="weeks of past consultations to add")
def demo(weeks: int) -> None:
    """Fill the database with demo consultants, a supervisor and past consultations.

    Safe to run again: existing staff are kept, and history is added only once."""
    from hotline import demo as demo_data

    app = _prepared_app()
    hotline = _services(app)
    try:
        with hotline.db.session() as session:
            summary = demo_data.fill(session, hotline.catalogue, weeks=weeks)
            lines = demo_data.report(summary, weeks)
            lines.append(f"{summary.supervisor.name}'s API token (shown only this once): "
                         f"{accounts.issue_token(session, summary.supervisor)}")
    finally:
        hotline.db.dispose()
    for line in lines:
        click.echo(line)


def _from_env(setting: str, fallback: str | None = None):
    """An option default read from the environment the way the service reads its settings."""

    def default() -> str | None:
        from hotline.terminal_phone import env_defaults

        return getattr(env_defaults(), setting) or fallback

    return default


@main.command()
@click.option("--url", default=_from_env("public_base_url", "http://127.0.0.1:5000"),
              show_default="PUBLIC_BASE_URL, else http://127.0.0.1:5000", help="where the service runs")
@click.option("--from", "caller", default="+359888123456", show_default=True, help="the caller's number")
@click.option("--to", "called", default=_from_env("twilio_phone_number"),
              show_default="TWILIO_PHONE_NUMBER, else +35924916000", help="the hotline number dialled")
@click.option("--auth-token", default=_from_env("twilio_auth_token"),
              show_default="TWILIO_AUTH_TOKEN, else the development default", help="signs requests as Twilio")
def phone(url: str, caller: str, called: str, auth_token: str) -> None:
    """A terminal telephone: call the running service as Twilio would (no Twilio account needed)."""
    from hotline.terminal_phone import PhoneError, call_service

    try:
        call_service(url, caller, called, auth_token)
    except PhoneError as error:
        raise click.ClickException(str(error)) from None
