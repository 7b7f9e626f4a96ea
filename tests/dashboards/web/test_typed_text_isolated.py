"""Text that people typed is isolated on every page of the staff web, so a name or a note in Arabic
or Farsi, or one carrying a right-to-left override (U+202E), cannot reorder the page around it.

Typed values with such text are put in every place a person types (staff names, through the staff
form too; a record's notes and referral in their own words), then every page of the staff web is
fetched by each role it allows, in both page languages: the pages come from the app's URL map (a
page that takes an id is given the seeded rows'), so a page added later is walked too. The live
fragments (/board/live, /desk/live) are pages of the map; the board's rendering made by the worker
and the pages after the actions that name someone (flash messages, errors) are checked as well.
Each occurrence of a seeded value must be the whole text of an isolating element (`<bdi>` or one
with a `dir` attribute; a form control carrying the value with `dir`), or, where no element may be
(a page's title), between the Unicode isolates FSI/LRI/RLI and PDI."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask import url_for

from dashboards.web import board_views
from dashboards.web.access import PUBLIC, allowed_roles
from hotline.models import Call, ConsultationRecord, Staff, utcnow
from hotline.phone_numbers import caller_key
from tests.conftest import services_of
from tests.dashboards.api.test_callbacks_api import booked
from tests.dashboards.web.conftest import PASSWORD, add_person, csrf_token, https_client, log_in

RLO, PDI = "\u202e", "\u2069"
ISOLATE_OPENERS = ("\u2066", "\u2067", "\u2068")  # LRI, RLI, FSI
# Staff names: one per role that walks the pages (each sees their own in the page header).
ADMIN = RLO + "Radost Koleva"
SUPERVISOR = "سارة الحسيني"  # Arabic
CONSULTANT = "زهرا رضایی ۲"  # Farsi, with a Persian digit at the end
OTHER_CONSULTANT = "Ivan " + RLO + "Ivanov"
ADDED = "مریم " + RLO + "کریمی"  # added by the admin through the staff form
# A record's own words: notes and the referral "in your words".
NOTES = "اتصل بخصوص تجديد الإقامة، الرقم 4 5 6."  # Arabic, spaced digits, a final full stop
REFERRAL = "دفتر کمک حقوقی صوفیه، 09:00-17:30"  # Farsi with a time range
OWED_NOTES = RLO + "asked about a work permit, call back 12:30"
OWED_REFERRAL = "مركز " + RLO + "الاستشارات 3"
SEEDS = (ADMIN, SUPERVISOR, CONSULTANT, OTHER_CONSULTANT, ADDED, NOTES, REFERRAL, OWED_NOTES, OWED_REFERRAL)
CALLER = "+359888123456"
LANGUAGES = {"en": {"Accept-Language": "en"}, "bg": {"Accept-Language": "bg-BG,bg;q=0.9"}}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
FORM_CONTROLS = {"input", "textarea", "option"}


@dataclass
class Found:
    """The seeded values found so far, and those found unisolated (with where)."""

    seen: set[str] = field(default_factory=set)
    unisolated: list[str] = field(default_factory=list)


def _wrapped_in_isolates(text: str, seed: str) -> bool:
    """Whether every occurrence of `seed` in `text` stands between an isolate opener and PDI."""
    start = text.find(seed)
    while start != -1:
        end = start + len(seed)
        if not (start > 0 and text[start - 1] in ISOLATE_OPENERS and text[end:end + 1] == PDI):
            return False
        start = text.find(seed, end)
    return True


class _Occurrences(HTMLParser):
    """Each seeded value in a page's text and attributes, with whether it is isolated there."""

    def __init__(self, where: str, found: Found) -> None:
        super().__init__(convert_charrefs=True)
        self.where, self.found, self.open = where, found, []

    def _check(self, text: str, isolated_by_element: bool, what: str) -> None:
        for seed in SEEDS:
            if seed not in text:
                continue
            self.found.seen.add(seed)
            whole = text.strip() == seed
            if not (_wrapped_in_isolates(text, seed) or (isolated_by_element and whole)):
                self.found.unisolated.append(f"{self.where}: {what}: {text.strip()[:120]!r}")

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attributes.items():
            # A form control holding the value it edits isolates it by its own dir attribute.
            by_element = tag in FORM_CONTROLS and name == "value" and "dir" in attributes
            self._check(value or "", by_element, f"<{tag} {name}=...>")
        if tag not in VOID:
            self.open.append((tag, attributes))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.open.pop()

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, -1, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                break

    def handle_data(self, data):
        tag, attributes = self.open[-1] if self.open else ("", {})
        self._check(data, tag == "bdi" or "dir" in attributes, f"text in <{tag}>")


def check(html: str, where: str, found: Found) -> None:
    """Parse `html` and note in `found` every seeded value in it and each one not isolated."""
    parser = _Occurrences(where, found)
    parser.feed(html)
    parser.close()


def _html(response, where: str, found: Found, *statuses: int) -> str:
    assert response.status_code in (statuses or (200,)), (where, response.status_code)
    html = response.get_data(as_text=True)
    check(html, where, found)
    return html


@dataclass
class Seeded:
    staff: dict[str, Staff]  # by role: who logs in and walks
    ids: dict[str, list[int]]  # by URL argument: the rows a page of one row is shown for


def _record(db, consultant: Staff, call: Call | None, **fields) -> ConsultationRecord:
    record = ConsultationRecord(call_id=call.id if call else None, topic_code="health", office_code="sofia",
                                consultant_id=consultant.id, outcome="answered", **fields)
    db.add(record)
    db.commit()
    return record


def _call(app, db, sid: str, started_ago: timedelta) -> Call:
    call = Call(call_sid=sid, caller_number=CALLER, office_code="sofia", language_code="fa",
                topic_code="health", caller_key=caller_key(CALLER, services_of(app).settings.secret_key),
                started_at=utcnow() - started_ago)
    db.add(call)
    db.commit()
    return call


def seed(app, db) -> Seeded:
    """Staff of every role with typed names; a consultant on a call from a caller with an earlier
    record (notes, referral in its writer's words, flagged for follow-up), owing the write-up of
    another record already half typed; a callback given to a consultant."""
    skills = ("fa", "ar", "en")
    admin = add_person(app, db, ADMIN, "admin", languages=skills)
    supervisor = add_person(app, db, SUPERVISOR, "supervisor", languages=skills)
    consultant = add_person(app, db, CONSULTANT, "consultant", languages=skills)
    other = add_person(app, db, OTHER_CONSULTANT, "consultant", languages=skills)
    earlier = _record(db, other, _call(app, db, "CAearlier", timedelta(days=3)), language_code="fa",
                      notes=NOTES, referral="other", referral_other=REFERRAL, disposition="referred",
                      urgent_followup=True, started_at=utcnow() - timedelta(days=3),
                      completed_at=utcnow() - timedelta(days=3))
    now_on = _call(app, db, "CAnow", timedelta(minutes=5))
    owed = _record(db, consultant, now_on, language_code="fa", notes=OWED_NOTES, referral="other",
                   referral_other=OWED_REFERRAL, started_at=utcnow() - timedelta(minutes=5))
    consultant = db.get(Staff, consultant.id)
    consultant.status, consultant.current_call_sid = "busy", now_on.call_sid
    db.commit()
    booked(db, language="fa", assigned=other)
    return Seeded({"admin": admin, "supervisor": supervisor, "consultant": consultant},
                  {"record_id": [earlier.id, owed.id], "staff_id": [admin.id, supervisor.id, consultant.id,
                                                                   other.id]})


def _pages(app, ids: dict[str, list[int]]):
    """(endpoint, path) of every page of the staff web (GET) in the URL map; a page of one row for
    each seeded row. A new page whose URL takes something else fails here until it is seeded."""
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("web.") or rule.endpoint in PUBLIC or "GET" not in rule.methods:
            continue
        unknown = set(rule.arguments) - set(ids)
        assert not unknown, f"{rule.rule}: seed rows for {sorted(unknown)} so this page is walked too"
        if not rule.arguments:
            yield rule.endpoint, rule.rule
            continue
        [argument] = rule.arguments
        for row_id in ids[argument]:
            with app.test_request_context():
                path = url_for(rule.endpoint, **{argument: row_id})
            yield rule.endpoint, path


def walk(app, web, role: str, ids: dict[str, list[int]], found: Found) -> int:
    """Fetch every page `role` may use, in both languages, checking each; returns the pages shown."""
    shown = 0
    for endpoint, path in _pages(app, ids):
        if role not in allowed_roles(app, endpoint):
            continue
        for language, headers in LANGUAGES.items():
            response = web.get(path, headers=headers)
            # `/` sends each person to their page (walked too); a record they may not see is refused.
            if response.status_code in (302, 403):
                continue
            _html(response, f"{role} {language} {path}", found)
            shown += 1
    return shown


def _act_as_admin(web, found: Found) -> None:
    """The admin's actions whose pages name someone: add a person through the form, fail to add a
    taken name, generate and set a password, deactivate and reactivate."""
    page = web.get("/staff/new").get_data(as_text=True)
    added = web.post("/staff/new", follow_redirects=True, data={
        "csrf_token": csrf_token(page), "name": ADDED, "role": "consultant", "office": "sofia",
        "phone": "+359888000222", "languages": ["fa", "en"], "topics": ["health"]})
    html = _html(added, "admin: added", found)
    person_path = added.request.path
    assert ADDED in html
    token = csrf_token(html)
    taken = web.post("/staff/new", data={"csrf_token": token, "name": SUPERVISOR, "role": "consultant",
                                         "office": "sofia", "languages": ["fa"], "topics": ["health"]})
    _html(taken, "admin: a taken name", found, 400)
    generated = web.post(person_path + "/password", data={"csrf_token": token, "action": "generate"})
    _html(generated, "admin: password generated", found)
    for action, data in (("/password", {"password": PASSWORD, "password_again": PASSWORD}),
                         ("/deactivate", {}), ("/reactivate", {})):
        done = web.post(person_path + action, data={"csrf_token": token, **data}, follow_redirects=True)
        _html(done, f"admin: {action}", found)


def _act_as_consultant(web, found: Found, owed_id: int) -> None:
    """A write-up refused for a bad field comes back with what was typed in it."""
    page = web.get("/desk").get_data(as_text=True)
    refused = web.post(f"/desk/records/{owed_id}/wrap-up", data={
        "csrf_token": csrf_token(page), "topic": "health", "disposition": "referred", "referral": "other",
        "referral_other": OWED_REFERRAL, "notes": OWED_NOTES, "nationality": "1"})
    html = _html(refused, "consultant: a refused write-up", found, 400)
    assert OWED_NOTES in html


def test_typed_text_is_isolated_on_every_page_for_every_role(app, db, monkeypatch):
    monkeypatch.setattr(board_views, "FRAGMENT_CACHE_SECONDS", 0)  # each board shows the rows of now
    seeded = seed(app, db)
    found = Found()
    clients = {role: https_client(app) for role in seeded.staff}
    failed_login = clients["admin"].post("/login", data={
        "csrf_token": csrf_token(clients["admin"].get("/login").get_data(as_text=True)),
        "name": SUPERVISOR, "password": "not the password"})
    _html(failed_login, "a failed login", found, 401)
    for role, person in seeded.staff.items():
        assert log_in(clients[role], person.name).status_code == 302, role
    _act_as_admin(clients["admin"], found)
    _act_as_consultant(clients["consultant"], found, seeded.ids["record_id"][1])
    shown = {role: walk(app, clients[role], role, seeded.ids, found) for role in seeded.staff}

    # The board's live part as the worker renders it for every open board (kept as in production).
    monkeypatch.setattr(board_views, "FRAGMENT_CACHE_SECONDS", 0.5)
    for language in LANGUAGES:
        with app.app_context():
            board_views.render_for_boards(language)
        stored = services_of(app).redis.get(board_views._keys(language)[1])
        check(stored.decode().partition("|")[2], f"worker's board rendering ({language})", found)

    assert shown["consultant"] >= 8 and shown["supervisor"] >= 12 and shown["admin"] >= 20, shown
    assert found.seen == set(SEEDS), f"never shown: {set(SEEDS) - found.seen}"
    assert found.unisolated == [], "\n".join(found.unisolated)


@pytest.mark.parametrize("html, isolated", [
    (f"<td><bdi>{ADMIN}</bdi></td>", True),
    (f'<th><span dir="auto">{ADMIN}</span></th>', True),
    (f'<p dir="auto">{NOTES}</p>', True),
    (f"<title>\u2068{ADMIN}\u2069 · Hotline</title>", True),
    (f'<input name="name" value="{ADMIN}" dir="auto">', True),
    (f'<option value="3" dir="auto">{ADMIN}</option>', True),
    (f"<th>{ADMIN}</th>", False),  # the board's consultants table, as reported
    (f'<span dir="auto">{ADMIN} (admin)</span>', False),  # isolated with what follows, not from it
    (f"<p>{ADMIN} added.</p>", False),
    (f'<input name="name" value="{ADMIN}">', False),
    (f'<button aria-label="Give it to {ADMIN}">', False),
    (f"<title>{ADMIN} · Hotline</title>", False),
])
def test_the_check_tells_isolated_from_unisolated(html, isolated):
    found = Found()
    check(html, "sample", found)
    assert found.seen == {ADMIN if ADMIN in html else NOTES}
    assert (found.unisolated == []) is isolated
