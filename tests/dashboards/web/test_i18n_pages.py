"""The desk, the board and staff management in Bulgarian for a browser that asks for it
(Accept-Language: bg), and still in English for one that does not."""
from __future__ import annotations

from hotline.models import ConsultationRecord, utcnow
from tests.dashboards.web.conftest import add_person, csrf_token, log_in

BULGARIAN = {"Accept-Language": "bg-BG,bg;q=0.9,en;q=0.5"}
ENGLISH = {"Accept-Language": "en"}


def _page(web, path: str, headers: dict) -> str:
    response = web.get(path, headers=headers)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_the_desk_in_bulgarian(app, db, web):
    me = add_person(app, db, "Мария", "consultant")
    db.add(ConsultationRecord(language_code="en", topic_code="health", office_code="sofia",
                              consultant_id=me.id, outcome="answered", started_at=utcnow()))
    db.commit()
    log_in(web, "Мария")
    page = _page(web, "/desk", BULGARIAN)
    assert '<html lang="bg">' in page
    for words in ("Моето работно място", "Моят статус", "Офлайн", "Наличен", "Почивка",
                  "Запази описанието", "Моите обратни обаждания", "Подтема", "Здраве"):
        assert words in page, words
    assert "My desk" not in page and "Save the write-up" not in page
    changed = web.post("/desk/status", headers=BULGARIAN, follow_redirects=True,
                       data={"status": "break", "csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert "Статусът ви вече е: Почивка." in changed
    new = _page(web, "/desk/records/new", BULGARIAN)
    assert "Запишете консултация, дадена лично или онлайн" in new and "Лично" in new
    english = _page(web, "/desk", ENGLISH)
    assert "My desk" in english and "Save the write-up" in english and "Health" in english
    assert "Моето работно място" not in english


def test_the_board_in_bulgarian_and_its_shared_rendering_per_language(app, db, web):
    add_person(app, db, "Ана", "consultant", languages=("en", "uk"))
    add_person(app, db, "Десислава", "supervisor")
    log_in(web, "Десислава")
    page = _page(web, "/board", BULGARIAN)
    for words in ("Табло на живо", "Опашки", "Никой не чака.", "Консултанти", "Покритие", "Днес досега",
                  "Обратни обаждания", "английски, украински", "офлайн",
                  "0 чакащи, на 0 се звъни, 0 налични консултанти, 0 просрочени обратни обаждания."):
        assert words in page, words
    assert "Live board" not in page and "Nobody is waiting." not in page
    # The live part is rendered once for all boards, but once per language: English right after.
    english = web.get("/board/live", headers=ENGLISH).get_data(as_text=True)
    assert "Nobody is waiting." in english and "English, Ukrainian" in english
    assert "0 waiting, 0 being rung, 0 consultants available, 0 callbacks overdue." in english
    assert "Никой не чака." not in english
    bulgarian = web.get("/board/live", headers=BULGARIAN).get_data(as_text=True)
    assert "Никой не чака." in bulgarian and "Nobody is waiting." not in bulgarian


def test_staff_management_and_reports_in_bulgarian(app, db, web):
    add_person(app, db, "Ада", "admin")
    maria = add_person(app, db, "Мария", "consultant")
    log_in(web, "Ада")
    listing = _page(web, "/staff", BULGARIAN)
    for words in ("<h1>Служители</h1>", "Добавяне на служител", "Роля", "консултант", "администратор", "да"):
        assert words in listing, words
    page = _page(web, f"/staff/{maria.id}", BULGARIAN)
    for words in ("Всички служители", "Запази", "Деактивирай", "Нова парола (поне", "Задай тази парола",
                  "API токени", "Няма API токени."):
        assert words in page, words
    assert "Set this password" not in page
    generated = web.post(f"/staff/{maria.id}/password", headers=BULGARIAN,
                         data={"action": "generate", "csrf_token": csrf_token(page)}).get_data(as_text=True)
    assert 'Нова парола за <span dir="auto">Мария</span>, показва се само този път:' in generated
    reports = _page(web, "/reports", BULGARIAN)
    assert "<h1>Отчети</h1>" in reports and "<code>/api/consultations</code>" in reports
    english = _page(web, f"/staff/{maria.id}", ENGLISH)
    assert "Set this password" in english and "Задай тази парола" not in english
