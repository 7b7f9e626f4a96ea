"""Queue reports (GET /api/reports/queues): per queue figures and service level, the call funnel,
abandonment by stage, Sofia days, and the checks of the query parameters."""
from __future__ import annotations

import pytest

from tests.dashboards.test_api import assert_json_error, bearer
from tests.helpers import add_staff_with_token


@pytest.fixture
def supervisor(app, db) -> str:
    return add_staff_with_token(app, db, "Desislava", role="supervisor")[1]


def test_the_shared_number_and_date_checks_also_guard_consultations(client, supervisor):
    # Before, int() raised on these and the API answered 500.
    for query in ("limit=²", "offset=²", "to=9999-12-31", "from=0001-01-01"):
        assert_json_error(client.get(f"/api/consultations?{query}", headers=bearer(supervisor)), 400)
    huge = "9" * 5000  # beyond what int() reads: taken as more than the maximum
    response = client.get(f"/api/consultations?limit={huge}&offset={huge}", headers=bearer(supervisor))
    assert response.status_code == 200 and response.get_json() == {"consultations": []}
