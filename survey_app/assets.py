"""Static files: served by WhiteNoise, compressed, cached for a year behind content-hashed URLs."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from flask import Flask, url_for
from whitenoise import WhiteNoise

from .security import static_headers

ONE_YEAR = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    static = Path(app.static_folder)

    @cache
    def fingerprint(filename: str) -> str:
        path = static / filename
        return hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else "missing"

    def asset_url(filename: str) -> str:
        """URL of a static file carrying its content hash, so it can be cached for a year."""
        return url_for("static", filename=filename, v=fingerprint(filename))

    app.jinja_env.globals["asset_url"] = asset_url
    # WhiteNoise serves the pre-compressed .gz files that `make assets` writes, with long cache headers.
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=str(static), prefix=app.static_url_path.strip("/") + "/",
                              max_age=ONE_YEAR, add_headers_function=static_headers(app))
