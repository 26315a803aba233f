"""The Flask layer: app factory, blueprints (API, pages), CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask


def create_app(config: Any = None) -> Flask:
    """Build the app: load settings, bind extensions, register blueprints and commands."""
    from config import Config

    from .unit_of_work import App

    app = App(__name__, instance_path=str(Path(__file__).resolve().parent.parent / "instance"))
    app.config.from_object(config or Config)
    from .converters import BoundedIntegerConverter
    from .strict_json import StrictJSONProvider

    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = BoundedIntegerConverter
    _check_production_settings(app)
    _use_agency_profile(app)

    from engine.models import compact_json

    from . import auth, cli, errors, i18n, labels, xhr_redirect
    from .api import bp as api_bp
    from .extensions import db, login_manager, migrate

    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config, compact_json)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent / "migrations"))
    login_manager.init_app(app)
    with app.app_context():
        _tune_sqlite(db.engine, app.config["DB_LOCK_TIMEOUT_MS"])
    _refuse_demo_accounts(app)

    from . import security, static_files

    security.init_app(app)
    static_files.init_app(app)
    i18n.init_app(app)
    xhr_redirect.init_app(app)
    labels.init_app(app)
    auth.init_app(app)
    errors.init_app(app)
    app.register_blueprint(api_bp)
    from . import notify, public

    public.init_app(app)
    notify.init_app(app)
    from . import staff

    staff.init_app(app)
    from . import companions

    companions.init_app(app)
    from . import admin

    admin.init_app(app)
    from . import audit

    audit.init_app(app)
    cli.init_app(app)
    from . import letters, signing

    signing.init_app(app)
    letters.init_app(app)
    from . import limits

    limits.init_app(app)  # last: it wraps the views every blueprint registered
    return app


ENV_NAMES = {"development": "development", "dev": "development", "production": "production", "prod": "production"}
ENV_NAMES["test"] = "test"
MIN_SECRET_KEY_BYTES = 32
NEW_KEY_HINT = "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class ConfigurationRefused(RuntimeError):
    """The settings are unsafe for the environment they name: the app does not start."""


def _check_production_settings(app: Flask) -> None:
    """Refuse to start on settings a production server must not run with (clear words why)."""
    from config import DEFAULT_SECRET_KEY

    raw = str(app.config.get("ENV_NAME") or "").strip().lower()
    if raw not in ENV_NAMES:
        raise ConfigurationRefused(
            f"SIBALANG_ENV={app.config.get('ENV_NAME')!r} is not a known environment "
            "(development, production or prod, test); refusing to start rather than guess"
        )
    app.config["ENV_NAME"] = ENV_NAMES[raw]
    if app.config["ENV_NAME"] != "production":
        return
    key = app.config.get("SECRET_KEY") or ""
    size = len(key.encode() if isinstance(key, str) else key)
    if not size:
        raise ConfigurationRefused(
            f"SECRET_KEY is empty; production needs a random key of at least 32 bytes ({NEW_KEY_HINT})"
        )
    if key == DEFAULT_SECRET_KEY:
        raise ConfigurationRefused(f"SECRET_KEY is the development default; production needs its own ({NEW_KEY_HINT})")
    if size < MIN_SECRET_KEY_BYTES:
        raise ConfigurationRefused(
            f"SECRET_KEY is {size} bytes; production needs at least {MIN_SECRET_KEY_BYTES} ({NEW_KEY_HINT})"
        )
    app.config["SESSION_COOKIE_SECURE"] = True


def _refuse_demo_accounts(app: Flask) -> None:
    """In production, refuse a database that still has the demo logins of ``make run``."""
    if app.config["ENV_NAME"] != "production":
        return
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from .demo import active_demo_logins
    from .extensions import db

    with app.app_context():
        try:
            names = active_demo_logins(db.session, app.config["DEMO_PASSWORD"])
        except (OperationalError, ProgrammingError):
            names = []  # no schema yet (before `flask db upgrade`): no accounts at all
        finally:
            db.session.remove()
            # the check's connection is closed, not left idle in the pool: a refused app (or one a
            # caller drops) leaves nothing to the collector; a served app connects again on use
            db.engine.dispose()
    if names:
        raise ConfigurationRefused(
            f"the database has demo accounts that still take the demo password ({', '.join(names)}); "
            "production refuses them. Disable them with: "
            "SIBALANG_ENV=development flask --app web users disable-demo (same DATABASE_URL)"
        )


def _use_agency_profile(app: Flask) -> None:
    """The agency profile serves the region data, and every template sees it as ``agency``."""
    from engine import regions

    profile = app.config["AGENCY"]
    regions.use_region_file(profile.region_file, profile.regency_code)
    app.jinja_env.globals["agency"] = profile


def _engine_options(config: Any, json_serializer: Any) -> dict[str, Any]:
    """SQLAlchemy engine options from the settings: timeouts everywhere, nothing that can hang."""
    uri = config["SQLALCHEMY_DATABASE_URI"]
    # hide_parameters: database errors (and the logs they reach) never carry NIK, names or phones
    options: dict[str, Any] = {"hide_parameters": True, **config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    options["json_serializer"] = json_serializer
    if uri.startswith("sqlite"):
        options["connect_args"] = {"timeout": config["DB_LOCK_TIMEOUT_MS"] / 1000, "check_same_thread": False}
        if uri not in {"sqlite://", "sqlite:///:memory:"}:
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return options
    statement, lock = config["DB_STATEMENT_TIMEOUT_MS"], config["DB_LOCK_TIMEOUT_MS"]
    options.setdefault("pool_pre_ping", True)  # a connection the server dropped is replaced, not used
    options.setdefault("pool_size", config["DB_POOL_SIZE"])
    options.setdefault("pool_timeout", config["DB_POOL_TIMEOUT"])
    options["connect_args"] = {
        "connect_timeout": config["DB_CONNECT_TIMEOUT"],
        "options": f"-c statement_timeout={int(statement)} -c lock_timeout={int(lock)}",
        **options.get("connect_args", {}),
    }
    return options


def _tune_sqlite(engine: Any, busy_timeout_ms: int) -> None:
    """WAL and a busy timeout so readers never block the writer on the embedded database."""
    if engine.dialect.name != "sqlite":
        return
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
