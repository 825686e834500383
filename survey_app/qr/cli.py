"""`flask qr poster SLUG [--sede CODE] --out FILE` (to be written)."""

from flask.cli import AppGroup

qr_cli = AppGroup("qr", help="Codici QR e locandine.")
