"""The API's plumbing on flask-smorest: one blueprint for every resource (the resource modules add
their views to it), the parser that reads query strings and JSON bodies into schemas (a refusal
is a 400, not webargs' 422), and the JSON errors every /api/ URL answers with."""
from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response, jsonify, request
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

from dashboards.api import access

PREFIX = "/api"


class ErrorSchema(Schema):
    """Every error of the API: `error` says what went wrong; `errors`, for a refused parameter or
    body, says which (by where it was: query, json, path); `status`, for a 409 on a status change,
    the status that won."""

    error = fields.String(required=True)
    errors = fields.Dict(keys=fields.String(), values=fields.Raw())
    status = fields.String()


def read_json_body(req: Request) -> Any:
    """The request's body parsed as JSON (RFC 8259), the one place the API reads a body from.

    415 unless it is sent as Content-Type: application/json; 400 if it is not JSON, is nested
    deeper than the parser can follow (a RecursionError otherwise), or holds text that could not be
    stored: a NUL (PostgreSQL refuses it) or a lone surrogate, which is no Unicode character
    (RFC 8259 section 8.2) and which no database encoding takes."""
    if not req.is_json:
        raise UnsupportedMediaType("send the body as JSON, with Content-Type: application/json")
    try:
        body = req.get_json()  # invalid JSON: BadRequest
    except RecursionError:
        raise BadRequest("the JSON body is nested too deeply") from None
    if not _storable_text(body):
        raise BadRequest("the JSON body holds a NUL character or a lone surrogate (not Unicode text)")
    return body


def _storable_text(body: object) -> bool:
    """True if every string in `body`, keys included, is Unicode text without NUL. Walked with a
    stack, not recursion: the body may be nested nearly as deep as the parser allows."""
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            if "\x00" in value:
                return False
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


class Parser(FlaskParser):
    """webargs' Flask parser, refusing with 400 and reading bodies through read_json_body."""

    DEFAULT_VALIDATION_STATUS = 400

    def _raw_load_json(self, req: Request) -> Any:
        return read_json_body(req)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = Parser()


blueprint = ApiBlueprint("api", __name__, url_prefix=PREFIX,
                         description="The staff API: consultants, calls, records, queues, reports, callbacks")
blueprint.before_request(access.authenticate)


class HotlineApi(Api):
    """flask-smorest's Api whose errors keep the API's body ({"error": ...}) and stay under /api/:
    elsewhere Flask's own error pages answer."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        self._app.register_error_handler(HTTPException, _error_for_path)


def _error_for_path(error: HTTPException) -> Response | HTTPException:
    """Every error under /api/ in JSON: unmatched URLs (404) and wrong methods (405) fail before
    any blueprint is chosen, so a blueprint's own handler would never see them."""
    if request.path == PREFIX or request.path.startswith(PREFIX + "/"):
        return json_error(error)
    return error  # elsewhere Flask's own error page


def json_error(error: HTTPException) -> Response:
    """`error` as the API's JSON error body, with its status and headers (a 405's Allow)."""
    messages = (getattr(error, "data", None) or {}).get("messages")
    body: dict[str, Any] = {"error": _summary(messages) if messages else error.description}
    if messages:
        body["errors"] = messages
    response = jsonify(body)
    response.status_code = error.code or 500
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _summary(messages: dict) -> str:
    """webargs' messages ({location: {field: [text]}}) as one line: "field: text; ..."."""
    parts = []
    for location, by_field in messages.items():
        if not isinstance(by_field, dict):
            parts.append(f"{location}: {by_field}")
            continue
        for field, texts in by_field.items():
            shown = "; ".join(map(str, texts)) if isinstance(texts, list) else str(texts)
            parts.append(shown if field == "_schema" else f"{field}: {shown}")
    return "; ".join(parts)


def configure(app: Flask) -> None:
    """flask-smorest's settings: the OpenAPI 3 document at /api/openapi.json, its reference at
    /api/docs (Swagger UI from the installed swagger-ui-bundle package, see dashboards.api.docs)."""
    app.config.update(
        API_TITLE="Hotline staff API", API_VERSION="1", OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX, OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs", OPENAPI_SWAGGER_UI_URL=f"{PREFIX}/docs/static/",
        API_SPEC_OPTIONS={
            "security": [{"bearer": []}, {"session": []}],
            "components": {"securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "a token from `hotline staff token NAME` or the staff web"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "the staff web's session; unsafe methods also need its "
                                           "CSRF token in X-CSRFToken"},
            }},
        },
    )
