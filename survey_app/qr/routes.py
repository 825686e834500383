"""Staff downloads of the posters, only for the services the user may see."""

from __future__ import annotations

import io

from flask import abort, render_template, request, send_file, url_for
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..kiosk.routes import kiosk_version
from ..models import Servizio
from ..settings import public_base_url
from ..staff.access import RESULT_READERS, roles_required
from ..staff.routes import visible_services
from . import bp
from .posters import WRITERS, poster_pdf
from .service import PosterError, all_posters_zip, poster_for, posters_for

BUNDLES = {
    "pdf": ("application/pdf", poster_pdf),
    "zip": ("application/zip", all_posters_zip),
}


def _visible() -> list[Servizio]:
    return list(db.session.scalars(visible_services().options(selectinload(Servizio.sedi))))


@bp.get("/")
@roles_required(*RESULT_READERS)
def index():
    services = _visible()
    # The address to open on a counter's tablet, for the services that have a kiosk (docs/kiosk.md).
    base = public_base_url().rstrip("/")
    kiosks = {(s.slug, sede.codice): f"{base}{url_for('kiosk.faces', slug=s.slug, sede=sede.codice)}"
              for s in services if kiosk_version(s) for sede in s.sedi}
    kiosks |= {(s.slug, None): f"{base}{url_for('kiosk.faces', slug=s.slug)}"
               for s in services if not s.sedi and kiosk_version(s)}
    return render_template("qr/index.html", services=services, kiosks=kiosks)


# `any` keeps /tutti.svg free for a service whose slug happens to be "tutti".
@bp.get("/tutti.<any(pdf, zip):fmt>")
@roles_required(*RESULT_READERS)
def all_posters(fmt: str):
    posters = posters_for(_visible())
    if not posters:
        abort(404)
    mimetype, writer = BUNDLES[fmt]
    return send_file(io.BytesIO(writer(posters)), mimetype=mimetype, as_attachment=True,
                     download_name=f"locandine.{fmt}")


@bp.get("/<slug>.<fmt>")
@roles_required(*RESULT_READERS)
def poster(slug: str, fmt: str):
    suffix = f".{fmt}"
    servizio = db.session.scalar(visible_services().where(Servizio.slug == slug))
    if servizio is None or suffix not in WRITERS:
        abort(404)  # out of scope looks the same as unknown
    try:
        item = poster_for(servizio, request.args.get("sede") or None)
    except PosterError:
        abort(404)
    mimetype, writer = WRITERS[suffix]
    # As an attachment: an SVG opened inline would run in our origin.
    return send_file(io.BytesIO(writer(item)), mimetype=mimetype, as_attachment=True,
                     download_name=f"{item.file_stem}{suffix}")
