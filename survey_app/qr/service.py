"""From services and counters in the database to posters."""

from __future__ import annotations

import io
import zipfile

from ..models import Sede, Servizio
from ..public.duration import estimate_minutes
from ..settings import public_base_url
from .posters import Poster, poster_pdf, poster_url, short_url


class PosterError(ValueError):
    pass


def poster_for(servizio: Servizio, sede_code: str | None = None) -> Poster:
    base = public_base_url()
    sede: Sede | None = None
    if sede_code:
        sede = next((s for s in servizio.sedi if s.codice == sede_code), None)
        if sede is None:
            known = ", ".join(s.codice for s in servizio.sedi) or "nessuna"
            raise PosterError(f"sede sconosciuta «{sede_code}» per il servizio «{servizio.slug}» (sedi: {known})")
    return Poster(ente=servizio.ente.nome, servizio=servizio.nome_it, sede=sede.nome if sede else None,
                  url=poster_url(base, servizio.slug, sede.codice if sede else None),
                  short_url=short_url(base, servizio.slug), minutes=_minutes(servizio))


def _minutes(servizio: Servizio) -> int | None:
    """The length of the questionnaire the code opens: the service's web one, in its current version."""
    versione = servizio.questionario.versione_corrente
    return estimate_minutes(versione.domande) if versione else None


def posters_for(services: list[Servizio]) -> list[Poster]:
    """Every service × counter; a service without counters gets one poster without."""
    return [poster_for(s, sede.codice) for s in services for sede in s.sedi] + \
        [poster_for(s) for s in services if not s.sedi]


def all_posters_zip(posters: list[Poster]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for poster in posters:
            archive.writestr(f"{poster.file_stem}.pdf", poster_pdf([poster]))
    return buffer.getvalue()
