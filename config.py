"""Every setting of Layar Sibalang, read from the environment with safe defaults.

Nothing else in the project reads ``os.environ``: the Flask app loads this module's
``Config`` and passes the values the engine needs as plain arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.agency import AgencyProfile, load_profile
from engine.catalogue import Catalogue, load_catalogue

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("SIBALANG_INSTANCE_DIR", BASE_DIR / "instance"))

DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    return float(value) if value else default


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    # --- environment -------------------------------------------------------------------
    ENV_NAME = os.environ.get("SIBALANG_ENV", "development")  # development | production | test
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    TESTING = False

    # --- database ----------------------------------------------------------------------
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'sibalang.db'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Timeouts: a slow, locked or unreachable database gets a JSON 503 within these, never a hung
    # worker (keep them well under gunicorn's 30 s). The statement timeout is PostgreSQL's; the lock
    # timeout is PostgreSQL's row-lock wait and SQLite's wait for the write lock (busy timeout).
    DB_CONNECT_TIMEOUT = _int("DB_CONNECT_TIMEOUT", 5)  # seconds to open a connection (libpq: at least 2)
    DB_STATEMENT_TIMEOUT_MS = _int("DB_STATEMENT_TIMEOUT_MS", 10_000)
    DB_LOCK_TIMEOUT_MS = _int("DB_LOCK_TIMEOUT_MS", 5_000)
    DB_POOL_SIZE = _int("DB_POOL_SIZE", 5)  # connections kept per worker process (PostgreSQL)
    DB_POOL_TIMEOUT = _int("DB_POOL_TIMEOUT", 5)  # seconds to wait for a free one
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # --- procedures --------------------------------------------------------------------
    BPMN_DIR = Path(os.environ.get("BPMN_DIR", BASE_DIR / "bpmn"))
    # ISO-8601 duration an incomplete application waits for the applicant's resubmission.
    RESUBMISSION_TIMEOUT = os.environ.get("RESUBMISSION_TIMEOUT", "P14D")
    # Roles are the lane names of the diagrams; the bidang list is the agency's own.
    STAFF_ROLES = (
        "operator",
        "supervisor",
        "manager",
        "kadis",
        "kabid",
        "front_office",
        "admin",
        "auditor",
    )
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Makassar")

    # --- the agency: names, region, address, bidang, signers, letter series -------------------
    # One TOML file an adopting district edits (agency/balangan.toml documents every key).
    AGENCY_PROFILE = Path(os.environ.get("AGENCY_PROFILE", BASE_DIR / "agency" / "balangan.toml"))
    AGENCY: AgencyProfile = load_profile(AGENCY_PROFILE)
    # Where the public pages are reached: letters print QR codes to PUBLIC_BASE_URL/verify/<token>.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    # When the applicant may download the letter: "handed_over" (after front office's hand-over)
    # or "issued" (as soon as the manager issues it).
    LETTER_AVAILABLE_TO_APPLICANT = os.environ.get("LETTER_AVAILABLE_TO_APPLICANT", "handed_over")
    # The agency's signing certificate and private key (PEM). `make run` creates a demo pair
    # there when missing (`flask --app web letters demo-certificate`); production plugs in its
    # own (README: "Signing certificate").
    SIGNING_CERT_FILE = Path(os.environ.get("SIGNING_CERT_FILE", INSTANCE_DIR / "signing" / "certificate.pem"))
    SIGNING_KEY_FILE = Path(os.environ.get("SIGNING_KEY_FILE", INSTANCE_DIR / "signing" / "private-key.pem"))
    SIGNING_KEY_PASSPHRASE = os.environ.get("SIGNING_KEY_PASSPHRASE", "")
    # Retired certificates with their handovers (`flask --app web letters rotate-key`), so anchors
    # signed by an older key still verify; default: a "history" folder beside the certificate.
    SIGNING_HISTORY_DIR = Path(os.environ["SIGNING_HISTORY_DIR"]) if os.environ.get("SIGNING_HISTORY_DIR") else None

    # Which procedure each public service and the complaint form start (agency/layanan.toml
    # documents the keys); the catalogue page under /admin/ overrides entries by key.
    SERVICE_CATALOGUE_FILE = Path(os.environ.get("SERVICE_CATALOGUE", BASE_DIR / "agency" / "layanan.toml"))
    SERVICE_CATALOGUE: Catalogue = load_catalogue(SERVICE_CATALOGUE_FILE)

    # --- HTTP --------------------------------------------------------------------------
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_LENGTH", 12 * 1024 * 1024)
    MAX_JSON_BYTES = _int("MAX_JSON_BYTES", 256 * 1024)
    MAX_DOCUMENT_BYTES = _int("MAX_DOCUMENT_BYTES", 5 * 1024 * 1024)
    # an uploaded image's pixel count, read from its header before anything is decoded
    MAX_IMAGE_PIXELS = _int("MAX_IMAGE_PIXELS", 24_000_000)
    DOCUMENT_DIR = Path(os.environ.get("DOCUMENT_DIR", INSTANCE_DIR / "documents"))
    # Files a resident's form sends one at a time before the form (engine/staging.py): per
    # browser session at most this many and this many bytes, kept this many hours
    STAGED_UPLOAD_MAX_FILES = _int("STAGED_UPLOAD_MAX_FILES", 12)
    STAGED_UPLOAD_MAX_BYTES = _int("STAGED_UPLOAD_MAX_BYTES", 30 * 1024 * 1024)
    STAGED_UPLOAD_HOURS = _float("STAGED_UPLOAD_HOURS", 6.0)
    API_TOKEN_TTL_HOURS = _int("API_TOKEN_TTL_HOURS", 12)
    STAFF_SESSION_HOURS = _int("STAFF_SESSION_HOURS", 16)  # a browser login lasts a working day
    # Failed logins (web/throttle.py): a few free tries, then waits of 1, 2, 4 … seconds, counted
    # within the window and since the last success — per account from one client, per client over
    # all accounts, and per account from clients it never logged in from (capped low: no lock-out).
    LOGIN_THROTTLE_WINDOW_MINUTES = _int("LOGIN_THROTTLE_WINDOW_MINUTES", 15)
    LOGIN_FREE_FAILURES = _int("LOGIN_FREE_FAILURES", 3)
    LOGIN_MAX_DELAY_SECONDS = _int("LOGIN_MAX_DELAY_SECONDS", 300)
    LOGIN_CLIENT_FREE_FAILURES = _int("LOGIN_CLIENT_FREE_FAILURES", 10)
    LOGIN_ACCOUNT_FREE_FAILURES = _int("LOGIN_ACCOUNT_FREE_FAILURES", 20)
    LOGIN_ACCOUNT_MAX_DELAY_SECONDS = _int("LOGIN_ACCOUNT_MAX_DELAY_SECONDS", 60)
    LOGIN_KNOWN_CLIENT_DAYS = _int("LOGIN_KNOWN_CLIENT_DAYS", 30)
    PAGE_SIZE_MAX = 100
    # The session cookie: not readable by scripts, never sent on another site's POST.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    JSON_SORT_KEYS = False
    # Responses compressed by Flask-Compress (zstd/br/gzip as the browser accepts). Static files
    # are compressed whole (web/static_files.py): its streaming path leaves the file open.
    COMPRESS_STREAMS = False
    COMPRESS_REGISTER = True

    # --- applicants: abuse limits and notifications ---------------------------------------
    # Rate limits per client address (web/limits.py, Flask-Limiter): "N/second|minute|hour|day",
    # several separated by ";". The storage is shared by every worker when it is Redis
    # ("redis://127.0.0.1:6379/0"); "memory://" counts per process (the embedded default).
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "fixed-window")
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "sibalang")
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True  # Redis down: count per process, never fail the request
    RATELIMIT_SUBMIT = os.environ.get("RATELIMIT_SUBMIT", "20/minute;200/hour")  # applications, complaints
    RATELIMIT_STAGE = os.environ.get("RATELIMIT_STAGE", "30/minute;300/hour")  # one file before its form
    # every way of trying a reference with a tracking code shares this one counter per client
    RATELIMIT_TRACK = os.environ.get("RATELIMIT_TRACK", "30/minute;300/hour")
    RATELIMIT_VERIFY = os.environ.get("RATELIMIT_VERIFY", "30/minute;300/hour")  # letter verification
    RATELIMIT_WEATHER = os.environ.get("RATELIMIT_WEATHER", "60/minute")  # the public forecast
    # the login page's POST and POST /api/v1/auth/token share this counter per client
    RATELIMIT_LOGIN = os.environ.get("RATELIMIT_LOGIN", "10/minute;60/hour")
    # Reverse proxies in front of the app (nginx: 1). 0: X-Forwarded-For is ignored (anyone can
    # send it); N: the client address is the one the Nth proxy from the app saw.
    TRUSTED_PROXIES = _int("TRUSTED_PROXIES", 0)
    # SMS/WhatsApp HTTP gateway (POST JSON {to, message}); empty URL → log file channel.
    NOTIFY_GATEWAY_URL = os.environ.get("NOTIFY_GATEWAY_URL", "")
    NOTIFY_GATEWAY_TOKEN = os.environ.get("NOTIFY_GATEWAY_TOKEN", "")
    NOTIFY_GATEWAY_TIMEOUT = _int("NOTIFY_GATEWAY_TIMEOUT", 10)
    NOTIFY_LOG_FILE = Path(os.environ.get("NOTIFY_LOG_FILE", INSTANCE_DIR / "notifications.log"))
    NOTIFY_MAX_ATTEMPTS = _int("NOTIFY_MAX_ATTEMPTS", 6)
    NOTIFY_RETRY_BASE_SECONDS = _int("NOTIFY_RETRY_BASE_SECONDS", 60)

    # --- weather (BMKG public forecast, https://data.bmkg.go.id) --------------------------------
    BMKG_FORECAST_URL = os.environ.get("BMKG_FORECAST_URL", "https://api.bmkg.go.id/publik/prakiraan-cuaca")
    BMKG_TIMEOUT = _float("BMKG_TIMEOUT", 3.0)  # seconds for one answer; a page never waits longer
    WEATHER_REFRESH_HOURS = _float("WEATHER_REFRESH_HOURS", 3.0)  # per desa; BMKG updates twice a day
    WEATHER_RETRY_MINUTES = _float("WEATHER_RETRY_MINUTES", 10.0)  # after BMKG failed
    WEATHER_FETCHES_PER_MINUTE = _int("WEATHER_FETCHES_PER_MINUTE", 30)  # all workers; BMKG allows 60/IP
    # "" → the database table; "redis://host:6379/0" → Redis shared by the workers
    WEATHER_CACHE_URL = os.environ.get("WEATHER_CACHE_URL", "")
    # tasks whose page shows the forecast of the applicant's desa (the home visit)
    WEATHER_TASKS = tuple(t for t in os.environ.get("WEATHER_TASKS", "kunjungan").split(",") if t)

    # --- audit ---------------------------------------------------------------------------
    # Anchors are signed with the agency's key above (SIGNING_*). The timer worker signs an anchor over all cases' heads when the last is this old (0: never).
    ANCHOR_INTERVAL_MINUTES = _int("ANCHOR_INTERVAL_MINUTES", 60)

    # --- development conveniences -------------------------------------------------------
    DEMO_MODE = _bool("SIBALANG_DEMO", False)
    DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "sibalang-demo")


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key-of-at-least-32-bytes"
    RATELIMIT_ENABLED = False  # tests of the limiter switch it on; others send many requests
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    # the suite never reaches the real BMKG: tests that need it start a fake and point here
    BMKG_FORECAST_URL = "http://127.0.0.1:9/prakiraan-cuaca"
    BMKG_TIMEOUT = 0.5
