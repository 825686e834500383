"""The service a citizen's page is about, read in one query: what the pages show of it and its current version.

Every citizen's request starts here. Through the ORM it took three queries (the service, its latest version, the
ente through the office) and well over a millisecond; this is one Core query whose rows become small frozen objects
shaped like the entities the templates already know (``servizio.nome(lang)``, ``questionario.titolo(lang)``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..models import Ente, Questionario, QuestionarioVersione, Sede, Servizio, Ufficio
from ..models.base import Bilingual


@dataclass(frozen=True)
class CurrentVersion:
    """The questionnaire version new answers go to: its key, and its fingerprint (which keys the cached form)."""

    id: int
    impronta: str


@dataclass(frozen=True)
class PublicQuestionnaire(Bilingual):
    id: int
    titolo_it: str
    titolo_en: str | None
    introduzione_it: str | None
    introduzione_en: str | None

    def titolo(self, lang: str = "it") -> str:
        return self.localised("titolo", lang)

    def introduzione(self, lang: str = "it") -> str | None:
        return self.localised("introduzione", lang)


@dataclass(frozen=True)
class PublicService(Bilingual):
    id: int
    slug: str
    nome_it: str
    nome_en: str | None
    ente_name: str
    questionario: PublicQuestionnaire
    versione: CurrentVersion | None
    session: Session = field(compare=False, repr=False)  # not part of what the pages show, nor of a key

    def nome(self, lang: str = "it") -> str:
        return self.localised("nome", lang)

    @property
    def sedi(self) -> list[Sede]:
        """The service's counters, read only when a request names one (a QR code's ``sede``)."""
        return list(self.session.scalars(select(Sede).filter_by(servizio_id=self.id).order_by(Sede.codice)))


_servizi, _uffici, _enti = Servizio.__table__, Ufficio.__table__, Ente.__table__
_questionari, _versioni = Questionario.__table__, QuestionarioVersione.__table__
_newer = _versioni.alias("newer")
_latest = select(func.max(_newer.c.numero)).where(_newer.c.questionario_id == _questionari.c.id).scalar_subquery()
SERVICE_BY_SLUG = (
    select(_servizi.c.id, _servizi.c.slug, _servizi.c.nome_it, _servizi.c.nome_en, _enti.c.nome.label("ente_name"),
           _questionari.c.id.label("q_id"), _questionari.c.titolo_it, _questionari.c.titolo_en,
           _questionari.c.introduzione_it, _questionari.c.introduzione_en,
           _versioni.c.id.label("v_id"), _versioni.c.impronta)
    .join(_uffici, _uffici.c.id == _servizi.c.ufficio_id)
    .join(_enti, _enti.c.id == _uffici.c.ente_id)
    .join(_questionari, _questionari.c.id == _servizi.c.questionario_id)
    .outerjoin(_versioni, and_(_versioni.c.questionario_id == _questionari.c.id, _versioni.c.numero == _latest))
    .where(_servizi.c.slug == bindparam("slug"))
)


@functools.lru_cache(maxsize=8)
def _autocommit(engine: Engine) -> Engine:
    """The engine's pool, handing out connections outside any transaction (built once: it costs ~40 µs)."""
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def public_service(session: Session, slug: str, *, read_only: bool = False) -> PublicService | None:
    """The service by its slug, or None. ``read_only`` (a page that writes nothing) reads outside a transaction on
    PostgreSQL: that saves the BEGIN and the ROLLBACK around the one query, two of the page's four round trips.
    (SQLite opens no transaction for a read anyway.) A submission reads in its own transaction, next to what it
    writes."""
    bind = session.get_bind()
    if read_only and bind.dialect.name != "sqlite":
        with _autocommit(bind).connect() as connection:
            row = connection.execute(SERVICE_BY_SLUG, {"slug": slug}).one_or_none()
    else:
        row = session.connection().execute(SERVICE_BY_SLUG, {"slug": slug}).one_or_none()  # Core, not the ORM
    if row is None:
        return None
    questionario = PublicQuestionnaire(row.q_id, row.titolo_it, row.titolo_en, row.introduzione_it,
                                       row.introduzione_en)
    versione = CurrentVersion(row.v_id, row.impronta) if row.v_id is not None else None
    return PublicService(row.id, row.slug, row.nome_it, row.nome_en, row.ente_name, questionario, versione, session)
