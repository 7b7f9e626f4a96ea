"""The `hotline` command: database, service, staff accounts, demo data and a terminal phone."""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path

import click
from werkzeug.serving import make_server

from hotline.app import create_app
from hotline.jobs.worker import describe, process_name, run_in_process, serve
from hotline.prepare import prepared_app as _prepared_app
from hotline.staff_cli import staff
from hotline.voice.speech import audio
from hotline.voice.speech.audio import engine_status


def _services(app):
    return app.extensions["hotline"]


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="log at INFO, Alembic's migration steps included")
def main(verbose: bool) -> None:
    """Hotline: the telephony hotline and call routing of the information centres."""
    # Alembic logs each migration it checks at INFO: noise on every command, unless asked for.
    logging.getLogger("alembic").setLevel(logging.INFO if verbose else logging.WARNING)


main.add_command(staff)


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration, then add configured offices, languages and topics."""
    app = _prepared_app()
    url = _services(app).db.engine.url.render_as_string(hide_password=True)
    click.echo(f"database at {url} is up to date")


DEMO_CONFIG = str(Path(__file__).parent / "dev" / "demo_config.toml")
# Hosts that mean "every interface": URLs cannot name them, so they name this machine's loopback.
EVERY_INTERFACE = {"", "0.0.0.0", "::"}


def run_settings(host: str, port: int, demo: bool, environ: Mapping[str, str]) -> dict[str, str]:
    """The settings `hotline run` puts over those of `environ` (environment-style names to values).

    PUBLIC_BASE_URL, unless `environ` sets it: http://<host>:<port> (the loopback 127.0.0.1 for a
    host of every interface), so the URLs built outside a request (a job ringing a consultant) name
    the port served, not 5000. With `demo`, HOTLINE_CONFIG, unless set: demo_config.toml, both
    packaged offices open around the clock.
    """
    overrides = {}
    if not environ.get("PUBLIC_BASE_URL"):
        name = "127.0.0.1" if host in EVERY_INTERFACE else host
        overrides["PUBLIC_BASE_URL"] = f"http://{f'[{name}]' if ':' in name else name}:{port}"
    if demo and not environ.get("HOTLINE_CONFIG"):
        overrides["HOTLINE_CONFIG"] = DEMO_CONFIG
    return overrides


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--demo", "with_demo", is_flag=True,
              help="both offices open around the clock (unless HOTLINE_CONFIG is set), and the demo's "
                   "consultants and history added as by `hotline demo`")
@click.option("--weeks", default=4, show_default=True, type=click.IntRange(0, 52),
              help="with --demo: weeks of past consultations to add")
def run(host: str, port: int, with_demo: bool, weeks: int) -> None:
    """Run the service and an RQ worker in this process (embedded SQLite and Redis unless configured)."""
    app = _prepared_app(run_settings(host, port, with_demo, os.environ))
    hotline = _services(app)
    settings = hotline.settings
    server = make_server(host, port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    click.echo(f"Hotline on http://{host}:{port}  (Twilio Voice URL: {settings.public_base_url}/ivr/voice)")
    twilio = "built-in stand-in (no credentials: no call or SMS leaves this machine)" \
        if settings.twilio_stand_in else settings.twilio_api_base_url
    click.echo(f"database: {hotline.db.engine.url.render_as_string(hide_password=True)}; "
               f"redis: {settings.redis_url or 'embedded (fakeredis)'}; worker: in-process; "
               f"Twilio REST API: {twilio}")
    with app.app_context():
        for lang, engine in engine_status(hotline.catalogue).items():
            click.echo(f"{lang} prompts: " + (engine if engine != "missing" else
                                              "no speech engine, spoken in the fallback language (README)"))
    if with_demo:
        for line in _demo_lines(app, weeks):
            click.echo(line)
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
def prompts() -> None:
    """Prompt audio of the languages Twilio has no voice for (Farsi)."""


@prompts.command("render")
@click.option("--lang", "langs", multiple=True, help="only this language (repeatable); default: every "
                                                      "configured language without a Twilio voice")
def prompts_render(langs: tuple[str, ...]) -> None:
    """Render every fixed prompt (no fields, or a menu option's) of each voiceless language with the
    speech engine, into <audio_dir>/rendered/<lang>/ with a manifest.json; prompts whose text,
    engine and voice are unchanged are kept. Prompts with fields are rendered on first use."""
    app = create_app()
    with app.app_context():
        for lang in langs or audio.voiceless_languages(_services(app).catalogue):
            try:
                done = audio.render_fixed(lang)
            except RuntimeError as error:
                raise click.ClickException(f"{error}: see the README's section on Farsi prompts") from None
            fresh = [item for item in done if item.fresh]
            engine = audio.engine_status(_services(app).catalogue).get(lang, "")
            average = sum(item.seconds for item in fresh) / len(fresh) if fresh else 0.0
            click.echo(f"{lang}: {len(fresh)} rendered, {len(done) - len(fresh)} unchanged, by {engine}"
                       + (f"; {average * 1000:.0f} ms a prompt" if fresh else ""))
            recorded = [item.name for item in done if item.entry["recorded"]]
            if recorded:
                click.echo(f"{lang}: recorded by hand, played instead: {', '.join(recorded)}")


def _demo_lines(app, weeks: int) -> list[str]:
    """Add the demo data (hotline.dev.demo.fill) with `weeks` weeks of history; returns what to print,
    the supervisor's new API token last."""
    from hotline.dev import demo as demo_data

    hotline = _services(app)
    try:
        with hotline.db.session() as session:
            summary = demo_data.fill(session, hotline.catalogue, weeks=weeks)
            lines = demo_data.report(summary, weeks)
            if all(demo_data.around_the_clock(office) for office in hotline.catalogue.offices):
                lines.append("the offices are open around the clock")
            else:
                lines.append("the offices keep their configured hours: `hotline run --demo` opens them "
                             "around the clock")
            lines += demo_data.login_lines(summary, hotline.settings.public_base_url or "http://127.0.0.1:5000")
            token = demo_data.supervisor_token(session, summary.supervisor)
            lines.append(f"{summary.supervisor.name}'s API token (shown only this once; earlier ones "
                         f"revoked): {token}")
    finally:
        hotline.db.dispose()
    return lines


@main.command()
@click.option("--weeks", default=4, show_default=True, type=click.IntRange(0, 52),
              help="weeks of past consultations to add")
def demo(weeks: int) -> None:
    """Fill the database with demo consultants, a supervisor, an admin and past consultations; give
    the demo staff the demo password (those without one) and print how to log in at /login; print a
    new API token of the supervisor (their earlier ones are revoked).

    Safe to run again: existing staff are kept, and history is added only once."""
    for line in _demo_lines(_prepared_app(), weeks):
        click.echo(line)


def _from_env(setting: str, fallback: str | None = None):
    """An option default read from the environment the way the service reads its settings."""

    def default() -> str | None:
        from hotline.dev.terminal_phone import env_defaults

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
    from hotline.dev.terminal_phone import PhoneError, call_service

    try:
        call_service(url, caller, called, auth_token)
    except PhoneError as error:
        raise click.ClickException(str(error)) from None
