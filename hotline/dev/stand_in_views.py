"""What the built-in stand-in for Twilio's REST API has been asked, for `hotline phone` to act on.

When the service runs without Twilio credentials (settings.twilio_stand_in), the consultants it
rings and the callers it redirects through the REST API exist only in the stand-in's memory. The
terminal phone reads them here, signed like a webhook, and plays those legs as Twilio would. With
real credentials (or any other REST client) this answers 404: there is nothing to read.
"""
from __future__ import annotations

from flask import Blueprint, Flask, abort, jsonify, request

from hotline import runtime
from hotline.dev.twilio_stand_in import FakeTwilioApi
from hotline.telephony import twilio_webhook
from hotline.webhooks import whole_number

blueprint = Blueprint("stand_in", __name__, url_prefix="/twilio-stand-in")


@blueprint.route("/requests", methods=["GET", "POST"])
@twilio_webhook
def requests_made():
    """The stand-in's requests after index `after` (0 first): {"requests": [{"index", "method",
    "path", "data", "sid"}...]}, oldest first. 404 when the REST API is not the stand-in."""
    api = runtime.current().twilio_http
    if not isinstance(api, FakeTwilioApi):
        abort(404)
    after = whole_number(request.values.get("after")) or 0
    made = [{"index": index, "method": r.method, "path": r.path, "data": r.data, "sid": r.sid}
            for index, r in enumerate(list(api.requests)) if index >= after]
    return jsonify(requests=made)


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
