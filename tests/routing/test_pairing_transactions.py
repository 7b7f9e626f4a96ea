"""Both ways of pairing (a caller for a free consultant, a consultant for a waiting caller) commit
the consultant's reservation and the caller's claim in one transaction: a fault between the two
leaves neither, so no consultant is left reserved for a caller they were never given."""
from __future__ import annotations

import pytest

from hotline import runtime
from routing import offers
from tests.support.helpers import add_consultant
from tests.support.journeys import route, status_of
from tests.support.queueing import enqueued, entry_of


def _dies(*_args, **_kwargs):
    raise RuntimeError("the worker died between the reservation and the claim")


@pytest.mark.parametrize("side", ["consultant_first", "caller_first"])
def test_a_fault_between_reservation_and_claim_leaves_neither(app, db, twilio, monkeypatch, side):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    enqueued(call)
    maria.status = "available"
    db.commit()
    monkeypatch.setattr("routing.pairing.claim", _dies)

    with app.app_context(), pytest.raises(RuntimeError):
        if side == "consultant_first":
            offers.offer_next_caller(runtime.session(), maria.id)
        else:
            offers.find_consultant(runtime.session(), entry_of(db, call).id)

    assert status_of(db, maria) == ("available", None)
    assert entry_of(db, call).state == "waiting"
