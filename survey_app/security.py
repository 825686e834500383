"""Security headers on every response (Flask-Talisman): a Content-Security-Policy with no inline script but
those carrying the request's nonce, no framing, no MIME sniffing, a strict referrer, and HSTS in production.

Pages serve their own scripts (questionnaire.js, kiosk.js, plotly-basic.min.js). Plotly's figures come with an inline
script each: the ``nonced`` filter gives them the request's nonce at render time, so figures kept by
figures_cache (computed for another request) carry the right one. Styles may be inline: plotly.js writes its own
<style> rules and sizes its figures with style attributes.
"""

from __future__ import annotations

import re

from flask import Flask, request
from flask_talisman import Talisman
from markupsafe import Markup

CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'", "data:"],
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>")  # an opening <script> tag without src

talisman = Talisman()


def init_app(app: Flask) -> None:
    production = app.config["SURVEY_ENV"] == "production"
    talisman.init_app(
        app,
        content_security_policy=CSP,
        content_security_policy_nonce_in=["script-src"],
        force_https=False,  # the proxy in front redirects; the app never sees plain HTTP from outside in production
        strict_transport_security=production,
        strict_transport_security_max_age=365 * 24 * 3600,
        session_cookie_secure=production,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
    )
    app.add_template_filter(nonced)


def static_headers(app: Flask):
    """WhiteNoise's ``add_headers_function``: the files it serves never reach Flask (nor Talisman), so they get the
    same headers here (the policy without a nonce: a static file has no inline script)."""
    policy = "; ".join(f"{name} {' '.join(value) if isinstance(value, list) else value}" for name, value in CSP.items())
    fixed = {"Content-Security-Policy": policy, "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
             "Referrer-Policy": "strict-origin-when-cross-origin"}
    if app.config["SURVEY_ENV"] == "production":
        fixed["Strict-Transport-Security"] = f"max-age={365 * 24 * 3600}; includeSubDomains"

    def add(headers, path: str, url: str) -> None:
        for name, value in fixed.items():
            headers[name] = value
    return add


def nonced(markup: Markup | None) -> Markup:
    """Plotly's inline scripts with this request's CSP nonce."""
    if not markup:
        return Markup("")
    nonce = getattr(request, "csp_nonce", "")
    return Markup(INLINE_SCRIPT.sub(f'<script nonce="{nonce}"\\1>', str(markup)))  # noqa: S704 - plotly's, our nonce
