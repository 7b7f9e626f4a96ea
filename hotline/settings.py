"""Settings read from the environment: one flat, typed object, built once per app."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TWILIO_DEFAULT_API_BASE_URL = "https://api.twilio.com"


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None  # None: an in-process fakeredis server, with the worker in-process
    secret_key: str
    public_base_url: str | None  # None: taken from each request (only sensible without a proxy)
    twilio_account_sid: str
    twilio_auth_token: str
    twilio_phone_number: str
    twilio_api_base_url: str
    config_path: str | None
    instance_path: str
    # True: Twilio's REST API is the built-in stand-in (hotline.dev.twilio_stand_in.FakeTwilioApi), so no
    # call or SMS leaves the machine. See from_env for when.
    twilio_stand_in: bool = False
    extra: dict = field(default_factory=dict)
    # HOTLINE_PERIODIC_SECONDS, e.g. "queue-sweep=1,callback-reconciliation=2": periodic jobs'
    # intervals in seconds, over hotline.jobs.periodic's own (tests use short ones).
    periodic_seconds: dict[str, int] = field(default_factory=dict)
    # STAFF_IDLE_MINUTES: a staff web session ends after this long without a request.
    staff_idle_minutes: int = 30
    # LOGIN_RATE_LIMIT: failed logins allowed per name and per address (Flask-Limiter's notation).
    login_rate_limit: str = "5 per minute;20 per hour"
    # HOTLINE_SPEECH_ENGINE: what speaks the languages Twilio has no voice for (hotline.voice.speech.engines):
    # "auto" (the best found), "espeak-ng" (the program), "library" (espeakng-loader) or "none".
    speech_engine: str = "auto"

    @classmethod
    def from_env(cls, instance_path: str, environ: os._Environ | dict | None = None) -> "Settings":
        """Read every setting from `environ` (default: os.environ); defaults suit a laptop.

        Without TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN both set (the development defaults would be
        refused by Twilio, after the request had gone out) and without a TWILIO_API_BASE_URL of its
        own (a mock such as Prism), Twilio's REST API is the built-in stand-in: twilio_stand_in.
        """
        env = os.environ if environ is None else environ
        credentials = bool(env.get("TWILIO_ACCOUNT_SID") and env.get("TWILIO_AUTH_TOKEN"))
        default_db = "sqlite:///" + str(Path(instance_path) / "hotline.sqlite3")
        return cls(
            database_url=env.get("DATABASE_URL") or default_db,
            redis_url=env.get("REDIS_URL") or None,
            secret_key=env.get("SECRET_KEY") or "dev-only-secret-key",
            public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or "dev-auth-token",
            twilio_phone_number=env.get("TWILIO_PHONE_NUMBER") or "+35924916000",
            twilio_api_base_url=(env.get("TWILIO_API_BASE_URL") or TWILIO_DEFAULT_API_BASE_URL).rstrip("/"),
            config_path=env.get("HOTLINE_CONFIG") or None,
            instance_path=instance_path,
            twilio_stand_in=not credentials and not env.get("TWILIO_API_BASE_URL"),
            periodic_seconds=_seconds_by_name(env.get("HOTLINE_PERIODIC_SECONDS") or ""),
            staff_idle_minutes=int(env.get("STAFF_IDLE_MINUTES") or 30),
            login_rate_limit=env.get("LOGIN_RATE_LIMIT") or "5 per minute;20 per hour",
            speech_engine=env.get("HOTLINE_SPEECH_ENGINE") or "auto",
        )

    @property
    def embedded(self) -> bool:
        """True when Redis is the in-process stand-in (and so the RQ worker must be too)."""
        return self.redis_url is None


def _seconds_by_name(text: str) -> dict[str, int]:
    """Parse "a=1,b=20" into {"a": 1, "b": 20}. Raises ValueError on anything else (or seconds below 1)."""
    pairs = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, seconds = item.partition("=")
        if not name.strip() or not seconds.strip().isdigit() or int(seconds) < 1:
            raise ValueError(f"expected name=seconds (seconds >= 1), got {item!r}")
        pairs[name.strip()] = int(seconds)
    return pairs
