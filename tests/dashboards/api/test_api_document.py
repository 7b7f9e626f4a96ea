"""The API's contract: the OpenAPI 3 document at /api/openapi.json names every path the README
documents, and /api/docs shows it with Swagger UI served by the app itself (no CDN)."""
from __future__ import annotations

import re

DOCUMENTED = {
    "/api/consultants": {"get"}, "/api/consultants/{staff_id}/status": {"put", "post"},
    "/api/calls/{call_sid}": {"get"}, "/api/consultations": {"get"},
    "/api/consultations/{record_id}": {"patch"}, "/api/queues": {"get"}, "/api/queue-entries": {"get"},
    "/api/queue-entries/{entry_id}": {"patch"}, "/api/reports/queues": {"get"}, "/api/callbacks": {"get"},
    "/api/callbacks/summary": {"get"}, "/api/callbacks/{callback_id}": {"get", "patch"},
}
LISTS = ("/api/consultants", "/api/consultations", "/api/queue-entries", "/api/callbacks")


def test_the_openapi_document_has_every_path(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200 and response.is_json
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    paths = {path: {method for method in ops if method != "parameters"}
             for path, ops in spec["paths"].items()}
    assert paths == DOCUMENTED
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "session"}


def test_every_list_pages_with_limit_and_offset(client):
    spec = client.get("/api/openapi.json").get_json()
    for path in LISTS:
        names = {parameter["name"] for parameter in spec["paths"][path]["get"]["parameters"]}
        assert {"limit", "offset"} <= names, path


def test_the_reference_is_served_from_the_app_itself(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets and all(asset.startswith("/api/docs/static/") for asset in assets)
    for asset in assets:
        served = client.get(asset)
        assert served.status_code == 200, asset
        served.close()  # a static file is streamed: close it
    assert "/api/openapi.json" in html
