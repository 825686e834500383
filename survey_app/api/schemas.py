"""The import API's requests and answers, as pydantic models: they check requests and write the OpenAPI schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from ..catalogue.schema import SLUG

Method = Literal["CATI", "PAPI", "CAWI"]
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Cell = StrictStr | StrictInt | StrictFloat | None
MAX_ROWS = 100_000


def _utc(value: datetime) -> datetime:
    """A stored time as UTC with its offset: SQLite gives back naive UTC, PostgreSQL the session's zone."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.replace(microsecond=0)


# ISO 8601 with a numeric offset ("2026-11-24T15:20:00+00:00"), as most clients parse it (pydantic would write "Z").
UtcTime = Annotated[datetime, AfterValidator(_utc),
                    PlainSerializer(datetime.isoformat, return_type=str, when_used="json")]
TIME = "Data e ora in UTC, ISO 8601 con lo scarto: ad esempio 2026-11-24T15:20:00+00:00."


class ImportRequest(BaseModel):
    """JSON rows: one object per questionnaire, keyed by the template's column names."""

    model_config = ConfigDict(extra="forbid", title="RichiestaImportazione")

    questionario: str = Field(pattern=SLUG, max_length=80, description="Codice del questionario.")
    metodo: Method = Field(description="CATI (telefono), PAPI (carta) o CAWI (web della società).")
    nome_file: str = Field(default="api.json", pattern=PRINTABLE, max_length=300,
                           description="Nome con cui il lotto compare negli elenchi.")
    dry_run: StrictBool = Field(default=False, description="Controlla le righe senza scrivere nulla.")
    skip_invalid: StrictBool = Field(default=False, description="Importa solo le righe valide.")
    righe: list[dict[str, Cell]] = Field(
        min_length=1, max_length=MAX_ROWS,
        description="Le righe, con le colonne del modello (id_esterno, data, servizio, canale, sede, D1…); la riga n "
                    "è l'n-esimo oggetto. Nei nomi maiuscole e minuscole, spazi, trattini e trattini bassi si "
                    "equivalgono («ID Esterno» = id_esterno); un campo lasciato fuori è vuoto; un campo che non è una "
                    "colonna del modello rende non valida la sua riga (motivo «campo sconosciuto»). La data come "
                    "gg/mm/aaaa o aaaa-mm-gg, con l'ora se serve (gg/mm/aaaa hh:mm, o ISO 8601 "
                    "aaaa-mm-ggThh:mm[:ss], anche con Z o con lo scarto dall'UTC, convertita nell'ora del Comune); "
                    "l'ora è registrata arrotondata all'ora intera.")


class ImportForm(BaseModel):
    """The fields that come with a file in a multipart request (form values are text: "true" is true)."""

    model_config = ConfigDict(extra="ignore")

    questionario: str = Field(pattern=SLUG, max_length=80)
    metodo: Method
    dry_run: bool = False
    skip_invalid: bool = False


class RowErrorOut(BaseModel):
    model_config = ConfigDict(title="ErroreRiga")

    riga: int
    id_esterno: str = Field(default="", description="L'id_esterno della riga, se leggibile (per ritrovarla nel file).")
    colonna: str
    valore: str
    motivo: str


class PublishedYear(BaseModel):
    model_config = ConfigDict(title="AnnoPubblicato")

    anno: int
    versione: int = Field(description="La versione in vigore in Amministrazione trasparente.")


class ImportResult(BaseModel):
    model_config = ConfigDict(title="EsitoImportazione")

    stato: Literal["importato", "verificato", "invariato", "rifiutato"] = Field(
        description="importato: lotto scritto; verificato: prova senza scrittura; invariato: ogni riga era già stata "
                    "importata da questa fonte, nulla è stato scritto; rifiutato: nulla è stato scritto.")
    lotto: int | None = Field(description="Il lotto scritto, se importato.")
    righe: int = Field(description="Le righe di dati controllate; 0 se il file è rifiutato per le sue colonne "
                                   "(errori sulla riga 1): le righe non sono allora controllate.")
    righe_valide: int
    righe_non_valide: int
    righe_importate: int
    righe_gia_importate: int = Field(
        default=0, description="Le righe il cui id_esterno questa fonte ha già importato in un lotto precedente: "
                               "saltate, né scritte di nuovo né contate come non valide (un file corretto inviato di "
                               "nuovo per intero). Per correggerne una, l'ente annulla il suo lotto.")
    errori: list[RowErrorOut] = Field(description="I primi 1000 errori.")
    errori_totali: int
    errori_per_motivo: dict[str, int]
    colonne_assenti: list[str] = Field(
        description="Avviso, non errore: le colonne facoltative del modello assenti dal file (o da ogni riga JSON), "
                    "lette come vuote in ogni riga. Un file deve avere id_esterno, data, servizio e le colonne delle "
                    "domande obbligatorie; può lasciare fuori canale, sede, le colonne *_importanza e le altre "
                    "domande.")
    anni_pubblicati: list[PublishedYear] = Field(
        default_factory=list,
        description="Avviso, non errore: gli anni delle righe valide già pubblicati in Amministrazione trasparente. "
                    "Le loro righe entrano nei dati pubblicati solo con una nuova versione, che l'ente pubblica.")


class Batch(BaseModel):
    model_config = ConfigDict(title="Lotto")

    id: int
    stato: Literal["importato", "annullato"]
    fonte: str
    metodo: Method
    questionario: str | None
    nome_file: str
    sha256: str
    righe: int
    righe_importate: int
    righe_scartate: int
    creato_il: UtcTime = Field(description=TIME)
    annullato_il: UtcTime | None = Field(description=TIME + " null se il lotto non è annullato.")
    rilevazioni: list[str] = Field(description="Codici delle rilevazioni a cui sono andate le risposte.")
    righe_escluse: list[RowErrorOut] | None = Field(
        default=None, description="Solo nel singolo lotto: gli errori delle righe lasciate fuori con skip_invalid, "
                                  "per correggerle (il valore di un testo libero non è conservato).")


class BatchList(BaseModel):
    model_config = ConfigDict(title="ElencoLotti")

    lotti: list[Batch]


class FieldError(BaseModel):
    model_config = ConfigDict(title="ErroreCampo")

    campo: str
    motivo: str


class Error(BaseModel):
    model_config = ConfigDict(title="Errore")

    errore: str
    dettagli: list[FieldError] = Field(default_factory=list)
    lotto: int | None = Field(default=None, description="Con 409: il lotto che contiene già questi dati.")


REASONS = {
    "missing": "campo obbligatorio",
    "extra_forbidden": "campo non previsto",
    "literal_error": "valore non ammesso",
    "bool_type": "deve essere true o false",
    "bool_parsing": "deve essere true o false",
    "too_short": "troppo corto o vuoto",
    "string_too_short": "troppo corto o vuoto",
    "too_long": "troppo lungo",
    "string_too_long": "troppo lungo",
    "dict_type": "deve essere un oggetto",
    "list_type": "deve essere un elenco",
    "model_type": "deve essere un oggetto",
    "string_type": "deve essere un testo",
    "string_pattern_mismatch": "formato non valido",
}
UNION_MEMBERS = {"str", "int", "float", "bool"}


def field_errors(exc: ValidationError) -> list[FieldError]:
    """pydantic's errors in Italian, once per field (a cell's union reports each of its types); a row's cell is
    ``righe.N.colonna`` with N from 1."""
    found: dict[str, str] = {}
    for error in exc.errors():
        loc = list(error["loc"])
        union = len(loc) > 1 and loc[-1] in UNION_MEMBERS
        if union:
            loc.pop()
        if len(loc) > 1 and loc[0] == "righe" and isinstance(loc[1], int):
            loc[1] += 1  # rows are numbered from 1, as the rows' own errors number them ("riga": 1)
        name = ".".join(str(part) for part in loc) or "corpo"
        reason = "deve essere un testo, un numero o null" if union else REASONS.get(error["type"], "valore non valido")
        if error["type"] == "literal_error" and error.get("ctx", {}).get("expected"):
            # pydantic's expected values ("'CATI', 'PAPI' or 'CAWI'"), said in Italian: a firm learns what to send
            reason += ": usare " + error["ctx"]["expected"].replace("'", "").replace(" or ", " o ")
        found.setdefault(name, reason)
    return [FieldError(campo=name, motivo=reason) for name, reason in found.items()]
