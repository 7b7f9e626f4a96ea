"""A stand-in for Twilio's side of a call: signed webhook requests and the TwiML they return.

The tests drive whole calls with it (through Flask's test client) and `hotline phone` drives the
running service with it (over HTTP), so both exercise the webhooks exactly as Twilio would:
the same parameters, the same X-Twilio-Signature, the same URLs taken from the TwiML.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Protocol

import requests
from twilio.http import HttpClient
from twilio.http.response import Response as ApiResponse
from twilio.request_validator import RequestValidator


class Transport(Protocol):
    def __call__(self, url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]: ...


def new_sid(prefix: str = "CA") -> str:
    return prefix + secrets.token_hex(16)


def http_transport(timeout: float = 15.0) -> Transport:
    """A transport that POSTs each webhook as a form over HTTP, as Twilio does (for `hotline phone`).

    A fresh connection per request: nothing is left open between the turns of a call.
    """

    def transport(url: str, params: dict[str, str], headers: dict[str, str]) -> tuple[int, str]:
        response = requests.post(url, data=params, headers=headers, timeout=timeout)
        return response.status_code, response.text

    return transport


@dataclass
class Twilio:
    """Signs and sends webhook requests the way Twilio does."""

    transport: Transport
    auth_token: str
    account_sid: str = "AC" + "0" * 32

    def request(self, url: str, params: dict[str, str], signed: bool = True) -> tuple[int, str]:
        params = {k: v for k, v in params.items() if v is not None}
        headers = {}
        if signed:
            headers["X-Twilio-Signature"] = RequestValidator(self.auth_token).compute_signature(url, params)
        return self.transport(url, params, headers)

    def twiml(self, url: str, params: dict[str, str]) -> ET.Element:
        """POST and parse the TwiML answer; anything but 200 with a <Response> is an error."""
        status, body = self.request(url, params)
        if status != 200:
            raise AssertionError(f"{url} answered {status}: {body[:300]}")
        root = ET.fromstring(body)
        if root.tag != "Response":
            raise AssertionError(f"{url} answered no <Response>: {body[:300]}")
        return root


def spoken(root: ET.Element) -> list[str]:
    """Every <Say> text and <Play> URL in the TwiML, in order."""
    return [(el.text or "") if el.tag == "Say" else f"[audio {el.text}]"
            for el in root.iter() if el.tag in ("Say", "Play")]


@dataclass
class CallerLeg:
    """One inbound call as Twilio runs it: tracks the last TwiML and follows its actions."""

    twilio: Twilio
    voice_url: str
    caller: str = "+359888123456"
    called: str = "+35924916000"
    call_sid: str = field(default_factory=new_sid)
    last: ET.Element | None = None
    on_twiml: Callable[[ET.Element], None] | None = None

    def base_params(self, **extra: str) -> dict[str, str]:
        params = {"CallSid": self.call_sid, "AccountSid": self.twilio.account_sid, "From": self.caller,
                  "To": self.called, "CallStatus": "in-progress", "ApiVersion": "2010-04-01",
                  "Direction": "inbound"}
        params.update(extra)
        return params

    def _follow(self, url: str, **extra: str) -> ET.Element:
        self.last = self.twilio.twiml(url, self.base_params(**extra))
        if self.on_twiml:
            self.on_twiml(self.last)
        return self.last

    def ring(self) -> ET.Element:
        return self._follow(self.voice_url, CallStatus="ringing")

    def follow(self, url: str, **extra: str) -> ET.Element:
        """Request `url` (an action or redirect of the TwiML) for this call; returns its TwiML."""
        return self._follow(url, **extra)

    def gather(self) -> ET.Element:
        found = self.last.find("Gather") if self.last is not None else None
        if found is None:
            raise AssertionError("the last TwiML has no <Gather>")
        return found

    def press(self, digits: str) -> ET.Element:
        return self._follow(self.gather().attrib["action"], Digits=digits)

    def say(self, speech: str, confidence: str = "0.9") -> ET.Element:
        return self._follow(self.gather().attrib["action"], SpeechResult=speech, Confidence=confidence)

    def silence(self) -> ET.Element:
        """No input: a <Gather> without actionOnEmptyResult falls through to the next verb; the
        first with it (Twilio still requests its action) ends the silence."""
        self.gather()
        verbs = list(self.last)
        for verb in verbs[verbs.index(self.gather()):]:
            if verb.tag != "Gather":
                break
            if verb.attrib.get("actionOnEmptyResult") == "true":
                return self._follow(verb.attrib["action"])
        raise AssertionError("silence would fall through the Gather")

    def gather_in(self, language: str) -> ET.Element:
        """The <Gather> of the last TwiML that listens for speech in `language` (BCP-47)."""
        found = [g for g in self.last.iter("Gather") if g.attrib.get("language") == language]
        if len(found) != 1:
            raise AssertionError(f"the last TwiML has {len(found)} <Gather> listening in {language}")
        return found[0]

    def say_in(self, language: str, speech: str, confidence: str = "0.9") -> ET.Element:
        """Speech heard by the <Gather> that listens in `language` (BCP-47)."""
        return self._follow(self.gather_in(language).attrib["action"], SpeechResult=speech,
                            Confidence=confidence)

    def dial(self) -> ET.Element:
        found = self.last.find("Dial") if self.last is not None else None
        if found is None:
            raise AssertionError("the last TwiML has no <Dial>")
        return found

    def dialled_number(self) -> str:
        return self.dial().find("Number").text

    def dial_ends(self, status: str, duration: int = 0, bridged: bool = False) -> ET.Element:
        """The <Dial> is over: Twilio requests its action with the outcome of the other leg."""
        return self._follow(self.dial().attrib["action"], DialCallStatus=status, DialCallSid=new_sid(),
                            DialCallDuration=str(duration), DialBridged="true" if bridged else "false")

    def hang_up(self, status_url: str, duration: int = 60) -> tuple[int, str]:
        params = self.base_params(CallStatus="completed", CallDuration=str(duration),
                                  CallbackSource="call-progress-events", SequenceNumber="0")
        return self.twilio.request(status_url, params)


@dataclass
class ConsultantLeg:
    """The consultant's phone rung by a <Dial><Number url=...>: hears the whisper, presses keys."""

    twilio: Twilio
    whisper_url: str
    parent: CallerLeg
    number: str
    call_sid: str = field(default_factory=new_sid)
    last: ET.Element | None = None

    def params(self, **extra: str) -> dict[str, str]:
        params = {"CallSid": self.call_sid, "ParentCallSid": self.parent.call_sid,
                  "AccountSid": self.twilio.account_sid, "From": self.parent.called, "To": self.number,
                  "CallStatus": "in-progress", "Direction": "outbound-dial", "ApiVersion": "2010-04-01"}
        params.update(extra)
        return params

    def answer(self) -> ET.Element:
        self.last = self.twilio.twiml(self.whisper_url, self.params())
        return self.last

    def press(self, digits: str | None) -> ET.Element:
        gather = self.last.find("Gather")
        if gather is None:
            raise AssertionError("the whisper has no <Gather>")
        self.last = self.twilio.twiml(gather.attrib["action"],
                                      self.params(**({"Digits": digits} if digits else {})))
        return self.last

    @classmethod
    def from_dial(cls, caller: CallerLeg) -> "ConsultantLeg":
        number = caller.dial().find("Number")
        return cls(caller.twilio, number.attrib["url"], caller, number.text)


@dataclass
class ApiRequest:
    method: str
    path: str
    data: dict[str, str]
    sid: str | None = None  # the call's sid, created or updated


_CALLS = re.compile(r"/Accounts/(?P<account>AC\w+)/Calls(?:/(?P<sid>CA\w+))?\.json$")


class FakeTwilioApi(HttpClient):
    """Twilio's REST API as far as Hotline uses it (creating, updating and fetching calls, sending
    SMS), answering as Twilio does and keeping every request for the test to read and act on.
    `refuse` makes the next requests fail with Twilio's error for a call that cannot be changed.
    A call fetched is in progress unless ended() said otherwise."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("twilio_stand_in.api"), is_async=False)
        self.requests: list[ApiRequest] = []
        self.refuse = 0
        self.call_states: dict[str, tuple[str, int | None]] = {}  # sid -> (status, duration seconds)
        self._lock = threading.Lock()

    def ended(self, call_sid: str, status: str = "completed", duration: int | None = 0) -> None:
        """From now on Twilio says call `call_sid` ended with `status` after `duration` seconds."""
        self.call_states[call_sid] = (status, duration)

    def _fetched(self, account: str, sid: str) -> ApiResponse:
        status, duration = self.call_states.get(sid, ("in-progress", None))
        return ApiResponse(200, json.dumps({
            "sid": sid, "account_sid": account, "status": status, "api_version": "2010-04-01",
            "duration": None if duration is None else str(duration),
            "uri": f"/2010-04-01/Accounts/{account}/Calls/{sid}.json"}))

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> ApiResponse:
        path = uri.split("://", 1)[-1].partition("/")[2]
        data = {key: str(value) for key, value in (data or {}).items()}
        match = _CALLS.search("/" + path)
        sid = (match["sid"] or new_sid()) if match else None
        with self._lock:
            self.requests.append(ApiRequest(method, "/" + path, data, sid))
            if self.refuse:
                self.refuse -= 1
                return ApiResponse(400, json.dumps({"code": 21220,
                                                    "message": "Call is not in-progress. Cannot redirect.",
                                                    "status": 400,
                                                    "more_info": "https://www.twilio.com/docs/errors/21220"}))
        if method == "POST" and "/Messages.json" in path:
            return ApiResponse(201, json.dumps({"sid": new_sid("SM"), "status": "queued",
                                                "to": data.get("To"), "from": data.get("From"),
                                                "body": data.get("Body"),
                                                "api_version": "2010-04-01"}))
        if method == "GET" and match is not None and match["sid"]:
            return self._fetched(match["account"], match["sid"])
        if method != "POST" or match is None:
            return ApiResponse(404, json.dumps({"code": 20404,
                                                "message": "The requested resource was not found",
                                                "status": 404}))
        body = {"sid": sid, "account_sid": match["account"], "to": data.get("To"), "from": data.get("From"),
                "status": data.get("Status") or "queued", "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{match['account']}/Calls/{sid}.json"}
        return ApiResponse(200 if match["sid"] else 201, json.dumps(body))

    def created_calls(self) -> list[ApiRequest]:
        """The calls Hotline asked Twilio to place, oldest first, each with the sid Twilio gave."""
        return [r for r in self.requests if r.method == "POST" and r.path.endswith("/Calls.json")]

    def updates_of(self, call_sid: str) -> list[dict[str, str]]:
        return [r.data for r in self.requests
                if r.method == "POST" and r.path.endswith(f"/Calls/{call_sid}.json")]
