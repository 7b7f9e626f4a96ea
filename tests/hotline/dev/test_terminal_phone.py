"""`hotline phone`: whole calls played from a script, through the signed webhooks and over HTTP."""
from __future__ import annotations

import threading
from itertools import count

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from werkzeug.serving import make_server

from hotline.app import create_app
from hotline.cli import main
from hotline.dev.terminal_phone import run_call
from hotline.models import Call, CallEvent, ConsultationRecord, Staff
from tests.conftest import AUTH_TOKEN, services_of
from tests.support.helpers import STATUS_URL, VOICE_URL, add_consultant


class Script:
    """Answers the phone's prompts from a list; after the last answer the input ends (EOF)."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        return self.answers.pop(0)


def _events(db, call_sid: str) -> list[tuple[str, str | None]]:
    call = db.scalar(select(Call).where(Call.call_sid == call_sid))
    return [(e.kind, e.detail) for e in db.scalars(select(CallEvent).where(CallEvent.call_id == call.id)
                                                   .order_by(CallEvent.id))]


def test_whole_call_language_topic_accept_hang_up(app, db, twilio):
    consultant = add_consultant(app, db, "Maria", languages=["en", "bg"], topics=["health"])
    script, lines = Script("2", "3", "1", ""), []
    clock = count(0, 30)  # each reading of the clock is 30 s after the one before

    leg = run_call(twilio, VOICE_URL, STATUS_URL, ask=script, show=lines.append, clock=lambda: next(clock))

    assert script.answers == [] and len(script.prompts) == 4  # every answer used, no extra prompt
    assert "caller hears [en-GB] For English, press 2." in lines
    assert "caller hears [en-GB] For health, press 3." in lines
    assert f"the consultant's phone {consultant.phone} is ringing" in lines
    assert any(line.startswith("consultant hears [bg-BG]") and "Език: английски. Тема: здраве." in line
               for line in lines)
    connected = lines.index("connected — press Enter to hang up")
    assert lines[connected + 1] == "caller hears [en-GB] Thank you for calling. Goodbye."
    assert lines[-1] == "call ended after 90s"

    record = db.scalar(select(ConsultationRecord))
    assert (record.outcome, record.consultant_id, record.language_code, record.topic_code) == \
        ("answered", consultant.id, "en", "health")
    assert record.channel == "phone"
    stored = db.scalar(select(Call))
    assert stored.call_sid == leg.call_sid and stored.caller_number == "+359888123456"
    assert stored.duration_seconds == 90  # the CallDuration the phone reported
    assert [kind for kind, _ in _events(db, leg.call_sid)] == \
        ["incoming", "language", "topic", "offered", "accepted", "ended"]
    db.expire_all()
    assert db.get(Staff, consultant.id).status == "wrap_up"


def test_speech_silence_and_a_consultant_who_does_not_answer(app, db, twilio):
    first = add_consultant(app, db, "Ivan", languages=["en"], topics=["health"], idle_minutes=10)
    second = add_consultant(app, db, "Elena", languages=["en"], topics=["health"], idle_minutes=5)
    # English by speech, silence at the topic menu, then "health" by speech; Ivan (idle the
    # longest) lets it ring, Elena accepts.
    script, lines = Script("s English", "", "s health", "", "1", ""), []

    leg = run_call(twilio, VOICE_URL, STATUS_URL, ask=script, show=lines.append)

    assert "caller hears [en-GB] We did not hear a choice." in lines
    ringing = [line for line in lines if line.endswith("is ringing")]
    assert ringing == [f"the consultant's phone {first.phone} is ringing",
                       f"the consultant's phone {second.phone} is ringing"]
    assert "caller hears [en-GB] Please stay on the line. We are trying another consultant." in lines
    assert ("not_accepted", "no-answer") in _events(db, leg.call_sid)
    record = db.scalar(select(ConsultationRecord))
    assert (record.outcome, record.consultant_id, record.topic_code) == ("answered", second.id, "health")
    db.expire_all()
    assert db.get(Staff, first.id).status == "break"  # let it ring out: not rung again until back
    assert db.get(Staff, second.id).status == "wrap_up"


def test_consultant_declines_and_nobody_else_is_free_so_the_caller_waits_then_hangs_up(app, db, twilio):
    consultant = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    lines: list[str] = []

    # English, health, Maria declines with 7; in the queue the caller waits one turn, then hangs up.
    leg = run_call(twilio, VOICE_URL, STATUS_URL, ask=Script("2", "3", "7", "", "h"), show=lines.append)

    # Maria lists English only, so she is told in English (hotline.voice.speaking.staff_language).
    assert "consultant hears [en-GB] Call not accepted." in lines
    assert "connected — press Enter to hang up" not in lines
    assert "(waiting in the queue en-health)" in lines
    assert "caller hears [en-GB] You are number 1 in the queue." in lines
    events = _events(db, leg.call_sid)
    assert ("declined", None) in events and ("not_accepted", "completed") in events
    assert ("queued", "en-health") in events
    assert db.scalar(select(ConsultationRecord)).outcome == "abandoned"
    db.expire_all()
    assert db.get(Staff, consultant.id).status == "break"


@pytest.mark.parametrize("answers", [("h",), ()], ids=["h", "end-of-input"])
def test_caller_hangs_up_at_the_menu(app, db, twilio, answers):
    lines: list[str] = []

    run_call(twilio, VOICE_URL, STATUS_URL, ask=Script(*answers), show=lines.append)

    assert "you hung up" in lines and lines[-1].startswith("call ended after")
    stored = db.scalar(select(Call))
    assert (stored.stage, stored.outcome, stored.twilio_status) == ("ended", "abandoned", "completed")
    assert db.scalar(select(ConsultationRecord)).outcome == "abandoned"


@pytest.fixture
def served(app_config, app):
    """The app served over HTTP on a free port, with no PUBLIC_BASE_URL: its TwiML then names the
    address the phone called, as under `hotline run`."""
    http_app = create_app({**app_config, "PUBLIC_BASE_URL": ""})
    server = make_server("127.0.0.1", 0, http_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()
    services_of(http_app).db.dispose()


def test_cli_phone_calls_the_running_service_over_http(app, db, served):
    consultant = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])

    result = CliRunner().invoke(main, ["phone", "--url", served, "--auth-token", AUTH_TOKEN],
                                input="2\n3\n1\n\n")

    assert result.exit_code == 0, result.output
    assert f"the consultant's phone {consultant.phone} is ringing" in result.output
    assert "connected — press Enter to hang up" in result.output
    record = db.scalar(select(ConsultationRecord))
    assert (record.outcome, record.consultant_id) == ("answered", consultant.id)
    db.expire_all()
    assert db.get(Staff, consultant.id).status == "wrap_up"


def test_cli_phone_explains_a_refused_or_unreachable_service(app, db, served):
    refused = CliRunner().invoke(main, ["phone", "--url", served, "--auth-token", "wrong"], input="\n")
    assert refused.exit_code == 1
    assert "answered HTTP 403" in refused.output and "--auth-token" in refused.output
    assert db.scalar(select(Call)) is None  # a forged request changes nothing

    unreachable = CliRunner().invoke(main, ["phone", "--url", "http://127.0.0.1:9"], input="\n")
    assert unreachable.exit_code == 1 and "cannot reach http://127.0.0.1:9" in unreachable.output


def test_a_consultant_freed_while_the_caller_waits_is_rung_and_put_through_in_the_terminal(
        app, db, twilio, client):
    """The REST API is the stand-in: the phone plays the consultant the service rings for a waiting
    caller, and follows the caller's redirect into the conference, as Twilio would."""
    from tests.support.helpers import add_staff_with_token
    from tests.support.queueing import run_jobs

    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")

    def maria_becomes_free(_prompt: str) -> str:
        response = client.put(f"/api/consultants/{maria.id}/status", json={"status": "available"},
                              headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200
        run_jobs(app)
        return ""  # the caller keeps waiting

    answers = ["2", "3", maria_becomes_free, "1", ""]
    lines: list[str] = []

    def ask(prompt: str) -> str:
        if not answers:
            raise EOFError
        answer = answers.pop(0)
        return answer(prompt) if callable(answer) else answer

    leg = run_call(twilio, VOICE_URL, STATUS_URL, ask=ask, show=lines.append,
                   rest_requests_url=VOICE_URL.replace("/ivr/voice", "/twilio-stand-in/requests"))

    assert f"the consultant's phone {maria.phone} is ringing" in lines
    assert "connected — press Enter to hang up" in lines
    record = db.scalar(select(ConsultationRecord))
    assert (record.outcome, record.consultant_id) == ("answered", maria.id)
    kinds = [kind for kind, _ in _events(db, leg.call_sid)]
    assert kinds.count("bridged") == 1 and kinds[-1] == "ended"
    db.expire_all()
    assert db.get(Staff, maria.id).status == "wrap_up"
