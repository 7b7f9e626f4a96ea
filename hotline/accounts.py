"""Staff accounts: adding staff with their skills, and the API tokens they use."""
from __future__ import annotations

import secrets
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.catalogue import Catalogue
from hotline.models import ApiToken, Role, Staff, StaffSkill, utcnow
from hotline.phone_numbers import normalise


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
