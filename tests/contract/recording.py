"""Twilio's own HTTP client, recording each exchange with the REST API for a test to read."""
from __future__ import annotations

import json
from dataclasses import dataclass

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

from hotline.dev.twilio_stand_in import ApiRequest


@dataclass
class Exchange(ApiRequest):
    """One request Hotline made to the mock, and the mock's answer. `sid` is the call's sid: the
    one Prism returned for a created call, the one in the path for an update."""

    status: int = 0
    answer: dict | None = None


class RecordingHttpClient(TwilioHttpClient):
    """Twilio's own HTTP client, sending every request to the mock over HTTP as in production, and
    keeping each exchange for the test to read (the Url of a leg Twilio would request, the sid)."""

    def __init__(self) -> None:
        super().__init__(pool_connections=True, timeout=10)
        self.exchanges: list[Exchange] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False) -> Response:
        response = super().request(method, url, params, data, headers, auth, timeout, allow_redirects)
        try:
            answer = json.loads(response.text)
        except ValueError:
            answer = None
        path = "/" + url.split("://", 1)[-1].partition("/")[2]
        sid = None
        if "/Calls" in path:
            sid = path.rsplit("/", 1)[-1].removesuffix(".json") if "/Calls/" in path else None
            if sid is None and response.status_code == 201 and isinstance(answer, dict):
                sid = answer.get("sid")
        self.exchanges.append(Exchange(method, path, {k: str(v) for k, v in (data or {}).items()}, sid,
                                       response.status_code, answer))
        return response

    def created_calls(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.path.endswith("/Calls.json")]

    def updates_of(self, call_sid: str) -> list[Exchange]:
        path = f"/Calls/{call_sid}.json"
        return [e for e in self.exchanges if e.method == "POST" and e.path.endswith(path)]

    def messages(self) -> list[Exchange]:
        return [e for e in self.exchanges if e.method == "POST" and e.path.endswith("/Messages.json")]
