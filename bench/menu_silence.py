"""What the language menu costs a caller in time: the plain menu (one <Gather> in the default
language's locale) against the per-locale menu given after speech it could not place (one <Gather>
per option, each listening in its own language).

Computed, not timed: it builds both menus' TwiML with the configured catalogue (HOTLINE_CONFIG if
set) and adds up the <Gather> timeouts a silent caller sits through, and the prompts' spoken length
estimated at --chars-per-second (about 14 for Twilio's voices at normal rate: 150 words a minute).
A <Play>ed recording counts --play-seconds. Twilio's speechTimeout="auto" (the pause that ends an
answer) is the same in both menus and left out.

    .venv/bin/python bench/menu_silence.py [--chars-per-second 14] [--play-seconds 2.5]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twilio.twiml.voice_response import VoiceResponse  # noqa: E402

from bench.stand_ins import TwilioStandIn, hotline_env, in_process_app  # noqa: E402
from ivr.menus import language_menu  # noqa: E402


def _menu(app, each_locale: bool) -> ET.Element:
    with app.test_request_context("/ivr/language"):
        resp = VoiceResponse()
        language_menu(resp, attempt=1, each_locale=each_locale)
        return ET.fromstring(str(resp))


def _timeline(menu: ET.Element, chars_per_second: float, play_seconds: float) -> tuple[list, float, float]:
    """([(seconds from the menu's start to the end of each option, the locale it listens in)],
    seconds spoken, seconds of silence a silent caller sits through)."""
    ends, clock, silence = [], 0.0, 0.0
    for gather in menu.iter("Gather"):
        for verb in gather:
            clock += (len(verb.text or "") / chars_per_second) if verb.tag == "Say" else play_seconds
            ends.append((clock, gather.attrib["language"]))
        silence += float(gather.attrib["timeout"])
        clock += float(gather.attrib["timeout"])
    return ends, clock - silence, silence


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars-per-second", type=float, default=14.0)
    parser.add_argument("--play-seconds", type=float, default=2.5)
    args = parser.parse_args()
    config = os.environ.get("HOTLINE_CONFIG")  # None: the packaged configuration
    with tempfile.TemporaryDirectory() as instance, TwilioStandIn() as api:
        app = in_process_app(hotline_env(f"sqlite:///{instance}/bench.db", api.url, config=config,
                                         instance=instance))
        menus = {name: _timeline(_menu(app, each), args.chars_per_second, args.play_seconds)
                 for name, each in (("plain", False), ("per-locale", True))}
    print(f"speech estimated at {args.chars_per_second:g} characters/s, a recording {args.play_seconds:g} s")
    print(f"{'menu':<12} {'spoken s':>9} {'silence s':>10} {'total s':>8}")
    for name, (_, spoken, silence) in menus.items():
        print(f"{name:<12} {spoken:>9.1f} {silence:>10.0f} {spoken + silence:>8.1f}")
    extra = menus["per-locale"][2] - menus["plain"][2]
    print(f"extra silence of the per-locale menu: {extra:.0f} s")
    print(f"{'option':<7} {'listens in':<10} {'ends, plain s':>14} {'per-locale s':>13} {'later by s':>11}")
    pairs = zip(menus["plain"][0], menus["per-locale"][0], strict=True)
    for number, ((plain_end, _), (locale_end, locale)) in enumerate(pairs, start=1):
        later = locale_end - plain_end
        print(f"{number:<7} {locale:<10} {plain_end:>14.1f} {locale_end:>13.1f} {later:>11.1f}")


if __name__ == "__main__":
    main()
