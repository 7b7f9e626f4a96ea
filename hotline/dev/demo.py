"""Demo data for trying Hotline: consultants in every office and a few weeks of past consultations.

`fill` is what `hotline demo` runs. Every demo person (consultants, a supervisor, an admin) gets the
password DEMO_PASSWORD unless they have one already, so a newcomer can log in to the staff web. It
is reproducible (a seeded random.Random; the history also
depends on the day it is run) and safe to run again: staff that exist by name are skipped, and the
history is added only while the demo consultants have no consultation records yet, so a second
run adds nothing and says so.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import routing
from hotline import accounts, calls, hours, records
from hotline.catalogue import WEEKDAY_KEYS, Catalogue, Office
from hotline.models import ConsultationRecord, Role, Staff, utcnow

SEED = 20240917
ALL_TOPICS = "residence,employment,health,education,social,other"
# name, office, languages, topics, status. Together they cover every language x topic.
CONSULTANTS = (
    ("Maria Petrova", "sofia", "bg,en", "residence,employment,social,other", "available"),
    ("Ivan Georgiev", "sofia", "bg,ru", "residence,employment,health", "break"),
    ("Olena Kovalenko", "sofia", "uk,ru", ALL_TOPICS, "available"),
    ("Ahmad Rahimi", "sofia", "fa,en", "residence,employment,health,other", "available"),
    ("Layla Haddad", "sofia", "ar,en", "residence,health,education,social,other", "available"),
    ("Mehmet Yilmaz", "sofia", "tr,bg", "residence,employment,social,other", "available"),
    ("Elena Dimitrova", "sofia", "bg,en,ru", "education,health,social,other", "available"),
    ("Nikolay Ivanov", "burgas", "bg,ru", "residence,employment,other", "offline"),
    ("Oksana Shevchenko", "burgas", "uk,ru,bg", "health,education,social", "available"),
    ("Yusuf Demir", "burgas", "tr,ar", "health,education,employment", "available"),
    ("Sara Karimi", "burgas", "fa,ar", "education,social,health", "offline"),
    ("Georgi Todorov", "burgas", "bg,en", ALL_TOPICS, "available"),
)
SUPERVISOR = ("Vesela Stoyanova", "sofia")
ADMIN = ("Radost Koleva", "sofia")
# The staff web password of every demo person (set only where they have none): fixed and printed,
# so it is for trying Hotline only; `hotline staff password NAME` replaces it.
DEMO_PASSWORD = "hotline-demo"


@dataclass
class Summary:
    consultants: list[Staff]  # every demo consultant in the database
    added_staff: int  # consultants, supervisor and admin this run created
    supervisor: Staff
    admin: Staff
    records: int  # consultation records this run added
    calls: int  # of which phone calls
    history_existed: bool  # the demo consultants had records already, so none were added


def fill(session: Session, catalogue: Catalogue, weeks: int = 4, seed: int = SEED,
         now: datetime | None = None) -> Summary:
    """Add the demo staff (skipping names that exist), give those without a password DEMO_PASSWORD,
    and add, once, `weeks` weeks of history. Returns what was done (Summary); committed."""
    now = now or utcnow()
    consultants, added = add_staff(session, catalogue, now)
    supervisor, supervisor_added = add_lead(session, catalogue, *SUPERVISOR, role=Role.supervisor.value)
    admin, admin_added = add_lead(session, catalogue, *ADMIN, role=Role.admin.value)
    give_passwords(session, [*consultants, supervisor, admin])
    existed = has_history(session, consultants)
    records = [] if existed else add_history(session, catalogue, consultants, weeks, random.Random(seed), now)
    return Summary(consultants, added + supervisor_added + admin_added, supervisor, admin, len(records),
                   sum(1 for r in records if r.call is not None), existed)


def give_passwords(session: Session, people: list[Staff]) -> int:
    """Set DEMO_PASSWORD for each of `people` who has no password (a password set since is kept).
    Returns how many got it."""
    without = [person for person in people if not person.password_hash]
    for person in without:
        accounts.set_password(session, person, DEMO_PASSWORD)
    return len(without)


def _known(codes: str, known: list[str]) -> list[str]:
    # A deployment's own configuration may lack some of the demo's languages or topics.
    return [code for code in codes.split(",") if code in known]


def add_staff(session: Session, catalogue: Catalogue, now: datetime) -> tuple[list[Staff], int]:
    """Create the demo consultants that do not exist yet; returns all of them and how many are new."""
    languages = [lang.code for lang in catalogue.languages]
    topics = [topic.code for topic in catalogue.topics]
    added = 0
    for index, (name, office, langs, topic_codes, status) in enumerate(CONSULTANTS):
        if session.scalar(select(Staff).where(Staff.name == name)):
            continue
        staff = accounts.create_staff(
            session, catalogue, name=name, role=Role.consultant.value, phone=f"+359887{100001 + index:06d}",
            languages=_known(langs, languages), topics=_known(topic_codes, topics),
            office=office if catalogue.office(office) else catalogue.offices[0].code)
        # Different idle times, so routing's "longest idle first" has an order to follow.
        routing.set_status(session, staff, status, idle_since=now - timedelta(minutes=5 + 7 * index))
        added += 1
    names = [entry[0] for entry in CONSULTANTS]
    return list(session.scalars(select(Staff).where(Staff.name.in_(names)).order_by(Staff.id))), added


def add_lead(session: Session, catalogue: Catalogue, name: str, office: str, role: str) -> tuple[Staff, int]:
    """The demo supervisor or admin `name` (created with `role`, no phone nor skills, unless they
    exist); returns them and 1 if created."""
    existing = session.scalar(select(Staff).where(Staff.name == name))
    if existing:
        return existing, 0
    office = office if catalogue.office(office) else catalogue.offices[0].code
    return accounts.create_staff(session, catalogue, name=name, role=role, phone=None,
                                 languages=[], topics=[], office=office), 1


def around_the_clock(office: Office) -> bool:
    """True if `office` is open every hour of every day (00:00-24:00 all week, no holidays), as
    `hotline run --demo` configures both demo offices."""
    return not office.holidays and all(office.hours.get(day) == (("00:00", "24:00"),) for day in WEEKDAY_KEYS)


def supervisor_token(session: Session, supervisor: Staff) -> str:
    """A new API bearer token for the demo supervisor, replacing (revoking) their earlier ones: a
    demo run again leaves one working token, not one more each time. Returns the token (str),
    shown only this once; committed."""
    accounts.revoke_tokens(session, supervisor)
    return accounts.issue_token(session, supervisor)


def has_history(session: Session, consultants: list[Staff]) -> bool:
    """True if any of `consultants` has a consultation record (a demo ran, or they took calls)."""
    ids = [staff.id for staff in consultants]
    count = session.scalar(select(func.count()).select_from(ConsultationRecord)
                           .where(ConsultationRecord.consultant_id.in_(ids)))
    return bool(count)


# How busy each weekday and each hour is, relative to the busiest (Monday; late morning).
WEEKDAY_LOAD = (1.3, 1.1, 1.0, 1.0, 0.8)
HOURLY_LOAD = {8: 0.3, 9: 0.7, 10: 1.0, 11: 1.0, 12: 0.6, 13: 0.5, 14: 0.9, 15: 0.8, 16: 0.6, 17: 0.4}
CONTACTS_PER_CONSULTANT_DAY = 1.4
# A 24/7 office still gets a history in working hours; nobody advises at 3 a.m.
DAY_START, DAY_END = 8 * 60, 20 * 60


def add_history(session: Session, catalogue: Catalogue, consultants: list[Staff], weeks: int,
                rng: random.Random, now: datetime) -> list[ConsultationRecord]:
    """Consultations of the past `weeks` weeks (up to `now`) in every office, committed at once."""
    history = []
    for office in catalogue.offices:
        staff = [s for s in consultants if s.office_code == office.code and s.skills]
        if not staff:
            continue
        for moment in contact_times(office, len(staff), weeks, rng, now):
            history.append(contact(rng, office, rng.choice(staff), moment))
    session.add_all(history)
    session.commit()
    return history


def contact_times(office: Office, consultants: int, weeks: int, rng: random.Random,
                  now: datetime) -> list[datetime]:
    """When the office's consultations of the `weeks` weeks before `now` happened: on weekdays,
    within opening hours; in UTC, sorted."""
    zone = ZoneInfo(office.timezone)
    today = now.astimezone(zone).date()
    moments = []
    for back in range(weeks * 7, -1, -1):
        day = today - timedelta(days=back)
        spans = open_minutes(office, day)
        if not spans:
            continue
        open_hours = sum(end - start for start, end in spans) / 60
        expected = consultants * CONTACTS_PER_CONSULTANT_DAY * min(open_hours / 8, 1.0)
        for _ in range(round(expected * WEEKDAY_LOAD[day.weekday()] * rng.uniform(0.7, 1.3))):
            local = datetime.combine(day, time(), zone) + timedelta(minutes=_minute(rng, spans))
            moments.append(local.astimezone(timezone.utc))
    since = now - timedelta(weeks=weeks)
    return sorted(m for m in moments if since <= m < now)


def _minutes(text: str) -> int:
    hour, minute = text.split(":")
    return int(hour) * 60 + int(minute)


def open_minutes(office: Office, day: date) -> list[tuple[int, int]]:
    """The day's opening spans as minutes after midnight, on weekdays that are not holidays."""
    if day.weekday() >= 5 or hours.is_holiday(office, day):
        return []
    spans = []
    for start, end in office.hours[WEEKDAY_KEYS[day.weekday()]]:
        low, high = max(_minutes(start), DAY_START), min(_minutes(end), DAY_END)
        if low < high:
            spans.append((low, high))
    return spans


def _minute(rng: random.Random, spans: list[tuple[int, int]]) -> float:
    """A minute of the day inside `spans`, more likely at the busy hours (rejection sampling)."""
    total = sum(end - start for start, end in spans)
    while True:
        offset = rng.uniform(0, total)
        for start, end in spans:
            if offset < end - start:
                minute = start + offset
                break
            offset -= end - start
        else:
            continue  # the float landed exactly on the end; draw again
        if rng.random() < HOURLY_LOAD.get(int(minute // 60), 0.2):
            return minute


CHANNELS = {"phone": 70, "in_person": 20, "online": 10}
PHONE_OUTCOMES = {"answered": 80, "abandoned": 11, "no_consultant": 9}
WRITE_UP_OUTCOMES = {"advised": 70, "referred": 20, "follow_up": 10}  # in-person and online
LANGUAGE_LOAD = {"uk": 30, "ar": 15, "ru": 15, "en": 15, "fa": 10, "tr": 10, "bg": 5}
TOPIC_LOAD = {"residence": 30, "employment": 20, "health": 15, "social": 15, "education": 10, "other": 10}
NOTES = {
    "residence": "Explained renewing the residence permit and the documents to bring.",
    "employment": "Went through the work permit and the rights of an employee.",
    "health": "Explained health insurance and how to register with a GP.",
    "education": "Explained school enrolment and recognition of diplomas.",
    "social": "Explained social assistance and where to apply.",
    "other": "General advice; gave the contacts of the relevant institution.",
}


def _pick(rng: random.Random, weights: dict[str, int], among: list[str] | None = None) -> str:
    """One of `among` (default: every key of `weights`), drawn by weight; unlisted codes weigh 1."""
    codes = among or list(weights)
    return rng.choices(codes, weights=[weights.get(code, 1) for code in codes])[0]


def contact(rng: random.Random, office: Office, consultant: Staff, at: datetime) -> ConsultationRecord:
    """One consultation with `consultant` at `at`: a phone call (with its Call) or a visit."""
    lang = _pick(rng, LANGUAGE_LOAD, consultant.languages)
    topic = _pick(rng, TOPIC_LOAD, consultant.topics)
    channel = _pick(rng, CHANNELS)
    if channel == "phone":
        return phone_call(rng, office, consultant, lang, topic, at)
    minutes = rng.randint(10, 45) if channel == "in_person" else rng.randint(5, 30)
    columns = dict(channel=channel, language_code=lang, topic_code=topic, office_code=office.code,
                   consultant_id=consultant.id, outcome=_pick(rng, WRITE_UP_OUTCOMES),
                   duration_seconds=minutes * 60, started_at=at, created_at=at)
    return records.past_record(None, columns | _write_up(rng, topic, at + timedelta(minutes=minutes)))


def _write_up(rng: random.Random, topic: str | None, ended: datetime) -> dict[str, object]:
    """The write-up's columns of a consultation on `topic` that ended at `ended`: none for one
    still waiting for its notes."""
    # Most consultations are written up soon after; a few are still waiting for their notes.
    if rng.random() < 0.9:
        return {"notes": NOTES.get(topic or "other", NOTES["other"]),
                "completed_at": ended + timedelta(minutes=rng.randint(2, 30))}
    return {}


def phone_call(rng: random.Random, office: Office, consultant: Staff, lang: str, topic: str,
               at: datetime) -> ConsultationRecord:
    """A finished call the way the call flow leaves it: Call, its journey, and its record."""
    outcome = _pick(rng, PHONE_OUTCOMES)
    menus = rng.randint(20, 70)  # seconds spent in the language and topic menus
    answered = outcome == "answered"
    talk = int(min(max(rng.lognormvariate(5.9, 0.5), 60), 1800)) if answered else 0
    duration = menus + (talk if answered else rng.randint(5, 60))
    values = dict(call_sid=f"CA{rng.getrandbits(128):032x}", direction="inbound", office_code=office.code,
                  caller_number=None if rng.random() < 0.05 else f"+35988{rng.randint(1000000, 9999999)}",
                  called_number=office.numbers[0] if office.numbers else None, language_code=lang,
                  topic_code=topic, stage="ended", twilio_status="completed", outcome=outcome,
                  consultant_id=consultant.id if answered else None, started_at=at,
                  answered_at=at + timedelta(seconds=menus) if answered else None,
                  ended_at=at + timedelta(seconds=duration), duration_seconds=duration,
                  talk_seconds=talk if answered else None)
    journey = _journey(values, consultant, menus)
    written = _write_up(rng, topic, values["ended_at"]) if answered else {}
    return calls.past_call(values, journey, dict(
        channel="phone", language_code=lang, topic_code=topic, office_code=office.code,
        consultant_id=values["consultant_id"], outcome=outcome,
        duration_seconds=talk if answered else duration, started_at=at, created_at=at, **written))


def _journey(call: dict, consultant: Staff, menus: int) -> list[tuple]:
    """The events the call flow would have journalled for the call of `call` (its columns), as
    calls.past_call takes them: (time after its start, kind, detail, consultant id)."""
    steps = [(0, "incoming", call["office_code"], None),
             (menus // 2, "language", call["language_code"], None),
             (menus - 5, "topic", call["topic_code"], None)]
    if call["outcome"] == "answered":
        steps += [(menus - 4, "offered", None, consultant.id), (menus, "accepted", None, consultant.id)]
    elif call["outcome"] == "no_consultant":
        steps.append((menus - 4, "no_consultant", None, None))
    steps.append((call["duration_seconds"], "ended", call["outcome"], call["consultant_id"]))
    return [(timedelta(seconds=offset), kind, detail, staff_id) for offset, kind, detail, staff_id in steps]


def report(summary: Summary, weeks: int) -> list[str]:
    """What `hotline demo` prints (without the token and the login lines)."""
    offices = sorted({staff.office_code for staff in summary.consultants})
    available = sum(1 for staff in summary.consultants if staff.status == "available")
    lines = [f"{len(summary.consultants)} demo consultants in {', '.join(offices)} ({available} available), "
             f"supervisor {summary.supervisor.name}, admin {summary.admin.name}; "
             f"{summary.added_staff} staff added by this run"]
    if summary.history_existed:
        lines.append("the demo consultants have consultation records already: no history added")
    else:
        lines.append(f"{summary.records} consultation records over the last {weeks} weeks "
                     f"({summary.calls} of them phone calls)")
    return lines


def login_lines(summary: Summary, base_url: str) -> list[str]:
    """How to log in to the staff web at `base_url` as a demo person (what `hotline demo` prints)."""
    consultant = summary.consultants[0].name if summary.consultants else "a demo consultant"
    return [f"log in at {base_url}/login with the password {DEMO_PASSWORD!r} as {consultant} (consultant: "
            f"the desk), {summary.supervisor.name} (supervisor: the board) or {summary.admin.name} "
            "(admin: staff management), or as any demo consultant",
            "the demo password is printed here for everyone to read: replace it (`hotline staff password "
            "NAME`) before anyone real uses these accounts"]
