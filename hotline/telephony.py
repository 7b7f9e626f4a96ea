"""Twilio helpers: webhook signature checks, URLs Twilio can reach, TwiML responses, REST client."""
from __future__ import annotations

import functools
import hmac
import logging
import re
from typing import Callable

from flask import Blueprint, Request, Response, abort, current_app, has_request_context, request, url_for
from requests.exceptions import RequestException
from twilio.base.exceptions import TwilioException
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.datastructures import CombinedMultiDict, ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException

from hotline import runtime

log = logging.getLogger(__name__)

# A call's sid: "CA" and 32 hexadecimal digits (https://www.twilio.com/docs/glossary/what-is-a-sid).
CALL_SID = re.compile(r"CA[0-9a-fA-F]{32}")
# The parameters that name a call (https://www.twilio.com/docs/voice/twiml#request-parameters,
# .../twiml/dial#dial-action-url-parameters): one not of that shape is not Twilio's, and is dropped.
CALL_SID_PARAMETERS = frozenset({"CallSid", "ParentCallSid", "DialCallSid"})
# Longer than any parameter Twilio sends (the longest, SpeechResult, transcribes one utterance).
MAX_PARAMETER_LENGTH = 4096


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` as Twilio must call it: always built from PUBLIC_BASE_URL."""
    base = runtime.settings().public_base_url
    if not has_request_context():
        # A job (ringing a consultant) has no request to take a host from: the public base URL,
        # or localhost for a service run on this machine only.
        path = current_app.url_map.bind("localhost").build(endpoint, values)
        return (base or "http://localhost:5000") + path
    if base is None:
        return url_for(endpoint, _external=True, **values)
    return base + url_for(endpoint, **values)


def requested_url(current: Request | None = None) -> str:
    """The URL Twilio requested and signed, of `current` (by default the request being answered).
    Behind a TLS-terminating proxy request.url says http://internal-host/..., so the public base
    URL is put back in front of the path."""
    current = request._get_current_object() if current is None else current
    base = runtime.settings().public_base_url
    if base is None:
        return current.url
    query = current.query_string.decode()
    return base + current.path + (f"?{query}" if query else "")


def signature_is_valid() -> bool:
    """True if X-Twilio-Signature is Twilio's HMAC of this request's public URL and its form.

    Twilio signs the URL followed by each POST parameter's name and value, names sorted, and for a
    repeated name each of its values (https://www.twilio.com/docs/usage/security#validating-requests).
    RequestValidator reads every value of a name from a MultiDict (getlist), so it is given the
    form itself: flattened to a dict it keeps one value, or, given a list, cannot hash it."""
    current = request._get_current_object()  # read through the proxy once, not at each use
    signature = current.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    params = current.form if current.method == "POST" else {}
    validator = RequestValidator(runtime.settings().twilio_auth_token)
    url = requested_url(current)
    # Twilio signs the URL as configured, which is the one requested: one HMAC settles nearly every
    # request. validate() computes two every time (the URL with and without its port, since Twilio
    # has signed either), so it is asked only when that one does not match.
    if hmac.compare_digest(validator.compute_signature(url, params), signature):
        return True
    return validator.validate(url, params, signature)


def twilio_webhook(view: Callable) -> Callable:
    """Refuse (403) any request not signed by Twilio with our auth token; give the view a request
    whose parameters the database can store (see clean_parameters)."""

    @functools.wraps(view)
    def checked(*args, **kwargs):
        if not signature_is_valid():
            log.warning("refused unsigned or forged request to %s", request.path)
            abort(403)
        clean_parameters()
        return view(*args, **kwargs)

    return checked


def clean_parameters() -> None:
    """Replace the request's args, form and values by cleaned copies, after the signature was
    checked over what Twilio sent. PostgreSQL refuses a NUL in text and a value longer than its
    column, so: a call sid (CallSid, ParentCallSid, DialCallSid) not of Twilio's shape is dropped,
    and the view answers as for a request without it; NULs are removed from every other name and
    value, and each value is cut to MAX_PARAMETER_LENGTH. Columns shorter than that are fitted
    where the value is stored. A request with nothing to clean (nearly every one) keeps its own."""
    current = request._get_current_object()
    if _is_clean(current.args) and _is_clean(current.form):
        return
    current.args = _cleaned(current.args)
    current.form = _cleaned(current.form)
    # As werkzeug builds values: a GET's body is ignored.
    sources = [current.args] if current.method == "GET" else [current.args, current.form]
    current.values = CombinedMultiDict(sources)


def _is_clean(params: MultiDict) -> bool:
    """Whether _cleaned would give `params` back unchanged."""
    for name, value in params.items(multi=True):
        if ("\x00" in name or "\x00" in value or len(value) > MAX_PARAMETER_LENGTH
                or (name in CALL_SID_PARAMETERS and not CALL_SID.fullmatch(value))):
            return False
    return True


def _cleaned(params: MultiDict) -> ImmutableMultiDict:
    cleaned = []
    for name, value in params.items(multi=True):
        if name in CALL_SID_PARAMETERS and not CALL_SID.fullmatch(value):
            log.warning("dropped %s of %d characters from %s: not a call sid", name, len(value), request.path)
            continue
        cleaned.append((name.replace("\x00", ""), value.replace("\x00", "")[:MAX_PARAMETER_LENGTH]))
    return ImmutableMultiDict(cleaned)


def answer_faults_with_twiml(blueprint: Blueprint, answer: Callable[[], VoiceResponse]) -> None:
    """The last resort of a blueprint of webhooks: a forged request keeps its 403; any other fault
    is logged, rolled back and answered with `answer()`'s TwiML. Twilio never gets a 500 or an
    empty body, which a caller hears as "an application error has occurred"."""

    @blueprint.errorhandler(Exception)
    def answer_with_twiml(error: Exception):
        if isinstance(error, HTTPException) and error.code == 403:
            return error
        log.exception("webhook %s failed", request.path)
        runtime.session().rollback()
        return twiml(answer())


def twiml(response: VoiceResponse | str) -> Response:
    """The HTTP answer of TwiML, or of TwiML's text (built once, see ivr.fixed_twiml)."""
    return Response(str(response), mimetype="text/xml")


# What a request to Twilio's REST API can fail with: Twilio's answer (TwilioRestException), or no
# answer at all (DNS, connection refused, timeout), which the requests library raises as its own.
TWILIO_ERRORS = (TwilioException, RequestException)


def rest_client() -> Client:
    """Twilio's REST client, pointed at TWILIO_API_BASE_URL (a mock in tests). Its HTTP client is
    the process's own, so requests reuse open connections (no TLS handshake per call)."""
    settings = runtime.settings()
    client = Client(settings.twilio_account_sid, settings.twilio_auth_token,
                    http_client=runtime.current().twilio_http or _http_client())
    client.api.base_url = settings.twilio_api_base_url
    return client


@functools.lru_cache(maxsize=1)
def _http_client() -> TwilioHttpClient:
    # A connection pool, not state: any process can make any request.
    return TwilioHttpClient(pool_connections=True, timeout=10)
