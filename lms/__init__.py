"""RNGT LMS: the learning platform of the Regional Network of Gender Trainers."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from jinja2 import StrictUndefined

from lms.config import ROOT, ConfigError, build_config

csrf = CSRFProtect()

__all__ = ["ConfigError", "create_app"]


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then the environment, then ``config``."""
    from lms import access, cli, db, errors, i18n, migrate, navigation, web
    from lms.account.views import bp as account_bp
    from lms.audit.views import bp as audit_bp
    from lms.auth import sessions
    from lms.auth.mfa_views import bp as mfa_bp
    from lms.auth.views import bp as auth_bp
    from lms.certificates import labels as certificate_labels
    from lms.certificates.verify_views import bp as verify_bp
    from lms.certificates.views import bp as certificates_bp
    from lms.coaching import labels as coaching_labels
    from lms.coaching.views import bp as coaching_bp
    from lms.courses import labels as course_labels
    from lms.courses.calendar_views import bp as calendar_bp
    from lms.courses.enrolment_views import bp as enrolments_bp
    from lms.courses.network_views import bp as network_bp
    from lms.courses.roster_views import bp as rosters_bp
    from lms.courses.views import bp as courses_bp
    from lms.curriculum import store
    from lms.curriculum.views import bp as learn_bp
    from lms.dashboard.views import bp as dashboard_bp
    from lms.people.views import bp as people_bp
    from lms.reports.views import bp as reports_bp

    settings = build_config(config)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(settings["INSTANCE_DIR"]),
    )
    app.config.update(settings)
    app.jinja_env.add_extension("jinja2.ext.do")
    if app.config.get("TESTING"):
        # A typo in a template fails the test instead of rendering as an empty string.
        app.jinja_env.undefined = StrictUndefined

    # Order matters: the id converter before any route; session timeouts before access rules.
    web.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    i18n.init_app(app)
    sessions.init_app(app)
    access.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    store.init_app(app)
    course_labels.init_app(app)
    coaching_labels.init_app(app)
    certificate_labels.init_app(app)

    blueprints = (
        auth_bp, dashboard_bp, learn_bp, courses_bp, enrolments_bp, rosters_bp, calendar_bp, network_bp, coaching_bp,
        certificates_bp, verify_bp, reports_bp, account_bp, people_bp, audit_bp, mfa_bp,
    )  # fmt: skip
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    cli.init_app(app)

    # Serving refuses a schema that is not the one this code expects. The command line is
    # how a schema is brought up to date (lms init, lms restore), so it is let through; the
    # one long-running command, the print worker, checks for itself.
    if app.config["LMS_ENV"] == "production" and os.environ.get("FLASK_RUN_FROM_CLI") != "true":
        migrate.require_head(app)
    return app
