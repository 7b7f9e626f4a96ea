"""Arranging tests: staff, calls, and reading TwiML."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from itertools import count

from hotline import accounts
from hotline.dev.twilio_stand_in import CallerLeg, Twilio
from hotline.models import Staff, utcnow
from tests.support.app import PUBLIC_BASE_URL, services_of

VOICE_URL = PUBLIC_BASE_URL + "/ivr/voice"
STATUS_URL = PUBLIC_BASE_URL + "/ivr/status"
_phones = count(1)


def add_consultant(app, db, name: str, languages=("en",), topics=("health",), office="sofia",
                   status="available", idle_minutes: int = 0, phone: str | None = None) -> Staff:
    staff = accounts.create_staff(
        db, services_of(app).catalogue, name=name, role="consultant",
        phone=phone or f"+35988{next(_phones):07d}", languages=languages, topics=topics, office=office,
    )
    staff.status = status
    staff.idle_since = utcnow() - timedelta(minutes=idle_minutes)
    db.commit()
    return staff


def add_staff_with_token(app, db, name: str, role: str = "supervisor") -> tuple[Staff, str]:
    staff = accounts.create_staff(db, services_of(app).catalogue, name=name, role=role, phone=None,
                                  languages=["en"], topics=["other"], office="sofia")
    return staff, accounts.issue_token(db, staff)


def new_call(twilio: Twilio, **kwargs) -> CallerLeg:
    return CallerLeg(twilio, VOICE_URL, **kwargs)


def to_topic_menu(twilio: Twilio, language_key: str = "2", **kwargs) -> CallerLeg:
    call = new_call(twilio, **kwargs)
    call.ring()
    call.press(language_key)
    return call


def says(root: ET.Element) -> str:
    return " | ".join(el.text or "" for el in root.iter("Say"))
