"""Turn YAML and validation failures into Italian messages naming the file, the entry and the field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

LABEL_KEYS = ("codice", "slug")

_SIMPLE = {
    "missing": "campo obbligatorio mancante",
    "extra_forbidden": "campo sconosciuto",
    "string_type": "deve essere un testo",
    "int_type": "deve essere un numero intero",
    "int_parsing": "deve essere un numero intero",
    "int_from_float": "deve essere un numero intero",
    "float_type": "deve essere un numero",
    "float_parsing": "deve essere un numero",
    "bool_type": "deve essere true o false",
    "bool_parsing": "deve essere true o false",
    "list_type": "deve essere un elenco (righe che iniziano con '-')",
    "model_type": "deve essere una sezione con campi 'nome: valore'",
    "model_attributes_type": "deve essere una sezione con campi 'nome: valore'",
    "dict_type": "deve essere una sezione con campi 'nome: valore'",
    "date_type": "deve essere una data nel formato AAAA-MM-GG",
    "date_parsing": "deve essere una data nel formato AAAA-MM-GG",
    "date_from_datetime_parsing": "deve essere una data nel formato AAAA-MM-GG",
}


class CatalogueError(Exception):
    """The catalogue was refused; ``messages`` lists every problem found, nothing was written."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages


def entry_label(item: Any, key: Any) -> str:
    """``servizi[2] «tributi»``: position in the list and, where it has one, the entry's code."""
    if isinstance(key, int):
        label = f"[{key + 1}]"
        if isinstance(item, dict):
            code = next((item[k] for k in LABEL_KEYS if isinstance(item.get(k), str | int)), None)
            if code is not None:
                label += f" «{code}»"
        return label
    return str(key)


def locate(data: Any, loc: tuple) -> tuple[str, str | None]:
    """Walk the raw document along a pydantic location: (entry path, field name or None)."""
    parts: list[str] = []
    current = data
    field = None
    for position, key in enumerate(loc):
        last = position == len(loc) - 1
        if isinstance(current, list) and isinstance(key, int) and 0 <= key < len(current):
            current = current[key]
            if parts:
                parts[-1] += entry_label(current, key)
            else:
                parts.append(entry_label(current, key))
        elif isinstance(current, dict) and isinstance(key, str):
            if last or not isinstance(current.get(key), dict | list):
                field = key
                break
            parts.append(key)
            current = current[key]
        # anything else (union member names such as 'int') says nothing to a reader
    return " › ".join(parts) or "(inizio del file)", field


def describe(error: dict) -> str:
    """One pydantic error in Italian, without where it is (the caller says that)."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind in _SIMPLE:
        return _SIMPLE[kind]
    if kind == "literal_error":
        return f"valore non ammesso {error['input']!r} (ammessi: {ctx.get('expected', '')})".replace("' or '", "', '")
    if kind == "string_pattern_mismatch":
        pattern = ctx.get("pattern", "")
        if pattern.startswith("^[A-Z]"):
            hint = "lettere maiuscole, cifre e _ (es. D1)"
        else:
            hint = "lettere minuscole, cifre e trattini (es. anagrafe-stato-civile)"
        return f"formato non valido {error['input']!r}: usare {hint}"
    if kind == "string_too_short":
        return "non può essere vuoto"
    if kind == "string_too_long":
        return f"troppo lungo (al massimo {ctx.get('max_length')} caratteri)"
    if kind == "too_short":
        return f"deve contenere almeno {ctx.get('min_length')} elementi"
    if kind == "greater_than":
        return f"deve essere maggiore di {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return f"deve essere almeno {ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"deve essere al massimo {ctx.get('le')}"
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    return error["msg"]


def validation_messages(path: Path, data: Any, exc: ValidationError) -> list[str]:
    messages = []
    for error in exc.errors():
        where, field = locate(data, error["loc"])
        prefix = f"{path}: {where}"
        if field:
            prefix += f" › campo '{field}'"
        messages.append(f"{prefix}: {describe(error)}")
    return messages
