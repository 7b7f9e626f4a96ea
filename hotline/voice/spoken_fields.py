"""Prompt fields for hotline.voice.speaking.speak that word a value in whichever language the prompt ends up
spoken in (a voiceless language's prompt may be said in its fallback): each returns a function of
that language. The wording itself is hotline.voice.spoken's, through the catalogue.
"""
from __future__ import annotations

from datetime import time
from typing import Callable

from hotline import runtime


def minutes(count: int) -> Callable[[str], str]:
    """`count` minutes in the CLDR plural form of the spoken language ("5 минут")."""
    return lambda lang: runtime.catalogue().minutes(lang, count)


def clock_time(at: time) -> Callable[[str], str]:
    """The time of day `at` as said in the spoken language ("9 часа", "5:30 p.m.")."""
    return lambda lang: runtime.catalogue().clock_time(lang, at)


def other_languages(caller_language: str) -> Callable[[str], str]:
    """The queue's other languages but the caller's own ("English or Bulgarian"; only "Bulgarian"
    to an English caller), as said in the spoken language."""
    return lambda lang: runtime.catalogue().other_languages(lang, caller_language)
