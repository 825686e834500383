"""Which template column each header of a file, or each key of a JSON row, stands for.

Both doors match names alike (``columns.column_key``: case ignored; spaces, hyphens and underscores the same), and a
column left out is read as empty in every row. They differ in when a name is judged:
- a file's header row, once, before any row: an unknown or repeated column, or a missing one a row cannot do without
  (``columns.required_columns``), refuses the file on row 1 (a typo must never drop a column's data silently);
- a JSON row's keys, row by row: an unknown (or repeated) key makes that row invalid, named as the caller wrote it,
  and every other row is still checked. Only the template's columns are kept per row, so a request with a new stray
  key in every object costs no more than one with the right keys.
Either way ``absent`` names the optional columns the data did not have (for JSON rows: once they have been read).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..models import QuestionarioVersione
from .columns import all_columns, column_key, required_columns
from .reader import Table
from .validate import RowError, cell_text

Row = tuple[int, list[Any], list[RowError]]  # number, values in ``headers`` order, problems already found
NAME_CACHE = 4096  # distinct JSON keys whose column is remembered (each key would otherwise be matched per row)


class FileRows:
    """A file's table read against the questionnaire's columns."""

    def __init__(self, table: Table, versione: QuestionarioVersione) -> None:
        self.table = table
        expected = all_columns(versione)
        by_key = {column_key(name): name for name in expected}
        self.headers: list[str] = []
        self.errors: list[RowError] = []
        present: set[str] = set()  # a set: a header row may have thousands of cells
        for original in table.original_headers:
            shown = original.strip()  # as the file spells it
            name = by_key.get(column_key(original))
            if name is None:
                self.errors.append(RowError(1, shown, shown, "colonna sconosciuta"))
            elif name in present:
                self.errors.append(RowError(1, shown, shown, "colonna ripetuta"))
            else:
                present.add(name)
            self.headers.append(name or shown)
        required = required_columns(versione)
        self.errors += [RowError(1, name, "", "colonna obbligatoria mancante")
                        for name in required if name not in present]
        self.absent = [name for name in expected if name not in present and name not in required]

    def __iter__(self) -> Iterator[Row]:
        width = len(self.headers)
        for number, values in self.table.rows:
            found = self.table.short.get(number)
            yield number, values, [] if found is None else [RowError(
                number, "", "", f"meno valori che colonne ({found} su {width}): la riga è forse spezzata da un a "
                                "capo fuori dalle virgolette, e il seguito è finito nella riga dopo")]


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip() or None
    return value


class JsonRows:
    """The API's JSON objects as rows of the template's columns; row n is the n-th object (from 1)."""

    def __init__(self, rows: list[dict[str, Any]], versione: QuestionarioVersione) -> None:
        self.rows = rows
        self.headers = all_columns(versione)
        self.errors: list[RowError] = []  # keys are judged row by row
        self._position = {name: i for i, name in enumerate(self.headers)}
        self._by_key = {column_key(name): name for name in self.headers}
        self._names: dict[str, str | None] = {}
        self._seen: set[str] = set()
        required = set(required_columns(versione))
        self._optional = [name for name in self.headers if name not in required]

    @property
    def absent(self) -> list[str]:
        """The optional columns no row had a key for (complete once the rows have been read)."""
        return [name for name in self._optional if name not in self._seen]

    def _name(self, key: str) -> str | None:
        if key in self._names:
            return self._names[key]
        name = self._by_key.get(column_key(key))
        if len(self._names) < NAME_CACHE:
            self._names[key] = name
        return name

    def __iter__(self) -> Iterator[Row]:
        width = len(self.headers)
        for number, row in enumerate(self.rows, start=1):
            values: list[Any] = [None] * width
            errors: list[RowError] = []
            given: set[str] = set()
            for key, value in row.items():
                name = self._name(key)
                if name is None:
                    errors.append(RowError(number, key, cell_text(value), "campo sconosciuto"))
                elif name in given:
                    errors.append(RowError(number, key, cell_text(value),
                                           f"campo ripetuto: indica di nuovo la colonna {name}"))
                else:
                    given.add(name)
                    values[self._position[name]] = _cell(value)
            self._seen |= given
            yield number, values, errors
