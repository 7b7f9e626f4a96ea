"""`hotline staff ...`: each action of the staff web's /staff page has its command-line twin, over
the same functions (hotline.accounts), audited the same way (no actor: the command line)."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from hotline import accounts
from hotline.cli import main
from hotline.models import AuditEvent, Staff


def hotline(app_config, *args: str, stdin: str | None = None):
    """Run `hotline ARGS...` against the test's database; returns click's Result."""
    return CliRunner().invoke(main, list(args), env=app_config, input=stdin)


def named(db, name: str) -> Staff:
    db.expire_all()
    return db.scalar(select(Staff).where(Staff.name == name))


def kinds(db, staff: Staff) -> list[tuple[str, int | None]]:
    db.expire_all()
    return [(e.kind, e.actor_id) for e in db.scalars(select(AuditEvent).where(AuditEvent.staff_id == staff.id)
                                                     .order_by(AuditEvent.id))]


def test_add_edit_and_list(app_config, app, db):
    added = hotline(app_config, "staff", "add", "--name", "Maria", "--phone", "0888123456", "--languages",
                    "bg,en", "--topics", "health", "--office", "sofia")
    assert added.exit_code == 0, added.output
    maria = named(db, "Maria")
    assert added.output.strip() == str(maria.id)

    edited = hotline(app_config, "staff", "edit", "Maria", "--name", "Maria Petrova", "--topics",
                     "health,social", "--whisper-language", "en", "--phone", "")
    assert edited.exit_code == 0, edited.output
    assert edited.output.strip() == "changed: name, phone, topics, whisper_language"
    maria = named(db, "Maria Petrova")
    assert (maria.phone, maria.languages, maria.topics, maria.whisper_language) == \
        (None, ["bg", "en"], ["health", "social"], "en")
    assert hotline(app_config, "staff", "edit", "Maria Petrova", "--office", "sofia").output.strip() == \
        "nothing changed"

    listed = hotline(app_config, "staff", "list")
    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        f"{maria.id}\tMaria Petrova\tconsultant\tsofia\t-\tbg,en\thealth,social\ten\tactive\toffline"]
    assert kinds(db, maria) == [("staff_added", None), ("staff_changed", None)]


def test_bad_input_is_a_usage_error(app_config, app, db):
    hotline(app_config, "staff", "add", "--name", "Maria", "--office", "sofia")
    for args, message in [
        (("staff", "add", "--name", "maria", "--office", "sofia"), "exists already"),
        (("staff", "add", "--name", "Ivan", "--office", "sofia", "--phone", "123"), "not a valid number"),
        (("staff", "add", "--name", "Ivan", "--office", "sofia", "--languages", "en"), "both languages"),
        (("staff", "edit", "Nobody", "--role", "admin"), "no staff member named 'Nobody'"),
        (("staff", "edit", "Maria", "--whisper-language", "xx"), "unknown whisper language"),
        (("staff", "deactivate", "Nobody"), "no staff member"),
    ]:
        result = hotline(app_config, *args)
        assert result.exit_code == 2 and message in result.output, (args, result.output)
    assert named(db, "Ivan") is None


def test_deactivate_and_reactivate(app_config, app, db):
    hotline(app_config, "staff", "add", "--name", "Maria", "--office", "sofia")
    accounts.set_password(db, named(db, "Maria"), "a long password")

    assert hotline(app_config, "staff", "deactivate", "Maria").output.strip() == "Maria deactivated"
    again = hotline(app_config, "staff", "deactivate", "Maria")
    assert again.output.strip() == "Maria was deactivated already"
    assert not named(db, "Maria").active
    assert accounts.check_login(db, "Maria", "a long password") is None
    assert "\tdeactivated\t" in hotline(app_config, "staff", "list").output

    assert hotline(app_config, "staff", "reactivate", "Maria").output.strip() == "Maria reactivated"
    assert accounts.check_login(db, "Maria", "a long password") is not None
    assert kinds(db, named(db, "Maria"))[-2:] == [("staff_deactivated", None), ("staff_reactivated", None)]


def test_the_last_admin_cannot_be_deactivated(app_config, app, db):
    hotline(app_config, "staff", "add", "--name", "Ada", "--role", "admin", "--office", "sofia")
    result = hotline(app_config, "staff", "deactivate", "Ada")
    assert result.exit_code == 2 and "last active admin" in result.output
    assert named(db, "Ada").active


def test_a_generated_password(app_config, app, db):
    hotline(app_config, "staff", "add", "--name", "Maria", "--office", "sofia")
    result = hotline(app_config, "staff", "password", "Maria", "--generate")
    assert result.exit_code == 0, result.output
    password = result.output.strip().rsplit(" ", 1)[-1]
    assert accounts.check_login(db, "Maria", password) is not None


def test_list_and_revoke_tokens(app_config, app, db):
    hotline(app_config, "staff", "add", "--name", "Maria", "--office", "sofia")
    first = hotline(app_config, "staff", "token", "Maria").output.strip()
    second = hotline(app_config, "staff", "token", "Maria").output.strip()
    listed = hotline(app_config, "staff", "tokens", "Maria").output
    assert first not in listed and second not in listed
    rows = [line.split("\t") for line in listed.splitlines()]
    assert [row[2] for row in rows] == ["active", "active"]
    oldest = rows[-1][0]

    revoked = hotline(app_config, "staff", "revoke-token", "Maria", oldest)
    assert revoked.output.strip() == f"token {oldest} revoked"

    db.expire_all()
    assert accounts.staff_for_token(db, first) is None and accounts.staff_for_token(db, second) is not None
    assert hotline(app_config, "staff", "tokens", "Maria").output.splitlines()[-1].split("\t")[2] != "active"
    again = hotline(app_config, "staff", "revoke-token", "Maria", oldest)
    assert again.output.strip() == f"token {oldest} was revoked already"
    unknown = hotline(app_config, "staff", "revoke-token", "Maria", "999999")
    assert unknown.exit_code == 2 and "no API token #999999" in unknown.output
    assert kinds(db, named(db, "Maria"))[-1] == ("token_revoked", None)
