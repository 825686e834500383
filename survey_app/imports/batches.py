"""The imported batches: the list, a batch's own page (what it brought, service by service), its left-out rows and
its rollback.

A firm sees its own batches; an office manager (responsabile) those that brought answers to the services in their
scope, and of each only those services; the administrator and the transparency officer see every batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from ..extensions import db
from ..models import ROLES_SEEING_ALL, ApiToken, Compilazione, ImportBatch, Rilevazione, Servizio, User
from ..staff.access import BATCH_READERS, IMPORTERS, roles_required
from ..staff.routes import visible_services
from .load import ImportRefused
from .rollback import rollback_batch
from .routes import METHODS, _errors_file, _questionnaires, bp, firm_of

LISTED = 200


@dataclass(frozen=True)
class ServiceShare:
    """What a batch brought to one service: how many questionnaires, over which days, in which campaigns."""

    servizio: Servizio
    compilazioni: int
    dal: datetime
    al: datetime
    rilevazioni: list[Rilevazione]


def _scope() -> list[int] | None:
    """The services whose batches the user sees, None for all (a firm's are its own, whatever they hold)."""
    if current_user.ruolo in ROLES_SEEING_ALL or current_user.ruolo == "rilevatore":
        return None
    return [s.id for s in current_user.servizi]


def _readable(batch: ImportBatch | None, scope: list[int] | None) -> bool:
    if batch is None:
        return False
    if current_user.ruolo == "rilevatore":
        return batch.fonte == firm_of(current_user)
    return scope is None or db.session.scalar(select(Compilazione.id).where(
        Compilazione.import_batch_id == batch.id, Compilazione.servizio_id.in_(scope)).limit(1)) is not None


@bp.get("/")
@roles_required(*BATCH_READERS)
def index():
    batches = select(ImportBatch).order_by(ImportBatch.id.desc())
    scope = _scope()
    if current_user.ruolo == "rilevatore":
        # A firm sees its own batches, whichever of its accounts or tokens sent them, and no one else's.
        batches = batches.filter_by(fonte=firm_of(current_user))
    elif scope is not None:
        batches = batches.where(ImportBatch.id.in_(select(Compilazione.import_batch_id).where(
            Compilazione.servizio_id.in_(scope), Compilazione.import_batch_id.is_not(None))))
    listed = db.session.scalars(batches.limit(LISTED)).all()
    # The batches whose left-out rows can be downloaded (the list itself is loaded only when asked for).
    with_excluded = set(db.session.scalars(select(ImportBatch.id).where(
        ImportBatch.id.in_([b.id for b in listed]), ImportBatch.righe_escluse.is_not(None))))
    uploads = current_user.ruolo in IMPORTERS
    return render_template("imports/index.html", questionnaires=_questionnaires() if uploads else {},
                           batches=listed, with_excluded=with_excluded, uploads=uploads, whole=scope is None)


def service_shares(batch_id: int, scope: list[int] | None) -> tuple[list[ServiceShare], bool]:
    """The batch's questionnaires per service within ``scope`` (None: all) and the user's visible services, and
    whether it holds others too."""
    rows = db.session.execute(
        select(Compilazione.servizio_id, func.count(), func.min(Compilazione.data_ora), func.max(Compilazione.data_ora))
        .where(Compilazione.import_batch_id == batch_id).group_by(Compilazione.servizio_id)).all()
    shown = [row for row in rows if scope is None or row[0] in scope]
    services = {s.id: s for s in db.session.scalars(visible_services().where(Servizio.id.in_([r[0] for r in shown])))}
    campaigns: dict[int, list[Rilevazione]] = {}
    for service_id, campaign in db.session.execute(
            select(Compilazione.servizio_id, Rilevazione).join(Rilevazione, Compilazione.rilevazione_id == Rilevazione.id)
            .where(Compilazione.import_batch_id == batch_id).distinct().order_by(Rilevazione.data_inizio)):
        campaigns.setdefault(service_id, []).append(campaign)
    shares = [ServiceShare(services[service_id], count, first, last, campaigns.get(service_id, []))
              for service_id, count, first, last in shown if service_id in services]
    return sorted(shares, key=lambda share: share.servizio.nome_it), len(shares) < len(rows)


def _sender(batch: ImportBatch) -> str | None:
    """Who sent the batch: an account's address or an API token's name (for the office and the firm)."""
    if current_user.ruolo not in IMPORTERS:
        return None
    if batch.token_id is not None:
        name = db.session.scalar(select(ApiToken.nome).where(ApiToken.id == batch.token_id))
        return _("API, token «%(name)s»", name=name) if name else _("API")
    return db.session.scalar(select(User.email).where(User.id == batch.utente_id)) if batch.utente_id else None


@bp.get("/lotti/<int:batch_id>")
@roles_required(*BATCH_READERS)
def batch(batch_id: int):
    found = db.session.get(ImportBatch, batch_id)
    scope = _scope()
    if not _readable(found, scope):
        abort(404)  # another firm's batch, or one outside the scope, looks the same as an unknown one
    shares, others = service_shares(batch_id, scope)
    # An office manager reads a batch's services of their scope, never its file's name or counts: with their own
    # services' questionnaires, those gave the others' away.
    return render_template("imports/batch.html", batch=found, shares=shares, others=others, sender=_sender(found),
                           whole=scope is None,
                           method=next((c.label for c in METHODS if c.value == found.metodo), found.metodo),
                           excluded=found.righe_escluse is not None and current_user.ruolo in IMPORTERS)


@bp.get("/lotti/<int:batch_id>/escluse.csv")
@roles_required(*IMPORTERS)
def excluded_rows(batch_id: int):
    """The rows a batch left out ("Importa solo le righe valide") and why: the preview's list is gone once the
    file is imported, and the firm fixes those rows from it."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or not batch.righe_escluse or not _readable(batch, _scope()):
        abort(404)  # another firm's batch looks the same as an unknown one
    listed = len({row[0] for row in batch.righe_escluse})
    more = batch.righe_scartate - listed
    return _errors_file(batch.righe_escluse, f"lotto-{batch.id}-righe-escluse.csv",
                        ("un'altra riga esclusa non elencata" if more == 1 else f"altre {more} righe escluse non "
                         "elencate") if more > 0 else None)


@bp.route("/lotti/<int:batch_id>/annulla", methods=["GET", "POST"])
@roles_required("admin")
def rollback(batch_id: int):
    """An admin rolls a batch back as a whole, after seeing what goes (the form is the confirmation)."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        abort(404)
    if request.method == "POST":
        try:
            removed = rollback_batch(db.session, batch_id, user=current_user)
        except ImportRefused as exc:
            flash(str(exc), "error")
            return redirect(url_for(".index"))
        flash(_("Lotto %(batch)d annullato: tolti %(n)d questionari.", batch=batch_id, n=removed), "success")
        return redirect(url_for(".index"))
    return render_template("imports/rollback.html", batch=batch, shares=service_shares(batch_id, None)[0])
