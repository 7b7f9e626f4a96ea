"""The baseline for bench/ivr_throughput.py: a bare Flask app whose one route answers every POST
with fixed TwiML about as large as the IVR's average answer (~780 bytes): no signature check, no
database, no catalogue. Served by gunicorn with exactly the IVR's settings."""
from flask import Flask, Response

app = Flask("bare")

TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Say language="en-GB" voice="Google.en-GB-Standard-A">Thank you for calling the hotline. '
    "Calls may be recorded for quality.</Say>"
    '<Gather action="http://127.0.0.1/ivr/topic?attempt=0" actionOnEmptyResult="true" hints="residence, '
    'employment, health, education, social, other" input="dtmf speech" language="en-GB" method="POST" '
    'numDigits="1" speechTimeout="auto" timeout="6">'
    '<Say language="en-GB" voice="Google.en-GB-Standard-A">What is your question about?</Say>'
    '<Say language="en-GB" voice="Google.en-GB-Standard-A">For residence and documents, press 1.</Say>'
    '<Say language="en-GB" voice="Google.en-GB-Standard-A">For work and employment, press 2.</Say>'
    '<Say language="en-GB" voice="Google.en-GB-Standard-A">For health, press 3.</Say>'
    "</Gather></Response>"
)


@app.post("/", defaults={"path": ""})
@app.post("/<path:path>")
def twiml(path: str) -> Response:
    return Response(TWIML, mimetype="text/xml")
