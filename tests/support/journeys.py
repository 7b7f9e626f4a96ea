"""Helpers for the whole-call tests of tests/ivr and tests/routing: reach a point of a call, read
what the caller heard, and what the database and the call journal hold afterwards."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from hotline.dev.twilio_stand_in import CallerLeg, ConsultantLeg, Twilio, spoken
from hotline.models import Call, CallEvent, ConsultationRecord, Staff
from hotline.voice.speech import audio
from hotline.voice.speech import prompts as engine_prompts
from tests.support.app import services_of
from tests.support.clock import set_clock  # noqa: F401 (the journeys' clock)
from tests.support.helpers import STATUS_URL, new_call

LANGUAGE_KEYS = {"bg": "1", "en": "2", "ru": "3", "uk": "4", "ar": "5", "fa": "6", "tr": "7"}
TOPIC_KEYS = {"residence": "1", "employment": "2", "health": "3", "education": "4", "social": "5",
              "other": "6"}
SOFIA_NUMBER = "+35924916000"
BURGAS_NUMBER = "+35956916000"


def prompt(app, lang: str, key: str, **fields) -> str:
    """What the catalogue says for `key` in `lang` (the text a <Say> must carry)."""
    return services_of(app).catalogue.prompt(lang, key, **fields)


def texts(root: ET.Element) -> list[str]:
    """Every <Say> text and <Play> (as "[audio URL]") of a TwiML answer, in order."""
    return spoken(root)


def rendered_text(app, url: str) -> str | None:
    """The text a <Play> URL of a rendered prompt (/audio/<lang>/r/...) has the engine speak, as
    signed in the URL; None for any other URL (a recording) or a text the app did not sign."""
    parts = urlsplit(url)
    if not parts.path.startswith("/audio/") or "/r/" not in parts.path:
        return None
    with app.app_context():
        return audio.text_of(parse_qs(parts.query).get("say", [""])[0])


def heard(app, root: ET.Element) -> list[str]:
    """What the caller hears, in order: each <Say>'s text, the engine text of each rendered <Play>,
    "[audio URL]" for any other <Play> (a recording)."""
    return [rendered_text(app, text.removeprefix("[audio ").removesuffix("]")) or text
            if text.startswith("[audio ") else text for text in texts(root)]


def hears(app, lang: str, key: str, **fields) -> str:
    """What `heard` gives for prompt `key` in `lang`: the display text of a language with a voice,
    the engine's text ([<lang>.engine] or display) of one without."""
    catalogue = services_of(app).catalogue
    if catalogue.language(lang).voice:
        return catalogue.prompt(lang, key, **fields)
    return engine_prompts.engine_text(catalogue, lang, key, fields)


def hears_parts(app, lang: str, key: str, **fields) -> list[str]:
    """Like `hears`, but the list of texts a voiceless language's prompt is cut into around a
    caller's digits (hotline.voice.speech.prompts.engine_fragments); [the display text] with a voice."""
    catalogue = services_of(app).catalogue
    if catalogue.language(lang).voice:
        return [catalogue.prompt(lang, key, **fields)]
    return engine_prompts.engine_fragments(catalogue, lang, key, fields)


def verbs(root: ET.Element) -> list[str]:
    """The top-level verbs of a TwiML answer, in order: ["Say", "Gather"]."""
    return [child.tag for child in root]


def attempt_of(gather: ET.Element) -> int:
    """The `attempt` query parameter of a menu's action URL."""
    return int(parse_qs(urlsplit(gather.attrib["action"]).query)["attempt"][0])


def route(twilio: Twilio, language: str = "en", topic: str = "health", **call_kwargs) -> CallerLeg:
    """A new call that chose `language` and `topic` on the keypad; its last TwiML is the routing."""
    call = new_call(twilio, **call_kwargs)
    call.ring()
    call.press(LANGUAGE_KEYS[language])
    call.press(TOPIC_KEYS[topic])
    return call


def dialled(call: CallerLeg) -> str | None:
    """The consultant's number in the last TwiML's <Dial>, or None when nobody is dialled."""
    number = call.last.find("Dial/Number")
    return None if number is None else number.text


def answer_and_press(call: CallerLeg, digits: str | None) -> ET.Element:
    """The dialled consultant picks up, hears the whisper and presses `digits` (None: nothing)."""
    leg = ConsultantLeg.from_dial(call)
    leg.answer()
    return leg.press(digits)


def hang_up(call: CallerLeg, duration: int = 60) -> None:
    """Twilio's final status callback for the caller's leg."""
    status, body = call.hang_up(STATUS_URL, duration=duration)
    assert status == 200 and ET.fromstring(body).tag == "Response"


def stored_call(db, call: CallerLeg) -> Call:
    db.expire_all()
    return db.scalar(select(Call).where(Call.call_sid == call.call_sid))


def journal(db, call: CallerLeg) -> list[tuple[str, str | None, int | None]]:
    """The call's journal as (kind, detail, consultant id), in order."""
    db.expire_all()
    events = db.scalars(
        select(CallEvent).join(Call).where(Call.call_sid == call.call_sid).order_by(CallEvent.id)
    )
    return [(event.kind, event.detail, event.consultant_id) for event in events]


def offered_to(db, call: CallerLeg) -> list[int]:
    """The consultants the call was offered to, in order."""
    return [consultant for kind, _, consultant in journal(db, call) if kind == "offered"]


def record_of(db, call: CallerLeg) -> ConsultationRecord | None:
    db.expire_all()
    return db.scalar(select(ConsultationRecord).join(Call).where(Call.call_sid == call.call_sid))


def status_of(db, staff: Staff) -> tuple[str, str | None]:
    """A consultant's status and the call they hold, as stored now."""
    db.expire_all()
    fresh = db.get(Staff, staff.id)
    return fresh.status, fresh.current_call_sid


def record_prompt(app, name: str, lang: str = "fa") -> bytes:
    """Put a (fake) recording of prompt `name` where the app looks for it: the instance path comes
    from HOTLINE_INSTANCE_PATH, set per test by the app fixture."""
    folder = Path(app.instance_path) / "audio" / lang
    folder.mkdir(parents=True, exist_ok=True)
    content = f"ID3 fake mp3 of {name}".encode()
    (folder / f"{name}.mp3").write_bytes(content)
    return content
