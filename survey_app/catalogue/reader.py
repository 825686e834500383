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
from .schema import CatalogueFile, EnteIn, QuestionarioIn, RilevazioneIn, RilevazioneRefs


@dataclass
class Located:
    """A validated entry with where it came from, for messages."""

    path: Path
    where: str
    item: Any


SECTIONS = ("enti", "questionari", "rilevazioni")


@dataclass
class Catalogue:
    enti: list[Located] = field(default_factory=list)
    questionari: list[Located] = field(default_factory=list)
    rilevazioni: list[Located] = field(default_factory=list)
    # Codes of the entries the schema refused, by kind ("enti", "servizi", "questionari", "rilevazioni"): the
    # cross-checks run on the other entries and do not call these unknown.
    refused: dict[str, set[str]] = field(default_factory=lambda: {kind: set() for kind in (*SECTIONS, "servizi")})


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
    catalogue, errors = read_files(path)
    if errors:
        raise CatalogueError(errors)
    return catalogue


def read_files(path: Path) -> tuple[Catalogue, list[str]]:
    """Parse and validate every file: the entries that pass, and every problem found.

    Where a file fails the schema, its entries are validated one by one, so that the good ones still go through
    the cross-checks and one run reports every mistake of the file.
    """
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
            _keep_valid_entries(file, data, catalogue)
            continue
        for section in SECTIONS:
            for index, item in enumerate(getattr(parsed, section)):
                where = section + entry_label(data[section][index], index)
                getattr(catalogue, section).append(Located(file, where, item))
    return catalogue, errors


ENTRY_MODELS = {"enti": EnteIn, "questionari": QuestionarioIn, "rilevazioni": RilevazioneIn}


def _keep_valid_entries(file: Path, data: dict, catalogue: Catalogue) -> None:
    """Of a file the schema refused, the entries that pass on their own; a refused campaign keeps what the
    cross-checks read of it (its code, questionnaire and services) when those are well formed."""
    for section, model in ENTRY_MODELS.items():
        entries = data.get(section)
        for index, raw in enumerate(entries if isinstance(entries, list) else []):
            where = section + entry_label(raw, index)
            try:
                getattr(catalogue, section).append(Located(file, where, model.model_validate(raw)))
                continue
            except ValidationError:
                pass
            if section == "rilevazioni":
                try:
                    catalogue.rilevazioni.append(Located(file, where, RilevazioneRefs.model_validate(raw)))
                    continue
                except ValidationError:
                    pass
            _remember_refused(catalogue, section, raw)


def _remember_refused(catalogue: Catalogue, section: str, raw: Any) -> None:
    refused = catalogue.refused
    refused[section].update(_codes([raw], "codice"))
    if section == "enti":
        for ufficio in _entries(raw, "uffici"):
            refused["servizi"].update(_codes(_entries(ufficio, "servizi"), "slug"))


def _entries(raw: Any, key: str) -> list:
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, list) else []


def _codes(entries: list, key: str) -> set[str]:
    return {entry[key] for entry in entries if isinstance(entry, dict) and isinstance(entry.get(key), str)}


class DuplicateKey(yaml.MarkedYAMLError):
    """The same field twice in one entry: YAML keeps the last silently (utenti_annui 4000, then 400)."""


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a field written twice in one entry (a merge key ``<<`` may repeat fields)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # << : its fields are the anchor's, merged below
                continue
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue
            if key in seen:
                raise DuplicateKey(problem=f"il campo «{key}» compare due volte nella stessa voce (la prima alla riga "
                                           f"{seen[key] + 1}): YAML terrebbe solo l'ultimo",
                                   problem_mark=key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


# PyYAML's commonest complaints, said in Italian with what usually causes them (its own words follow).
YAML_HINTS = (
    ("expected <block end>", "il rientro di questa riga non torna con quello delle righe sopra"),
    ("mapping values are not allowed here", "due punti dove non sono ammessi: un testo con «:» va tra virgolette"),
    ("could not find expected ':'", "manca «:» dopo il nome di un campo, o il rientro non torna"),
    ("found character '\\t'", "una tabulazione: il rientro si fa con gli spazi"),
    ("found undefined alias", "un riferimento «*nome» a un'ancora «&nome» che non c'è"),
    ("while scanning a quoted scalar", "virgolette aperte e non chiuse"),
)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, DuplicateKey):
        return problem
    hint = next((italian for english, italian in YAML_HINTS if problem.startswith(english)), None)
    return f"{hint} ({problem})" if hint else problem


def _read_yaml(file: Path, errors: list[str]) -> dict | None:
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        errors.append(f"{file}: il file non è in UTF-8")
        return None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - the safe loader, with duplicate keys refused
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = f"riga {mark.line + 1}, colonna {mark.column + 1}: " if mark else ""
        errors.append(f"{file}: {position}YAML non valido: {_yaml_problem(exc)}")
        return None
    if data is None:
        return {}
    if not isinstance(data, dict):
        errors.append(f"{file}: il catalogo deve essere una sezione con 'enti', 'questionari' o 'rilevazioni'")
        return None
    return data
