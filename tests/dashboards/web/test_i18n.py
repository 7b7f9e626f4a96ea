"""The staff web in Bulgarian and English: the browser's language (Accept-Language), the switch in
the page header (a cookie), and catalogues that are complete and compiled."""
from __future__ import annotations

from io import BytesIO
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from dashboards.web.i18n import COOKIE, TRANSLATIONS
from tests.dashboards.web.conftest import add_person, csrf_token, log_in

ROOT = Path(__file__).resolve().parents[3]
BG_PO = TRANSLATIONS / "bg" / "LC_MESSAGES" / "messages.po"


def test_the_login_page_speaks_the_browsers_language(web):
    bulgarian = web.get("/login", headers={"Accept-Language": "bg-BG,bg;q=0.9,en;q=0.5"})
    page = bulgarian.get_data(as_text=True)
    assert '<html lang="bg">' in page
    assert "<h1>Вход</h1>" in page and "Парола" in page and "Password" not in page
    english = web.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "<h1>Log in</h1>" in english and "Password" in english and "Парола" not in english


def test_a_language_the_pages_do_not_have_falls_back_to_english(web):
    page = web.get("/login", headers={"Accept-Language": "uk,ru;q=0.8"}).get_data(as_text=True)
    assert '<html lang="en">' in page and "<h1>Log in</h1>" in page


def test_the_switch_sets_the_language_and_overrides_the_browser(web):
    english = {"Accept-Language": "en"}
    page = web.get("/login", headers=english).get_data(as_text=True)
    assert 'name="language" value="bg"' in page  # the English page offers Bulgarian
    response = web.post("/language", headers=english,
                        data={"language": "bg", "next": "/login", "csrf_token": csrf_token(page)})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{COOKIE}="))
    assert cookie.startswith(f"{COOKIE}=bg;") and "HttpOnly" in cookie and "Secure" in cookie
    page = web.get("/login", headers=english).get_data(as_text=True)
    assert '<html lang="bg">' in page and "<h1>Вход</h1>" in page
    assert 'name="language" value="en"' in page  # and back


def test_the_choice_outlives_logging_in_and_translates_the_error(app, db, web):
    add_person(app, db, "Elena", "supervisor")
    page = web.get("/login").get_data(as_text=True)
    web.post("/language", data={"language": "bg", "next": "/login", "csrf_token": csrf_token(page)})
    failed = log_in(web, "Elena", "not the password")
    assert failed.status_code == 401 and "Грешно име или парола." in failed.get_data(as_text=True)
    log_in(web, "Elena")
    board = web.get("/board").get_data(as_text=True)
    assert "Изход" in board and "(супервайзър)" in board


def test_the_switch_needs_its_csrf_token_and_stays_on_this_site(web):
    assert web.post("/language", data={"language": "bg", "next": "/login"}).status_code == 400
    token = csrf_token(web.get("/login").get_data(as_text=True))
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example/", "javascript:alert(1)"):
        response = web.post("/language", data={"language": "bg", "next": elsewhere, "csrf_token": token})
        assert response.status_code == 302 and response.headers["Location"] == "/", elsewhere


def test_an_unknown_language_is_not_remembered(web):
    token = csrf_token(web.get("/login").get_data(as_text=True))
    response = web.post("/language", data={"language": "xx", "next": "/login", "csrf_token": token})
    cookies = response.headers.getlist("Set-Cookie")
    assert response.status_code == 302 and not any(c.startswith(f"{COOKIE}=") for c in cookies)


def _catalogue():
    with BG_PO.open("rb") as po:
        return read_po(po)


def test_every_marked_string_has_a_bulgarian_translation():
    """A string marked with _() or gettext in dashboards/ but missing from the .po, untranslated or
    fuzzy fails here: dashboards/translations/README.md says how to update the catalogue."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {"_": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2),
                "pgettext": ((1, "c"), 2)}
    marked = {(message, context) for _file, _line, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords)}
    catalogue = _catalogue()

    def translated(message, context) -> bool:
        found = catalogue.get(message if isinstance(message, str) else message[0], context=context)
        return bool(found and (all(found.string) if isinstance(found.string, tuple) else found.string))

    missing = sorted(str(m) for m, context in marked if not translated(m, context))
    fuzzy = sorted(m.id for m in catalogue if m.id and m.fuzzy)
    assert missing == [] and fuzzy == []


def test_the_compiled_catalogue_matches_the_po():
    """The .mo is committed (the app reads it at run time and `pip install` compiles nothing):
    after editing the .po, run `pybabel compile -d dashboards/translations`."""
    with (BG_PO.with_suffix(".mo")).open("rb") as mo:
        compiled = read_mo(BytesIO(mo.read()))
    def entries(catalogue):  # plurals' ids and strings as tuples, with their context
        return {(m.context, tuple(m.id) if m.pluralizable else m.id):
                tuple(m.string) if m.pluralizable else m.string for m in catalogue if m.id and m.string}

    assert entries(compiled) == entries(_catalogue())
