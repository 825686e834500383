"""The rows a batch leaves out, as it keeps them: each error, and no free text nor the row's id_esterno."""

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
    motivo]. Only a value of a known column that holds no free text is kept, cut to 40 characters: purging comments
    must leave none behind, and a comment broken over two rows (a newline or separator outside quotes) lands in other
    columns of that row and the next, so their values go too. Never the row's id_esterno: the firm sends the row
    again, corrected, and its answer would be tied to the id kept here (the ids are kept only as salted hashes)."""
    if not report.errors:
        return None
    texts = {d.codice for d in versione.domande if d.tipo == "testo"}
    known = set(all_columns(versione)) - texts
    broken = {e.row for e in report.errors if e.reason.startswith(BROKEN_ROW)}
    broken |= {row + 1 for row in broken}

    def kept(e: RowError) -> str:
        return (e.value or "")[:40] if e.column in known and e.row not in broken else ""
    return [[e.row, e.column, kept(e), e.reason] for e in report.errors[:limit]]
