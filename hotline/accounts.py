"""Staff accounts: adding staff with their skills, and the API tokens they use."""
from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from hotline.catalogue import Catalogue
from hotline.models import ApiToken, AuditEvent, Role, Staff, StaffSkill, utcnow
from hotline.phone_numbers import normalise

MIN_PASSWORD_LENGTH = 10
# A hash to check a password against when the name is unknown: the answer then takes as long as
# for a known name, so timing does not tell which names exist.
_DECOY_HASH = generate_password_hash("decoy password never used")


class AccountError(ValueError):
    """Bad input for a staff account; the message says what to fix."""


def _check_codes(kind: str, given: Iterable[str], known: Iterable[str]) -> list[str]:
    given = [code.strip() for code in given if code.strip()]
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise AccountError(f"unknown {kind}: {', '.join(unknown)} (known: {', '.join(known)})")
    return given


def create_staff(session: Session, catalogue: Catalogue, *, name: str, role: str, phone: str | None,
                 languages: Iterable[str], topics: Iterable[str], office: str,
                 whisper_language: str | None = None) -> Staff:
    """Add a staff member whose skills are every language x topic given."""
    if role not in {r.value for r in Role}:
        raise AccountError(f"role must be one of {', '.join(r.value for r in Role)}")
    if catalogue.office(office) is None:
        raise AccountError(f"unknown office {office!r}")
    e164 = normalise(phone) if phone else None
    if phone and e164 is None:
        raise AccountError("phone is not a valid number (use +359... or a Bulgarian number)")
    langs = _check_codes("languages", languages, [lang.code for lang in catalogue.languages])
    topic_codes = _check_codes("topics", topics, [topic.code for topic in catalogue.topics])
    if session.scalar(select(Staff).where(Staff.name == name)):
        raise AccountError(f"a staff member named {name!r} exists already")
    staff = Staff(name=name, role=role, phone=e164, office_code=office, whisper_language=whisper_language,
                  skills=[StaffSkill(language_code=lang, topic_code=topic)
                          for lang in langs for topic in topic_codes])
    session.add(staff)
    session.commit()
    return staff


def issue_token(session: Session, staff: Staff) -> str:
    """A new bearer token for `staff`; only its hash is kept, so this is the one chance to see it."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(staff_id=staff.id, token_hash=ApiToken.hash(token)))
    session.commit()
    return token


def staff_for_token(session: Session, token: str) -> Staff | None:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == ApiToken.hash(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.staff.active:
        return None
    return row.staff


def revoke_tokens(session: Session, staff: Staff) -> None:
    for row in session.scalars(select(ApiToken).where(ApiToken.staff_id == staff.id,
                                                      ApiToken.revoked_at.is_(None))):
        row.revoked_at = utcnow()
    session.commit()


def set_password(session: Session, staff: Staff, password: str, actor_id: int | None = None) -> None:
    """Hash and store `password` (at least MIN_PASSWORD_LENGTH characters) for `staff` with
    Werkzeug's default (scrypt); audited as password_set by `actor_id` (None: themselves).
    Raises AccountError for a password that is too short."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    staff.password_hash = generate_password_hash(password)
    session.add(AuditEvent(kind="password_set", staff_id=staff.id, actor_id=actor_id))
    session.commit()


def check_login(session: Session, name: str, password: str) -> Staff | None:
    """The active staff member called `name` if `password` is theirs, else None; an unknown name
    takes as long to refuse as a wrong password."""
    staff = session.scalar(select(Staff).where(Staff.name == name.strip()))
    if staff is None or not staff.active or not staff.password_hash:
        check_password_hash(_DECOY_HASH, password)
        return None
    return staff if check_password_hash(staff.password_hash, password) else None
