"""Development tools, never loaded by a production process: the built-in stand-in for Twilio's REST
API (and its page of requests made), the terminal phone that plays a caller or a consultant against
a running service, and the demo's data and configuration. The app factory imports this package only
when it runs without Twilio credentials (settings.twilio_stand_in)."""
