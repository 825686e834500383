"""Read a YAML catalogue (one file or a folder) and check each file against the schema.

Every problem found is collected, so that one run names them all; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .errors import CatalogueError, entry_label, validation_messages
from .schema import CatalogueFile


@dataclass
class Located:
    """A validated entry with where it came from, for messages."""

    path: Path
    where: str
    item: Any


@dataclass
class Catalogue:
    enti: list[Located] = field(default_factory=list)
    questionari: list[Located] = field(default_factory=list)
    rilevazioni: list[Located] = field(default_factory=list)



def catalogue_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
        if not files:
            raise CatalogueError([f"{path}: nessun file .yaml nella cartella"])
        return files
    if not path.exists():
        raise CatalogueError([f"{path}: file non trovato"])
    return [path]


def read_catalogue(path: Path) -> Catalogue:
    """Parse and validate every file; raise CatalogueError listing all problems found."""
    errors: list[str] = []
    catalogue = Catalogue()
    for file in catalogue_files(Path(path)):
        data = _read_yaml(file, errors)
        if data is None:
            continue
        try:
            parsed = CatalogueFile.model_validate(data)
        except ValidationError as exc:
            errors += validation_messages(file, data, exc)
            continue
        for section in ("enti", "questionari", "rilevazioni"):
            for index, item in enumerate(getattr(parsed, section)):
                where = section + entry_label(data[section][index], index)
                getattr(catalogue, section).append(Located(file, where, item))
    if errors:
        raise CatalogueError(errors)
    return catalogue


def _read_yaml(file: Path, errors: list[str]) -> dict | None:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.append(f"{file}: il file non è in UTF-8")
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = f"riga {mark.line + 1}, colonna {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        errors.append(f"{file}: {position}YAML non valido ({problem})")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        errors.append(f"{file}: il catalogo deve essere una sezione con 'enti', 'questionari' o 'rilevazioni'")
        return None
    return data
