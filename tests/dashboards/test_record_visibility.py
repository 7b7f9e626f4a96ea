"""The API's rule for consultation records is the staff web's: a consultant sees their own records
and those of their languages; supervisors and admins see all (issue 9, "the same rules as the API")."""
from __future__ import annotations

from hotline.models import ConsultationRecord, utcnow
from tests.support.helpers import add_consultant, add_staff_with_token


def _record(db, language: str, consultant_id: int | None) -> int:
    record = ConsultationRecord(channel="in_person", language_code=language, topic_code="health",
                                office_code="sofia", consultant_id=consultant_id, outcome="answered",
                                started_at=utcnow())
    db.add(record)
    db.commit()
    return record.id


def _listed(client, token: str) -> set[int]:
    response = client.get("/api/consultations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    return {r["id"] for r in response.get_json()["consultations"]}


def test_a_consultant_lists_their_own_records_and_those_of_their_languages(app, db, client):
    from hotline import accounts

    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    ivan = add_consultant(app, db, "Ivan", languages=["ru"], topics=["health"])
    own_in_russian = _record(db, "ru", maria.id)
    english = _record(db, "en", ivan.id)
    russian = _record(db, "ru", ivan.id)
    token = accounts.issue_token(db, maria)

    assert _listed(client, token) == {own_in_russian, english}
    _, supervisor = add_staff_with_token(app, db, "Supervisor")
    assert _listed(client, supervisor) == {own_in_russian, english, russian}
