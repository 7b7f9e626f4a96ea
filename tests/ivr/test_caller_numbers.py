"""Caller numbers are personal data: stored in E.164 (None when withheld), and never written to
the logs in any form, whatever happens during the call."""
from __future__ import annotations

import logging
import re

import pytest

from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import BURGAS_NUMBER, answer_and_press, hang_up, route, stored_call

NUMBER = "+359888123456"
FORMS = ["+359888123456", "359888123456", "0888123456", "888123456", "0888 123 456", "888 123 456"]


@pytest.mark.parametrize("raw, stored", [
    ("0888 123 456", NUMBER), ("+359 888 123 456", NUMBER), ("00359888123456", NUMBER), (NUMBER, NUMBER),
    ("02 987 6543", "+35929876543"), ("+380501234567", "+380501234567"),
])
def test_caller_numbers_are_stored_in_e164(db, twilio, raw, stored):
    call = new_call(twilio, caller=raw)
    call.ring()
    assert stored_call(db, call).caller_number == stored


@pytest.mark.parametrize("raw", ["anonymous", "unknown", "Restricted", "", "abc", "112"])
def test_withheld_or_unusable_numbers_are_stored_as_none_and_the_call_goes_on(db, twilio, raw):
    call = new_call(twilio, caller=raw)
    assert call.ring().find("Gather") is not None
    assert stored_call(db, call).caller_number is None


def test_the_called_number_is_stored_in_e164_and_picks_the_office(db, twilio):
    call = new_call(twilio, called="056 916 000")
    call.ring()
    stored = stored_call(db, call)
    assert (stored.called_number, stored.office_code) == (BURGAS_NUMBER, "burgas")


def test_no_form_of_the_caller_number_reaches_the_logs_during_a_whole_call(app, db, twilio, caplog):
    caplog.set_level(logging.DEBUG)
    add_consultant(app, db, "Logged")
    call = route(twilio, caller="0888 123 456")
    answer_and_press(call, "1")
    call.dial_ends("completed", duration=90, bridged=True)
    hang_up(call, duration=100)
    assert call.call_sid in caplog.text  # the call was logged, only not its number
    assert [form for form in FORMS if form in caplog.text] == []
    assert "888123456" not in re.sub(r"\D", "", caplog.text)


def test_a_failing_webhook_does_not_log_the_caller_number(app, twilio, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("ivr.flow.on_language", broken)
    call = new_call(twilio, caller="0888 123 456")
    call.ring()
    call.press("2")  # answered with the apology, and the fault logged
    assert "webhook /ivr/language failed" in caplog.text
    assert [form for form in FORMS if form in caplog.text] == []


def test_a_database_error_does_not_log_the_caller_number(app, backend, twilio, caplog, monkeypatch):
    """A database error's message carries the statement's parameters unless the engine hides them."""
    caplog.set_level(logging.DEBUG)
    # A call sid longer than the column, let through to the database (the webhooks drop it otherwise).
    monkeypatch.setattr("hotline.telephony.CALL_SID", re.compile(".*"))
    call = new_call(twilio, caller=FORMS[0], call_sid="CA" + "f" * 98)
    status, body = twilio.request(call.voice_url, call.base_params())
    assert status == 200 and "<Response" in body
    if backend == "real":  # PostgreSQL enforces the column's length; SQLite does not
        assert "webhook /ivr/voice failed" in caplog.text
    assert [form for form in FORMS if form in caplog.text] == []
