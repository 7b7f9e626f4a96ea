"""`hotline staff ...`: the command-line twins of the staff web's staff management, over the same
functions (hotline.accounts). Each command migrates the database first, as every `hotline` command
does; bad input exits with a usage error that says what to fix."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from hotline import accounts
from hotline.catalogue import Catalogue
from hotline.models import Role
from hotline.prepare import prepared_app

ROLES = click.Choice([role.value for role in Role])


@contextmanager
def _accounts() -> Iterator[tuple[Session, Catalogue]]:
    """A database session and the catalogue; an AccountError inside becomes a usage error."""
    app = prepared_app()
    hotline = app.extensions["hotline"]
    try:
        with app.app_context(), hotline.db.session() as session:
            yield session, hotline.catalogue
    except accounts.AccountError as error:
        raise click.UsageError(str(error)) from None
    finally:
        hotline.db.dispose()


def _codes(text: str | None) -> list[str] | None:
    return None if text is None else [code.strip() for code in text.split(",") if code.strip()]


@click.group()
def staff() -> None:
    """Staff accounts (the same actions as the staff web's /staff page)."""


@staff.command("add")
@click.option("--name", required=True)
@click.option("--role", type=ROLES, default=Role.consultant.value, show_default=True)
@click.option("--phone", help="the phone a routed call rings, e.g. +359888123456")
@click.option("--languages", default="", help="comma-separated codes, e.g. bg,en")
@click.option("--topics", default="", help="comma-separated codes, e.g. health,social")
@click.option("--office", required=True)
@click.option("--whisper-language", default=None,
              help="language of the whisper they hear (default: staff_language)")
def staff_add(name, role, phone, languages, topics, office, whisper_language) -> None:
    """Add a staff member (skills: every language x topic given); prints the new id."""
    with _accounts() as (session, catalogue):
        member = accounts.create_staff(session, catalogue, name=name, role=role, phone=phone,
                                       languages=_codes(languages), topics=_codes(topics), office=office,
                                       whisper_language=whisper_language)
        click.echo(member.id)


@staff.command("edit")
@click.argument("name")
@click.option("--name", "new_name", help="a new name")
@click.option("--role", type=ROLES)
@click.option("--phone", help="a new phone; '' removes it (never rung then)")
@click.option("--languages", help="comma-separated codes; replaces their languages")
@click.option("--topics", help="comma-separated codes; replaces their topics")
@click.option("--office")
@click.option("--whisper-language", help="a language code; '' for the default (staff_language)")
def staff_edit(name, new_name, role, phone, languages, topics, office, whisper_language) -> None:
    """Change staff member NAME: only the options given; prints what changed."""
    given = {"name": new_name, "role": role, "phone": phone, "office": office,
             "languages": _codes(languages), "topics": _codes(topics), "whisper_language": whisper_language}
    with _accounts() as (session, catalogue):
        member = accounts.find_staff(session, name)
        changed = accounts.update_staff(session, catalogue, member,
                                        **{key: value for key, value in given.items() if value is not None})
        click.echo(f"changed: {', '.join(changed)}" if changed else "nothing changed")


@staff.command("list")
def staff_list() -> None:
    """Print every staff member, one a line (tab-separated): id, name, role, office, phone,
    languages, topics, whisper language, active, status."""
    with _accounts() as (session, _):
        for s in accounts.list_staff(session):
            fields = (s.id, s.name, s.role, s.office_code, s.phone or "-", ",".join(s.languages) or "-",
                      ",".join(s.topics) or "-", s.whisper_language or "-",
                      "active" if s.active else "deactivated", s.status)
            click.echo("\t".join(str(field) for field in fields))


@staff.command("deactivate")
@click.argument("name")
def staff_deactivate(name: str) -> None:
    """Deactivate staff member NAME (history kept): no login, no API, no calls."""
    with _accounts() as (session, _):
        done = accounts.deactivate(session, accounts.find_staff(session, name))
    click.echo(f"{name} deactivated" if done else f"{name} was deactivated already")


@staff.command("reactivate")
@click.argument("name")
def staff_reactivate(name: str) -> None:
    """Let deactivated staff member NAME log in and take calls again."""
    with _accounts() as (session, _):
        done = accounts.reactivate(session, accounts.find_staff(session, name))
    click.echo(f"{name} reactivated" if done else f"{name} was active already")


@staff.command("password")
@click.argument("name")
@click.option("--generate", is_flag=True, help="set a random password and print it (shown only this once)")
def staff_password(name: str, generate: bool) -> None:
    """Set the staff web password of staff member NAME, read from standard input (asked twice,
    hidden, on a terminal), or a random one with --generate."""
    if generate:
        password = accounts.generate_password()
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with _accounts() as (session, _):
        accounts.set_password(session, accounts.find_staff(session, name), password)
    click.echo(f"password for {name} (shown only this once): {password}" if generate
               else f"password set for {name}")


@staff.command("token")
@click.argument("name")
def staff_token(name: str) -> None:
    """Print a new API bearer token for staff member NAME (shown only this once)."""
    with _accounts() as (session, _):
        click.echo(accounts.issue_token(session, accounts.find_staff(session, name)))


@staff.command("tokens")
@click.argument("name")
def staff_tokens(name: str) -> None:
    """List the API tokens of staff member NAME (never their values), one a line (tab-separated):
    id, created (UTC), revoked (UTC) or 'active'."""
    with _accounts() as (session, _):
        for token in accounts.tokens_of(session, accounts.find_staff(session, name)):
            revoked = token.revoked_at.strftime("%Y-%m-%d %H:%M") if token.revoked_at else "active"
            click.echo(f"{token.id}\t{token.created_at:%Y-%m-%d %H:%M}\t{revoked}")


@staff.command("revoke-token")
@click.argument("name")
@click.argument("token_id", type=int)
def staff_revoke_token(name: str, token_id: int) -> None:
    """Revoke API token TOKEN_ID (see `hotline staff tokens NAME`) of staff member NAME."""
    with _accounts() as (session, _):
        done = accounts.revoke_token(session, accounts.find_staff(session, name), token_id)
    click.echo(f"token {token_id} revoked" if done else f"token {token_id} was revoked already")
