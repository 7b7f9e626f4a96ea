"""Staff accounts: adding, changing, deactivating and reactivating staff with their skills, their
passwords for the staff web, and the API tokens they use. The staff web and `hotline staff` both
act through these functions; every change is audited (AuditEvent, with the actor's id)."""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from hotline import permissions, runtime
from hotline.catalogue import Catalogue
from hotline.models import ApiToken, AuditEvent, Role, Staff, StaffSkill, utcnow
from hotline.phone_numbers import normalise

MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 120
# What the staff web and `hotline staff edit` may change.
EDITABLE = ("name", "role", "phone", "office", "languages", "topics", "whisper_language")
# A hash to check a password against when the name is unknown: the answer then takes as long as
# for a known name, so timing does not tell which names exist.
_DECOY_HASH = generate_password_hash("decoy password never used")


class AccountError(ValueError):
    """Bad input for a staff account; the message (str()) says what to fix.

    `template` is the message with a %(name)s field where it names a person, `name` that person's
    name as typed (None when the message names nobody), `quoted` whether the name is shown quoted
    as Python's repr() (on the command line, so that spaces and invisible characters show). The web
    fills `name` in isolated (dashboards.web.typed.with_typed), as every value a person typed."""

    def __init__(self, template: str, name: str | None = None, quoted: bool = False):
        self.template, self.name, self.quoted = template, name, quoted
        shown = repr(name) if quoted else name
        super().__init__(template if name is None else template % {"name": shown})


@dataclass(frozen=True)
class Profile:
    """A staff member's editable fields, checked and normalised (phone in E.164)."""

    name: str
    role: str
    phone: str | None
    office: str
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    whisper_language: str | None


def _check_codes(kind: str, given: Iterable[str], known: Iterable[str]) -> tuple[str, ...]:
    given = list(dict.fromkeys(code.strip() for code in given if code.strip()))
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise AccountError(f"unknown {kind}: {', '.join(unknown)} (known: {', '.join(known)})")
    return tuple(given)


def check_profile(session: Session, catalogue: Catalogue, *, name: str, role: str, phone: str | None,
                  office: str, languages: Iterable[str], topics: Iterable[str],
                  whisper_language: str | None = None, staff_id: int | None = None) -> Profile:
    """The fields of staff member `staff_id` (None: a new one), checked against the catalogue and
    the other staff. Returns a Profile; raises AccountError saying what to fix (an empty, long or
    taken name, ignoring case; an unknown role, office, language, topic or whisper language; a phone
    that is not a valid number; languages without topics or topics without languages)."""
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"a name needs 1 to {MAX_NAME_LENGTH} characters")
    if role not in {r.value for r in Role}:
        raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}")
    if catalogue.office(office) is None:
        raise AccountError(f"unknown office {office!r}")
    phone = (phone or "").strip() or None
    e164 = normalise(phone) if phone else None
    if phone and e164 is None:
        raise AccountError("phone is not a valid number (use +359... or a Bulgarian number)")
    langs = _check_codes("languages", languages, [lang.code for lang in catalogue.languages])
    topic_codes = _check_codes("topics", topics, [topic.code for topic in catalogue.topics])
    if bool(langs) != bool(topic_codes):
        raise AccountError("skills are languages x topics: give both languages and topics, or neither")
    whisper_language = (whisper_language or "").strip() or None
    if whisper_language and catalogue.language(whisper_language) is None:
        raise AccountError(f"unknown whisper language {whisper_language!r}")
    others = session.scalars(select(Staff.name).where(Staff.id != (staff_id or 0)))
    if any(other.casefold() == name.casefold() for other in others):
        raise AccountError("a staff member named %(name)s exists already", name, quoted=True)
    return Profile(name, role, e164, office, langs, topic_codes, whisper_language)


def _skills(staff: Staff | None, languages: Iterable[str], topics: Iterable[str]) -> list[StaffSkill]:
    """Every language x topic as skills, keeping the rows `staff` has already (a row deleted and
    added again in one flush would break the unique constraint: inserts run first)."""
    wanted = [(lang, topic) for lang in languages for topic in topics]
    have = {(s.language_code, s.topic_code): s for s in (staff.skills if staff else [])}
    return [have.get(pair) or StaffSkill(language_code=pair[0], topic_code=pair[1]) for pair in wanted]


def _commit_named(session: Session, name: str) -> None:
    """Commit; a name taken meanwhile by another request becomes an AccountError."""
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise AccountError("a staff member named %(name)s exists already", name, quoted=True) from None


def audit(session: Session, *, kind: str, staff_id: int | None, actor_id: int | None = None,
          detail: str | None = None) -> None:
    """Add to `session` an audit entry (AuditEvent: `kind`, e.g. "staff_added" or "login", about
    staff `staff_id`, by `actor_id` (None: from the command line, or the person themselves), with
    `detail`); not committed: it is committed with the change it records. The one writer of the
    audit log (the staff web's logins call it too)."""
    session.add(AuditEvent(kind=kind, staff_id=staff_id, actor_id=actor_id, detail=detail))


def create_staff(session: Session, catalogue: Catalogue, *, name: str, role: str, phone: str | None,
                 languages: Iterable[str], topics: Iterable[str], office: str,
                 whisper_language: str | None = None, actor_id: int | None = None) -> Staff:
    """Add a staff member whose skills are every language x topic given (see check_profile), audited
    as staff_added by `actor_id` (None: from the command line). Returns the new Staff, committed;
    raises AccountError for bad input."""
    p = check_profile(session, catalogue, name=name, role=role, phone=phone, office=office,
                      languages=languages, topics=topics, whisper_language=whisper_language)
    staff = Staff(name=p.name, role=p.role, phone=p.phone, office_code=p.office,
                  whisper_language=p.whisper_language, skills=_skills(None, p.languages, p.topics))
    session.add(staff)
    session.flush()
    audit(session, kind="staff_added", staff_id=staff.id, actor_id=actor_id,
          detail=f"{p.role} in {p.office}")
    _commit_named(session, p.name)
    return staff


def profile_of(staff: Staff) -> dict:
    """The editable fields of `staff` as update_staff takes them (name -> value)."""
    return {"name": staff.name, "role": staff.role, "phone": staff.phone, "office": staff.office_code,
            "languages": staff.languages, "topics": staff.topics, "whisper_language": staff.whisper_language}


def update_staff(session: Session, catalogue: Catalogue, staff: Staff, *, actor_id: int | None = None,
                 **changes) -> list[str]:
    """Change some of `staff`'s EDITABLE fields (those given; languages and topics replace the skills
    as every language x topic). Audited as staff_changed with the names of the fields that changed
    (never their values). Returns those names (empty: nothing changed, nothing audited). Raises
    AccountError for an unknown field or bad input, and for taking the admin role from the last
    active admin."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise AccountError(f"cannot change {', '.join(unknown)}")
    current = profile_of(staff)
    p = check_profile(session, catalogue, staff_id=staff.id, **{**current, **changes})
    new = {**asdict(p), "languages": sorted(p.languages), "topics": sorted(p.topics)}
    changed = [field for field in EDITABLE if new[field] != current[field]]
    if not changed:
        return []
    if permissions.may_manage_staff(staff) and p.role not in permissions.MANAGE_STAFF:
        _keep_an_admin(session, staff)
    staff.name, staff.role, staff.phone, staff.office_code = p.name, p.role, p.phone, p.office
    staff.whisper_language = p.whisper_language
    staff.skills = _skills(staff, p.languages, p.topics)
    audit(session, kind="staff_changed", staff_id=staff.id, actor_id=actor_id,
          detail="changed: " + ", ".join(changed))
    _commit_named(session, p.name)
    return changed


def _keep_an_admin(session: Session, staff: Staff) -> None:
    """Raise AccountError if `staff` is the last active admin (nobody could manage staff then: the
    rule permissions.MANAGE_STAFF)."""
    others = session.scalar(select(func.count()).select_from(Staff).where(
        Staff.role.in_(sorted(permissions.MANAGE_STAFF)), Staff.active.is_(True), Staff.id != staff.id))
    if staff.active and permissions.may_manage_staff(staff) and not others:
        raise AccountError("%(name)s is the last active admin; make someone else an admin first", staff.name)


def register_sign_off(app: Flask, sign_off: Callable[[Session, int, datetime], object]) -> None:
    """In this app, deactivate() also runs `sign_off(session, staff_id, now)` (now: UTC) in its
    transaction: how routing, which owns a consultant's status, takes them offline (wired by
    hotline.app.create_app: the core imports no area)."""
    app.extensions["hotline"].sign_offs.append(sign_off)


def deactivate(session: Session, staff: Staff, actor_id: int | None = None) -> bool:
    """Deactivate `staff`, keeping their history: they can no longer log in (their open sessions end
    at their next request), their API tokens stop working and routing offers them no call; if they
    are not on a call they go offline at once (the app's sign-offs: register_sign_off; so it needs
    an app context). Audited as staff_deactivated. Returns False if they
    were inactive already (nothing done); raises AccountError for the last active admin and for
    deactivating oneself (`actor_id` is `staff`)."""
    if not staff.active:
        return False
    if actor_id is not None and actor_id == staff.id:
        raise AccountError("you cannot deactivate yourself; ask another admin")
    _keep_an_admin(session, staff)
    staff.active = False
    session.flush()
    for sign_off in runtime.current().sign_offs:
        sign_off(session, staff.id, utcnow())
    audit(session, kind="staff_deactivated", staff_id=staff.id, actor_id=actor_id)
    session.commit()
    session.refresh(staff)
    return True


def reactivate(session: Session, staff: Staff, actor_id: int | None = None) -> bool:
    """Let a deactivated `staff` member log in and be routed to again (offline until they say
    otherwise); audited as staff_reactivated. Returns False if they were active already."""
    if staff.active:
        return False
    staff.active = True
    audit(session, kind="staff_reactivated", staff_id=staff.id, actor_id=actor_id)
    session.commit()
    return True


def find_staff(session: Session, name: str) -> Staff:
    """The staff member called `name` (exactly, spaces around it ignored); AccountError if none."""
    staff = session.scalar(select(Staff).where(Staff.name == name.strip()))
    if staff is None:
        raise AccountError("no staff member named %(name)s", name, quoted=True)
    return staff


def list_staff(session: Session) -> list[Staff]:
    """Every staff member, the active first, then by name."""
    return list(session.scalars(select(Staff).order_by(Staff.active.desc(), Staff.name)))


def issue_token(session: Session, staff: Staff) -> str:
    """A new bearer token for `staff`; only its hash is kept, so this is the one chance to see it."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(staff_id=staff.id, token_hash=ApiToken.hash(token)))
    session.commit()
    return token


def staff_for_token(session: Session, token: str) -> Staff | None:
    """The active staff member whose unrevoked token `token` is, else None."""
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.staff.active:
        return None
    return row.staff


def tokens_of(session: Session, staff: Staff) -> list[ApiToken]:
    """`staff`'s API tokens (revoked ones too), newest first; each holds only its hash."""
    return list(session.scalars(select(ApiToken).where(ApiToken.staff_id == staff.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(session: Session, staff: Staff, token_id: int, actor_id: int | None = None) -> bool:
    """Revoke `staff`'s API token `token_id`, audited as token_revoked. Returns False if it was
    revoked already; raises AccountError if `staff` has no such token."""
    row = session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.staff_id == staff.id))
    if row is None:
        raise AccountError(f"%(name)s has no API token #{token_id}", staff.name)
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    audit(session, kind="token_revoked", staff_id=staff.id, actor_id=actor_id,
          detail=f"token #{row.id}")
    session.commit()
    return True


def revoke_tokens(session: Session, staff: Staff) -> None:
    """Revoke every token of `staff` (unaudited: the demo replaces its supervisor's token this way)."""
    unrevoked = select(ApiToken).where(ApiToken.staff_id == staff.id, ApiToken.revoked_at.is_(None))
    for row in session.scalars(unrevoked):
        row.revoked_at = utcnow()
    session.commit()


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits), for an admin to pass on."""
    return secrets.token_urlsafe(15)


def set_password(session: Session, staff: Staff, password: str, actor_id: int | None = None) -> None:
    """Hash and store `password` (at least MIN_PASSWORD_LENGTH characters) for `staff` with
    Werkzeug's default (scrypt); audited as password_set by `actor_id` (None: themselves).
    Raises AccountError for a password that is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    staff.password_hash = generate_password_hash(password)
    audit(session, kind="password_set", staff_id=staff.id, actor_id=actor_id)
    session.commit()


def check_login(session: Session, name: str, password: str) -> Staff | None:
    """The active staff member called `name` if `password` is theirs, else None; an unknown name
    takes as long to refuse as a wrong password."""
    staff = session.scalar(select(Staff).where(Staff.name == name.strip()))
    if staff is None or not staff.active or not staff.password_hash:
        check_password_hash(_DECOY_HASH, password)
        return None
    return staff if check_password_hash(staff.password_hash, password) else None
