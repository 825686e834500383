"""Customer-satisfaction platform for Italian public administrations."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from . import settings
from .extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


class DatabaseInteger(IntegerConverter):
    """``<int:…>`` in every route stops at the databases' integer range: a larger id is a 404, not a 500."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=2**31 - 1, signed=False):  # noqa: A002
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class RandomKeyConverter(IntegerConverter):
    """``<key:…>``: the random 64-bit keys of the answers (models.base.random_key); larger is a 404."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=2**63 - 1)


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: defaults, then the instance's config.py, then environment, then test_config."""
    overrides = test_config or {}
    instance = overrides.get("SURVEY_INSTANCE") or os.environ.get("SURVEY_INSTANCE", "demo")
    # An explicit instance folder (tests, packaged deployments) wins over instances/<name>.
    instance_path = overrides.get("INSTANCE_PATH") or os.environ.get("SURVEY_INSTANCE_PATH") \
        or str(ROOT / "instances" / instance)
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.url_map.converters["int"] = DatabaseInteger
    app.url_map.converters["key"] = RandomKeyConverter
    app.config.from_object(settings.Defaults)
    app.config["SURVEY_INSTANCE"] = instance
    app.config.from_pyfile("config.py", silent=True)
    settings.apply_environment(app.config, os.environ)
    if test_config is not None:
        app.config.update(test_config)
    settings.finalise(app)

    register_extensions(app)
    register_blueprints(app)
    from . import errors

    errors.init_app(app)
    from . import ratelimit

    ratelimit.init_app(app)
    from . import security

    security.init_app(app)
    register_commands(app)
    if app.config["TRUSTED_PROXIES"]:
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"), compare_type=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    from . import assets

    assets.init_app(app)
    from . import database, summary  # noqa: F401  (SQLite pragmas; the hook that keeps the answer counts in step)
    from .figures_cache import init_app as init_figures_cache

    init_figures_cache(app)
    from .i18n import init_app as init_i18n

    init_i18n(app, babel)


def register_blueprints(app: Flask) -> None:
    from .api import bp as api_bp
    from .api.staff import bp as api_tokens_bp
    from .imports.routes import bp as imports_bp
    from .kiosk import bp as kiosk_bp
    from .public import bp as public_bp
    from .qr import bp as qr_bp
    from .staff import bp as staff_bp
    from .transparency import bp as transparency_bp
    from .transparency.actions import bp as actions_bp
    from .transparency.staff import bp as publishing_bp
    from .users.routes import bp as users_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(qr_bp)
    app.register_blueprint(transparency_bp)
    app.register_blueprint(publishing_bp)
    app.register_blueprint(actions_bp)
    app.register_blueprint(imports_bp)
    # The API authenticates each request by its token, never by a cookie: no CSRF token to send.
    csrf.exempt(api_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(users_bp)


def register_commands(app: Flask) -> None:
    from .api.cli import api_tokens_cli
    from .catalogue.cli import catalogue_cli
    from .demo.cli import demo_cli
    from .errors import guard_commands
    from .imports.cli import responses_cli
    from .maintenance.cli import backup_command, erase_order_command, purge_command, restore_command
    from .qr.cli import qr_cli
    from .reports.cli import report_cli
    from .transparency.cli import export_cli
    from .users.cli import users_cli

    for group in (api_tokens_cli, catalogue_cli, demo_cli, export_cli, qr_cli, report_cli, responses_cli, users_cli,
                  backup_command, restore_command, purge_command, erase_order_command):
        guard_commands(group)
        app.cli.add_command(group)
