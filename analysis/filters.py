"""Narrowing the answers a figure is computed on: channel, counter, member comune, language, provenance.

A ``Filters`` is hashable, so the queries that take one are still computed once per block in
``queries.reuse_results``. The same conditions apply to the daily counts (riepilogo_risposte) and to the
questionnaires (compilazioni): both carry the channel, counter, language and import batch of each answer.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sqlalchemy import and_, exists, or_, select, true

from . import tables as t

CITIZENS = "cittadino"  # provenance of the answers citizens gave themselves (no import batch)
# Provenance of every batch of one method ("ditta CATI", as the provenance breakdown names the group): not a URL
# value (the page offers citizens and single batches), but the group a single batch is part of.
METHOD_PREFIX = "ditta "


@dataclass(frozen=True)
class Filters:
    canale: str | None = None
    sede: str | None = None  # a counter's code
    comune: str | None = None  # an ente's code: its own counters' answers, or its own services' without a comune
    lingua: str | None = None
    provenienza: str | None = None  # CITIZENS, or an import batch id as text

    def __bool__(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))

    def as_args(self) -> dict[str, str]:
        """The filters as URL parameters (the names above)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def condition(self, source):
        """A WHERE clause on ``source`` (riepilogo or compilazioni), or TRUE when nothing is filtered."""
        c = source.c
        parts = []
        if self.canale is not None:
            parts.append(c.canale == self.canale)
        if self.lingua is not None:
            parts.append(c.lingua == self.lingua)
        if self.sede is not None:
            counters = t.sedi.alias("filtro_sede")
            parts.append(c.sede_id.in_(select(counters.c.id).where(counters.c.codice == self.sede)))
        if self.comune is not None:
            parts.append(_in_comune(c, self.comune))
        if self.provenienza is not None:
            batch = c.import_batch_id
            if self.provenienza == CITIZENS:
                parts.append(or_(batch.is_(None), batch == 0))
            elif self.provenienza.startswith(METHOD_PREFIX):
                batches = t.import_batches
                parts.append(batch.in_(select(batches.c.id).where(
                    batches.c.metodo == self.provenienza.removeprefix(METHOD_PREFIX))))
            else:
                parts.append(batch == int(self.provenienza))
        return and_(*parts) if parts else true()


NO_FILTERS = Filters()


def _in_comune(c, code: str):
    """Answers at a counter in that comune, or at none with a comune for a service of that ente.

    The subqueries use their own aliases: a breakdown's query may join the same tables.
    """
    enti, servizi, uffici = t.enti.alias("filtro_ente"), t.servizi.alias("filtro_servizio"), t.uffici.alias("filtro_ufficio")
    counters = t.sedi.alias("filtro_sede_comune")
    ente = select(enti.c.id).where(enti.c.codice == code).scalar_subquery()
    own_services = select(servizi.c.id).join(uffici, uffici.c.id == servizi.c.ufficio_id).where(uffici.c.ente_id == ente)
    at_member_counter = c.sede_id.in_(select(counters.c.id).where(counters.c.comune_id == ente))
    counter_without_comune = ~exists().where(counters.c.id == c.sede_id, counters.c.comune_id.is_not(None))
    return or_(at_member_counter, and_(c.servizio_id.in_(own_services), counter_without_comune))
