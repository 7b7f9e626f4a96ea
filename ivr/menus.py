"""The spoken menus: the language menu (each option in its own language) and the topic menu."""
from __future__ import annotations

from twilio.twiml.voice_response import Gather, VoiceResponse

from hotline import services
from hotline.telephony import external_url
from hotline.voice import speak


def _gather(resp: VoiceResponse, endpoint: str, attempt: int, speech_language: str,
            hints: list[str]) -> Gather:
    catalogue = services.catalogue()
    gather = Gather(
        input="dtmf speech", num_digits=1, timeout=catalogue.menu_timeout, speech_timeout="auto",
        action=external_url(endpoint, attempt=attempt), method="POST", action_on_empty_result=True,
        language=speech_language, hints=", ".join(hints)[:500],
    )
    resp.append(gather)
    return gather


def language_menu(resp: VoiceResponse, attempt: int) -> None:
    catalogue = services.catalogue()
    default = catalogue.language(catalogue.default_language)
    hints = [catalogue.term(lang.code, "languages", lang.code) for lang in catalogue.languages]
    gather = _gather(resp, "ivr.language", attempt, default.speech, hints)
    for lang in catalogue.languages:
        speak(gather, lang.code, "language_option", recording="language_option",
              digit=lang.digit,
              language=lambda spoken, code=lang.code: catalogue.term(spoken, "languages", code))


def topic_menu(resp: VoiceResponse, lang: str, attempt: int) -> None:
    catalogue = services.catalogue()
    hints = [catalogue.term(lang, "topics", topic.code) for topic in catalogue.topics]
    gather = _gather(resp, "ivr.topic", attempt, catalogue.language(lang).speech, hints)
    speak(gather, lang, "topic_intro")
    for topic in catalogue.topics:
        speak(gather, lang, "topic_option", recording=f"topic_option-{topic.code}", digit=topic.digit,
              topic=lambda spoken, code=topic.code: catalogue.term(spoken, "topics", code))
