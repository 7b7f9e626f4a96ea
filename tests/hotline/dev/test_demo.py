"""`hotline demo`: the demo staff, a history inside opening hours, and running it twice."""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import func, select

from hotline import accounts, hours
from hotline.catalogue import load_catalogue
from hotline.cli import main
from hotline.dev import demo
from hotline.models import ApiToken, Call, ConsultationRecord, Staff
from hotline.phone_numbers import normalise
from tests.conftest import services_of

SOFIA = ZoneInfo("Europe/Sofia")
# Friday 14 March 2025, 15:00 in Sofia. Four weeks back include Monday 3 March, a public holiday.
NOW = datetime(2025, 3, 14, 13, 0, tzinfo=timezone.utc)
LIBERATION_DAY = date(2025, 3, 3)


def _count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_demo_staff_cover_every_language_and_topic(app, db):
    catalogue = services_of(app).catalogue

    summary = demo.fill(db, catalogue, weeks=0, now=NOW)

    consultants = summary.consultants
    assert len(consultants) == len(demo.CONSULTANTS) == summary.added_staff - 2
    assert {staff.office_code for staff in consultants} == {"sofia", "burgas"}
    assert all(staff.role == "consultant" and normalise(staff.phone) == staff.phone for staff in consultants)
    assert len({staff.phone for staff in consultants}) == len(consultants)
    skills = {(skill.language_code, skill.topic_code) for staff in consultants for skill in staff.skills}
    assert skills == {(lang.code, topic.code) for lang in catalogue.languages for topic in catalogue.topics}
    statuses = Counter(staff.status for staff in consultants)
    assert statuses["available"] >= len(consultants) // 2 and len(statuses) > 1
    for office in ("sofia", "burgas"):
        assert any(s.office_code == office and s.status == "available" for s in consultants)
    assert summary.supervisor.role == "supervisor" and summary.supervisor.skills == []
    assert summary.admin.role == "admin" and summary.admin.skills == []
    assert summary.records == 0 and _count(db, ConsultationRecord) == 0


def test_history_lies_in_opening_hours_of_weekdays(app, db):
    catalogue = load_catalogue()  # the packaged offices and their real hours and holidays

    summary = demo.fill(db, catalogue, weeks=4, now=NOW)

    records = db.scalars(select(ConsultationRecord)).all()
    assert len(records) == summary.records > 100
    for record in records:
        office = catalogue.office(record.office_code)
        local = record.started_at.astimezone(SOFIA)
        assert NOW - timedelta(weeks=4) <= record.started_at < NOW
        assert local.weekday() < 5 and local.date() != LIBERATION_DAY
        assert hours.is_open(office, record.started_at), local
    burgas_fridays = [r.started_at.astimezone(SOFIA) for r in records
                      if r.office_code == "burgas" and r.started_at.astimezone(SOFIA).weekday() == 4]
    assert burgas_fridays and all(moment.hour < 13 for moment in burgas_fridays)
    by_hour = Counter(r.started_at.astimezone(SOFIA).hour for r in records)
    assert by_hour[10] + by_hour[11] > by_hour[16] + by_hour[17]  # busy mornings, quiet late afternoons


def test_history_is_consistent(app, db):
    summary = demo.fill(db, load_catalogue(), weeks=4, now=NOW)

    records = db.scalars(select(ConsultationRecord)).all()
    assert Counter(r.channel for r in records).keys() == {"phone", "in_person", "online"}
    assert {"answered", "abandoned", "no_consultant"} <= {r.outcome for r in records if r.channel == "phone"}
    staff = {s.id: s for s in summary.consultants}
    for record in records:
        if record.consultant_id is not None:
            assert record.language_code in staff[record.consultant_id].languages
            assert record.topic_code in staff[record.consultant_id].topics
        if record.channel != "phone":
            assert record.call is None and record.consultant_id is not None
            continue
        call = record.call
        assert (call.outcome, call.language_code, call.office_code) == \
            (record.outcome, record.language_code, record.office_code)
        assert call.events[0].kind == "incoming" and call.events[-1].kind == "ended"
        if record.outcome == "answered":
            assert call.answered_at and record.duration_seconds == call.talk_seconds >= 60
        else:
            assert record.consultant_id is None and call.answered_at is None
    assert _count(db, Call) == summary.calls == sum(1 for r in records if r.channel == "phone")


def test_same_seed_same_history(catalogue_app):
    office = services_of(catalogue_app).catalogue.office("sofia")

    first = demo.contact_times(office, 7, 2, random.Random(1), NOW)

    assert first == demo.contact_times(office, 7, 2, random.Random(1), NOW)
    assert first != demo.contact_times(office, 7, 2, random.Random(2), NOW)


def test_cli_demo_twice(app_config, app, db):
    runner = CliRunner()

    first = runner.invoke(main, ["demo", "--weeks", "1"], env=app_config)

    assert first.exit_code == 0, first.output
    assert f"{len(demo.CONSULTANTS)} demo consultants in burgas, sofia" in first.output
    assert f"{len(demo.CONSULTANTS) + 2} staff added by this run" in first.output
    assert f"/login with the password '{demo.DEMO_PASSWORD}'" in first.output
    token = first.output.strip().splitlines()[-1].rsplit(" ", 1)[-1]
    assert accounts.staff_for_token(db, token).name == demo.SUPERVISOR[0]
    staff, records = _count(db, Staff), _count(db, ConsultationRecord)
    assert records > 0
    for started in db.scalars(select(ConsultationRecord.started_at)):
        # These offices are open around the clock; the history still keeps to weekday daytime.
        local = started.astimezone(SOFIA)
        assert local.weekday() < 5 and 8 <= local.hour < 20

    second = runner.invoke(main, ["demo"], env=app_config)

    assert second.exit_code == 0, second.output
    assert "0 staff added by this run" in second.output and "no history added" in second.output
    assert (_count(db, Staff), _count(db, ConsultationRecord)) == (staff, records)
    assert accounts.staff_for_token(db, second.output.strip().rsplit(" ", 1)[-1]) is not None
    # The new token replaces the first: running the demo again does not pile up working tokens.
    assert accounts.staff_for_token(db, token) is None
    supervisor = db.scalar(select(Staff).where(Staff.name == demo.SUPERVISOR[0]))
    assert db.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.staff_id == supervisor.id, ApiToken.revoked_at.is_(None))) == 1


def test_demo_staff_get_the_demo_password_unless_they_have_one(app, db):
    catalogue = services_of(app).catalogue
    kept = accounts.create_staff(db, catalogue, name=demo.SUPERVISOR[0], role="supervisor", phone=None,
                                 languages=[], topics=[], office="sofia")
    accounts.set_password(db, kept, "their own password")

    summary = demo.fill(db, catalogue, weeks=0, now=NOW)

    for person in [*summary.consultants, summary.admin]:
        assert accounts.check_login(db, person.name, demo.DEMO_PASSWORD) is not None, person.name
    assert accounts.check_login(db, kept.name, demo.DEMO_PASSWORD) is None
    assert accounts.check_login(db, kept.name, "their own password") is not None
    lines = demo.login_lines(summary, "http://127.0.0.1:5123")
    assert "http://127.0.0.1:5123/login" in lines[0] and demo.DEMO_PASSWORD in lines[0]
    assert all(name in lines[0] for name in (summary.consultants[0].name, kept.name, summary.admin.name))
