"""HTTP-level protections shared by every page: headers, ids in URLs, safe redirects,
absolute addresses."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from flask import Flask, current_app, g, has_request_context, request
from werkzeug.exceptions import SecurityError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from lms import db

# No inline script or style anywhere: everything comes from our own static files.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

#: Our primary keys are 32-bit; a larger id in a URL is simply not found.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` limited to 1..2**31-1, so a huge id is a 404 rather than a
    database overflow error on PostgreSQL."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def safe_next_url(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else ``None`` (no open redirects)."""
    if not target or len(target) > 2000:
        return None
    target = target.strip()
    # Browsers treat backslashes as slashes: "/\\evil.example" would leave the site.
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def public_url(endpoint: str, /, **values: Any) -> str:
    """The absolute address of ``endpoint`` on this platform, built from ``LMS_PUBLIC_URL``.

    Never from the request: its ``Host`` and ``X-Forwarded-Host`` are whatever the sender
    chose, and a link built from them (in an invitation, a calendar, a certificate) would
    send people to the sender's site. ``PUBLIC_URL`` may have a path (the app served under
    ``https://example.org/lms``); it replaces the request's ``SCRIPT_NAME``. Works without
    a request too (the print worker, the command line). ``_anchor`` adds a fragment.
    """
    base = urlsplit(current_app.config["PUBLIC_URL"])
    if not base.scheme or not base.netloc:
        raise RuntimeError("LMS_PUBLIC_URL is not set: absolute addresses cannot be built")
    if endpoint.startswith("."):
        blueprint = request.blueprint if has_request_context() else None
        endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
    anchor = values.pop("_anchor", None)
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(anchor, safe="%!#$&'()*+,/:;=?@")
    return url


def _refuse_untrusted_host() -> Response | None:
    # Flask checks the Host against TRUSTED_HOSTS (production) before routing; answer a
    # request for another host here, before anything else runs: without a trusted host no
    # address can be built, so the site's own error page cannot be rendered.
    if isinstance(request.routing_exception, SecurityError):
        return request.routing_exception.get_response()
    return None


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.endpoint != "static":
        # Pages carry personal data; no browser or proxy may keep a copy.
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def _declare_write_intent() -> None:
    # GET requests only read: they begin deferred transactions (see lms.db).
    g.write_intent_token = db.set_write_intent(request.method not in {"GET", "HEAD", "OPTIONS"})


def _forget_write_intent(_exc: BaseException | None) -> None:
    token = g.pop("write_intent_token", None)
    if token is not None:
        db.reset_write_intent(token)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        # Not X-Forwarded-Host: the host comes from the proxy's Host header, checked against
        # TRUSTED_HOSTS, and links never use it (see public_url).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
    app.jinja_env.globals["public_url"] = public_url
    app.before_request(_refuse_untrusted_host)
    app.before_request(_declare_write_intent)
    app.teardown_request(_forget_write_intent)
    app.after_request(_security_headers)
