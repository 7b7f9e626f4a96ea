"""The API keeps its contract: schemathesis sends each operation of /api/openapi.json requests made
from the document, as a consultant and as a supervisor, and checks every answer: never a 5xx, a
status, content type and body that the document allows. Bounded: a few examples per operation,
derandomized (the same every run), in-process (no network)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from hotline import accounts
from tests.dashboards.api.test_api import add_record
from tests.dashboards.api.test_callbacks_api import booked
from tests.dashboards.api.test_queues_api import queued
from tests.support.helpers import add_consultant, add_staff_with_token

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def tokens(app, db) -> tuple[str, str]:
    """A consultant's and a supervisor's bearer tokens, with a little of everything to list."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], phone="+359888111222")
    _, supervisor = add_staff_with_token(app, db, "Desislava", role="supervisor")
    add_record(db, datetime(2026, 3, 10, 9, tzinfo=timezone.utc), call_sid="CAcontract", consultant=maria,
               notes="a note")
    booked(db, assigned=maria)
    queued(db, minutes_ago=2)
    return accounts.issue_token(db, maria), supervisor


BOUNDED = settings(max_examples=4, derandomize=True, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck))


def conforms(operation, tokens: tuple[str, ...], mode: GenerationMode) -> None:
    """Hypothesis's few examples of `operation` (valid ones, or invalid ones for `mode`
    NEGATIVE), each sent with each token and checked."""

    @BOUNDED
    @given(case=operation.as_strategy(mode))
    def check(case) -> None:
        for token in tokens:
            case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)

    check()


def test_every_answer_keeps_the_contract(app, tokens):
    # schemathesis's own pytest loader (from_fixture) cannot read this pytest's test nodes; its
    # strategies, run here by Hypothesis, check the same.
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 14
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            conforms(operation, tokens, mode)
