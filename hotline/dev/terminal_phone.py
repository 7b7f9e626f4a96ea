"""`hotline phone`: a terminal telephone that calls the running service the way Twilio does.

It plays both ends of a call. The caller hears each <Say> as text (with its language) and each
<Play> as its URL, and answers a <Gather> from the keyboard. When a <Dial><Number url=...> rings
a consultant, it plays the consultant's phone too: the whisper, then the key that accepts.
Requests are signed like Twilio's and every URL is the one the service put in its TwiML, so the
service is exercised exactly as in production. `ask` and `show` are parameters so that tests can
script a whole call.
"""
from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable

import requests

from hotline.dev.twilio_stand_in import CallerLeg, ConsultantLeg, Twilio, http_transport
from hotline.settings import Settings

Ask = Callable[[str], str]
Show = Callable[[str], None]

DEFAULT_CALLER = "+359888123456"
DEFAULT_URL = "http://127.0.0.1:5000"
HANG_UP = "h"
KEYS = "0123456789*#"
CALLER_HELP = "At a menu type a key (0-9 * #), 's <words>' to speak, Enter for silence, 'h' to hang up."
CALLER_PROMPT = "caller> "
CONSULTANT_PROMPT = "consultant (1 accepts, another key declines, Enter = no answer)> "
END = object()  # a verb's answer meaning "the call is over"
LEAVE = object()  # <Leave>: out of the queue, on to the <Enqueue> action


class PhoneError(Exception):
    """The service could not be called, or answered something that is not TwiML."""


class HungUp(Exception):
    """The caller hung up: typed 'h', or the input ended."""


def env_defaults() -> Settings:
    """The settings the service would read from this environment: the phone's defaults."""
    return Settings.from_env(instance_path="")


@dataclass
class TerminalPhone:
    """Runs one call: interprets the TwiML of the caller's leg until a <Hangup> or its end."""

    twilio: Twilio
    caller: CallerLeg
    status_url: str
    ask: Ask
    show: Show
    clock: Callable[[], float] = time.monotonic
    # The service's record of what it asked Twilio's REST API (hotline.dev.stand_in_views), when the REST API
    # is its built-in stand-in: consultants it rings for a waiting caller are played here too.
    rest_requests_url: str | None = None
    _rest_seen: int = 0  # the stand-in's requests already acted on
    _rest_leg: tuple[dict, ConsultantLeg] | None = None  # the REST-rung consultant now in the call

    def run(self) -> None:
        started = self.clock()
        self.show(f"calling {self.caller.called} from {self.caller.caller}")
        try:
            document: ET.Element | None = self.caller.ring()
            while document is not None:
                document = self.play(document)
        except HungUp:
            self.show("you hung up")
        duration = int(self.clock() - started)
        status, _ = self.caller.hang_up(self.status_url, duration=duration)
        note = "" if status == 200 else f" (the status callback answered {status})"
        self.show(f"call ended after {duration}s{note}")

    def play(self, document: ET.Element) -> ET.Element | None:
        """Run a TwiML document's verbs in order; the next document to run, or None at the end."""
        handlers = {"Say": self._announce, "Play": self._announce, "Pause": self._pause,
                    "Gather": self._gather, "Dial": self._dial, "Redirect": self._redirect,
                    "Hangup": self._end, "Reject": self._end, "Enqueue": self._enqueue, "Leave": self._leave}
        for verb in document:
            handler = handlers.get(verb.tag)
            if handler is None:
                self.show(f"(<{verb.tag}> is not simulated: skipped)")
                continue
            answer = handler(verb)
            if answer is END:
                return None
            if answer is LEAVE:
                return LEAVE
            if answer is not None:
                return answer
        return None  # Twilio hangs up at the end of a document

    def _announce(self, element: ET.Element, who: str = "caller") -> None:
        """Show every <Say> and <Play> in `element` (itself included), as `who` hears it."""
        for item in element.iter():
            if item.tag == "Say":
                self.show(f"{who} hears [{item.get('language', '?')}] {(item.text or '').strip()}")
            elif item.tag == "Play":
                self.show(f"{who} hears [audio] {(item.text or '').strip()}")

    def _pause(self, verb: ET.Element) -> None:
        self.show(f"(pause {verb.get('length', '1')}s)")

    def _end(self, _verb: ET.Element) -> object:
        return END

    def _enqueue(self, verb: ET.Element) -> ET.Element | None:
        """Wait in the queue: the wait URL's TwiML turn after turn, until the caller leaves (a key,
        a limit), hangs up, or is put through. Between turns, a consultant the service rang through
        its REST API stand-in (rest_requests_url) answers here, and a caller it redirected into
        the bridge follows the redirect, as Twilio would."""
        self.show(f"(waiting in the queue {(verb.text or '').strip()})")
        wait_url, action = verb.get("waitUrl"), verb.get("action")
        try:
            while True:
                document = self.caller.follow(wait_url, QueueSid="QU" + "0" * 32, QueuePosition="1",
                                              QueueTime="0", AvgQueueTime="0", CurrentQueueSize="1")
                while document is not None and document is not LEAVE:
                    document = self.play(document)
                if document is LEAVE:
                    return self.caller.follow(action, QueueResult="leave", QueueTime="0") if action else None
                redirected = self._rest_calls()
                if redirected is not None:
                    if action:
                        self.caller.follow(action, QueueResult="redirected", QueueTime="0")
                    return self.caller.follow(redirected)
        except HungUp:
            if action:
                self.caller.follow(action, QueueResult="hangup", QueueTime="0")
            raise

    def _rest_calls(self) -> str | None:
        """Act on what the service asked the REST API since the last look: ring each consultant's
        phone it placed; return the URL it redirected this caller to, if it did."""
        if not self.rest_requests_url:
            return None
        status, body = self.twilio.request(self.rest_requests_url, {"after": str(self._rest_seen)})
        if status != 200:
            return None
        redirect = None
        for made in json.loads(body)["requests"]:
            self._rest_seen = made["index"] + 1
            data, path = made["data"], made["path"]
            if made["method"] == "POST" and path.endswith("/Calls.json") and data.get("Url"):
                self._rest_consultant(made["sid"], data)
            elif path.endswith(f"/Calls/{self.caller.call_sid}.json") and data.get("Url"):
                redirect = data["Url"]
        return redirect

    def _rest_consultant(self, sid: str, data: dict[str, str]) -> None:
        """A consultant's phone the service rang through the REST API: they answer, hear the
        whisper and press a key; a leg that does not end in the conference reports its end."""
        self.show(f"the consultant's phone {data.get('To')} is ringing")
        leg = ConsultantLeg(self.twilio, data["Url"], self.caller, data.get("To", ""), call_sid=sid)
        status, bridged = self._consultant(leg)
        self._rest_leg = (data, leg) if bridged else None
        if not bridged and data.get("StatusCallback"):
            self.twilio.request(data["StatusCallback"], leg.params(CallStatus=status))

    def _leave(self, _verb: ET.Element) -> object:
        return LEAVE

    def _redirect(self, verb: ET.Element) -> ET.Element:
        return self.caller.follow((verb.text or "").strip())

    def _read(self, prompt: str) -> str:
        try:
            return self.ask(prompt).strip()
        except (EOFError, KeyboardInterrupt):
            raise HungUp from None

    def _gather(self, gather: ET.Element) -> ET.Element | None:
        """Say the menu, read the caller's answer and request the action with it."""
        self._announce(gather)
        params = self._caller_input(gather)
        if params is None and gather.get("actionOnEmptyResult") != "true":
            self.show("(silence: Twilio goes on with the next verb)")
            return None
        action = gather.get("action")
        if not action:
            raise PhoneError("a <Gather> without an action URL is not simulated")
        return self.caller.follow(action, **(params or {}))

    def _caller_input(self, gather: ET.Element) -> dict[str, str] | None:
        """Digits or SpeechResult for the Gather's action; None for silence."""
        accepts = gather.get("input", "dtmf").split()
        while True:
            answer = self._read(CALLER_PROMPT)
            if answer.lower() == HANG_UP:
                raise HungUp
            if not answer:
                return None
            if answer.lower().startswith("s ") and "speech" in accepts:
                return {"SpeechResult": answer[2:].strip(), "Confidence": "0.9"}
            if all(key in KEYS for key in answer) and "dtmf" in accepts:
                limit = int(gather.get("numDigits", "0") or 0)
                return {"Digits": answer[:limit] if limit else answer}
            self.show(CALLER_HELP if "speech" in accepts else "At this menu type a key (0-9 * #) or Enter.")

    def _conference(self, dial: ET.Element) -> ET.Element | None:
        """In the conference with the consultant who accepted: talk until Enter, then the Dial's
        action; the consultant's leg (rung through the REST API) reports its end."""
        talk = self._conversation()
        rung = self._rest_leg
        if rung is not None and rung[0].get("StatusCallback"):
            self.twilio.request(rung[0]["StatusCallback"], rung[1].params(CallStatus="completed"))
            self._rest_leg = None
        action = dial.get("action")
        if not action:
            return None
        return self.caller.follow(action, DialCallStatus="completed", DialCallDuration=str(talk))

    def _dial(self, dial: ET.Element) -> ET.Element | None:
        """Ring the consultant (the first <Number>), play their side, then request the Dial action;
        or join the <Conference> a consultant who accepted from the queue waits in."""
        if dial.find("Conference") is not None:
            return self._conference(dial)
        number = dial.find("Number")
        if number is None:
            self.show("(a <Dial> without a <Number> is not simulated: skipped)")
            return None
        leg = ConsultantLeg(self.twilio, number.get("url", ""), self.caller, (number.text or "").strip())
        self.show(f"the consultant's phone {leg.number} is ringing")
        status, bridged = self._consultant(leg) if leg.whisper_url else ("completed", True)
        talk = self._conversation() if bridged else 0
        action = dial.get("action")
        if not action:
            return None  # without an action Twilio goes on with the next verb
        return self.caller.follow(action, DialCallStatus=status, DialCallSid=leg.call_sid,
                                  DialCallDuration=str(talk), DialBridged="true" if bridged else "false")

    def _consultant(self, leg: ConsultantLeg) -> tuple[str, bool]:
        """The consultant picks up, hears the whisper and presses a key: (DialCallStatus, bridged)."""
        document = leg.answer()
        self._announce(document, "consultant")
        key = ""
        if document.find("Gather") is not None:
            key = self._read(CONSULTANT_PROMPT)
            while not all(digit in KEYS for digit in key):
                key = self._read(CONSULTANT_PROMPT)
            # With actionOnEmptyResult (as the service sends) Twilio requests the action on silence too.
            document = leg.press(key or None)
            self._announce(document, "consultant")
        if document.find("Hangup") is None:
            return "completed", True  # the end of the whisper's TwiML bridges the two legs
        if not key:
            return "no-answer", False
        # Twilio reports a callee who answered, then hung up in the whisper, as completed, not bridged.
        return "completed", False

    def _conversation(self) -> int:
        """Caller and consultant talk until Enter; returns the seconds they talked."""
        self.show("connected — press Enter to hang up")
        started = self.clock()
        try:
            self.ask("")
        except (EOFError, KeyboardInterrupt):
            pass
        return int(self.clock() - started)


def run_call(twilio: Twilio, voice_url: str, status_url: str, ask: Ask = input, show: Show = print,
             caller: str = DEFAULT_CALLER, called: str = "+35924916000",
             clock: Callable[[], float] = time.monotonic, rest_requests_url: str | None = None) -> CallerLeg:
    """Place one call to `voice_url` and play it through with `ask` and `show`; returns the caller's
    leg. With `rest_requests_url` (the service's hotline.dev.stand_in_views), consultants rung for a waiting
    caller through the REST API are played too."""
    leg = CallerLeg(twilio, voice_url, caller=caller, called=called)
    TerminalPhone(twilio, leg, status_url, ask, show, clock, rest_requests_url).run()
    return leg


def call_service(base_url: str, caller: str, called: str, auth_token: str, ask: Ask = input,
                 show: Show = print) -> CallerLeg:
    """`hotline phone`: call the service at `base_url` over HTTP. Raises PhoneError for a
    service that cannot be reached or refuses the call."""
    base = base_url.rstrip("/")
    twilio = Twilio(http_transport(), auth_token)
    show(CALLER_HELP)
    try:
        return run_call(twilio, f"{base}/ivr/voice", f"{base}/ivr/status", ask, show, caller, called,
                        rest_requests_url=f"{base}/twilio-stand-in/requests")
    except requests.RequestException as error:
        problem = error.__class__.__name__
        raise PhoneError(f"cannot reach {base} ({problem}); is `hotline run` going?") from None
    except ET.ParseError as error:
        raise PhoneError(f"the service answered something that is not TwiML: {error}") from None
    except AssertionError as error:
        # The simulator reports a refusal (403 for a bad signature) as an AssertionError.
        status = re.search(r"answered (\d+)", str(error))
        what = f"answered HTTP {status.group(1)}" if status else str(error)
        raise PhoneError(f"the service {what}. Is --auth-token its TWILIO_AUTH_TOKEN, and --url the "
                         "address it gives Twilio (its PUBLIC_BASE_URL, if set)?") from None
