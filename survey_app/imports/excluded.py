"""The rows a batch leaves out, as it keeps them: each error with the row's id_esterno, and no free text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..models import QuestionarioVersione
from .columns import all_columns
from .validate import RowError

if TYPE_CHECKING:
    from .load import ImportReport

BROKEN_ROW = ("più valori che colonne", "meno valori che colonne")


def kept_errors(report: ImportReport, versione: QuestionarioVersione, limit: int) -> list[list[Any]] | None:
    """The errors of the rows left out (the first ``limit``), as the batch keeps them: [riga, colonna, valore,
    motivo, id_esterno]. Only a value of a known column that holds no free text is kept, cut to 40 characters:
    purging comments must leave none behind, and a comment broken over two rows (a newline or separator outside
    quotes) lands in other columns of that row and the next, so their values and ids go too."""
    if not report.errors:
        return None
    texts = {d.codice for d in versione.domande if d.tipo == "testo"}
    known = set(all_columns(versione)) - texts
    broken = {e.row for e in report.errors if e.reason.startswith(BROKEN_ROW)}
    broken |= {row + 1 for row in broken}

    def kept(e: RowError) -> str:
        return (e.value or "")[:40] if e.column in known and e.row not in broken else ""
    return [[e.row, e.column, kept(e), e.reason, "" if e.row in broken else report.ids.get(e.row, "")]
            for e in report.errors[:limit]]


def excluded_entries(kept: list[list[Any]] | None) -> list[tuple[int, str, str, str, str]]:
    """A batch's left-out rows as (riga, id_esterno, colonna, valore, motivo): batches before the id was kept have
    four items."""
    return [(row, rest[0] if rest else "", column, value, reason) for row, column, value, reason, *rest in kept or []]
