"""Shape of a catalogue file, validated before anything touches the database.

A catalogue is YAML with up to three top-level lists: ``enti`` (each with its uffici, each
with its servizi, sedi and standard), ``questionari`` and ``rilevazioni``. See
docs/catalogue.md for an annotated example.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from analysis.publish import CONTROL

from ..models import CIVIT_DIMENSIONS, FIXED_SCALES, NUMERIC_TYPES, QUESTION_TYPES

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
QUESTION_CODE = r"^[A-Z][A-Z0-9_]*$"
OPTION_CODE = r"^[a-z0-9_]+(?:-[a-z0-9_]+)*$"
FACE_NAMES = {"rosso": 1, "giallo": 2, "verde": 3}

Slug = Annotated[str, Field(pattern=SLUG, max_length=80)]


MAX_YEARLY_USERS = 100_000_000


def _no_control(value: Any) -> None:
    if isinstance(value, str) and CONTROL.search(value):
        raise ValueError("il testo contiene caratteri di controllo non ammessi: ricopiarlo senza")
    for item in value if isinstance(value, list) else ():
        _no_control(item)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def plain_text(cls, value: Any) -> Any:
        """Every text of every entry, at any depth (each nested entry is a Strict too)."""
        _no_control(value)
        return value


class Testo(Strict):
    """A text in Italian (required) and English (optional, falls back to Italian)."""

    it: str = Field(min_length=1)
    en: str | None = None


class Etichette(Strict):
    min: Testo
    max: Testo


class Condizione(Strict):
    """Show a question only when an earlier one got one of ``valori``, or a value below/at least."""

    domanda: str
    valori: list[int | str] | None = None
    minore_di: float | None = None
    almeno: float | None = None

    @model_validator(mode="after")
    def exactly_one_rule(self) -> Condizione:
        given = [name for name in ("valori", "minore_di", "almeno") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError("indicare esattamente una regola tra 'valori', 'minore_di' e 'almeno'")
        return self


class OpzioneIn(Strict):
    codice: str = Field(pattern=OPTION_CODE, max_length=60)
    testo: Testo


class DomandaIn(Strict):
    codice: str = Field(pattern=QUESTION_CODE, max_length=40)
    tipo: Literal[QUESTION_TYPES]  # type: ignore[valid-type]
    testo: Testo
    aiuto: Testo | None = None
    obbligatoria: bool = False
    scala_min: int | None = None
    scala_max: int | None = None
    etichette: Etichette | None = None
    stile: Literal["numeri", "stelle"] | None = None
    non_so: bool = False
    dimensione: Literal[CIVIT_DIMENSIONS] | None = None  # type: ignore[valid-type]
    importanza: bool = False
    max_lunghezza: int | None = Field(default=None, gt=0, le=2000)
    opzioni: list[OpzioneIn] | None = None
    mostra_se: Condizione | None = None

    @model_validator(mode="after")
    def fits_its_type(self) -> DomandaIn:
        if self.tipo == "scala":
            low = 1 if self.scala_min is None else self.scala_min
            high = 5 if self.scala_max is None else self.scala_max
            if low >= high:
                raise ValueError(f"scala_min ({low}) deve essere minore di scala_max ({high})")
            if high - low > 10:
                raise ValueError("una scala può avere al massimo 11 punti")
            self.scala_min, self.scala_max = low, high
        elif self.tipo in FIXED_SCALES:
            if self.scala_min is not None or self.scala_max is not None:
                raise ValueError(f"una domanda di tipo '{self.tipo}' ha una scala fissa: togliere scala_min/scala_max")
            self.scala_min, self.scala_max = FIXED_SCALES[self.tipo]
        elif self.scala_min is not None or self.scala_max is not None:
            raise ValueError(f"scala_min/scala_max valgono solo per le domande a scala, non per '{self.tipo}'")
        if self.tipo in ("scelta_singola", "scelta_multipla"):
            if not self.opzioni or len(self.opzioni) < 2:
                raise ValueError(f"una domanda di tipo '{self.tipo}' richiede almeno due 'opzioni'")
            codes = [o.codice for o in self.opzioni]
            duplicates = sorted({c for c in codes if codes.count(c) > 1})
            if duplicates:
                raise ValueError(f"codici di opzione ripetuti: {', '.join(duplicates)}")
        elif self.opzioni:
            raise ValueError(f"le 'opzioni' valgono solo per le domande a scelta, non per '{self.tipo}'")
        if self.stile == "stelle" and self.tipo != "scala":
            raise ValueError("lo stile 'stelle' vale solo per le domande a scala")
        if self.importanza and self.tipo != "scala":
            raise ValueError("l'importanza si chiede solo per le domande a scala")
        if self.etichette and self.tipo != "scala":
            raise ValueError("le 'etichette' valgono solo per le domande a scala")
        if self.max_lunghezza is not None and self.tipo != "testo":
            raise ValueError("max_lunghezza vale solo per le domande di tipo 'testo'")
        return self


class QuestionarioIn(Strict):
    codice: Slug
    titolo: Testo
    introduzione: Testo | None = None
    domande: list[DomandaIn] = Field(min_length=1)

    @model_validator(mode="after")
    def coherent_questions(self) -> QuestionarioIn:
        seen: dict[str, DomandaIn] = {}
        for domanda in self.domande:
            if domanda.codice in seen:
                raise ValueError(f"codice di domanda ripetuto: {domanda.codice}")
            rule = domanda.mostra_se
            if rule is not None:
                target = seen.get(rule.domanda)
                if target is None:
                    raise ValueError(
                        f"la domanda {domanda.codice} dipende da '{rule.domanda}', che non è una domanda "
                        "precedente di questo questionario"
                    )
                if rule.valori is not None:
                    rule.valori = [_condition_value(target, value, domanda.codice) for value in rule.valori]
                elif target.tipo not in ("scala", "nps", "faccine"):
                    raise ValueError(
                        f"la domanda {domanda.codice}: 'minore_di'/'almeno' richiedono una domanda numerica, "
                        f"{target.codice} è di tipo '{target.tipo}'"
                    )
            seen[domanda.codice] = domanda
        return self


def _condition_value(target: DomandaIn, value: int | str, code: str) -> int | str:
    """Check one value of a branching rule against the question it refers to."""
    if target.tipo == "faccine" and isinstance(value, str):
        if value not in FACE_NAMES:
            raise ValueError(f"la domanda {code}: faccina sconosciuta '{value}' (ammesse: rosso, giallo, verde)")
        return FACE_NAMES[value]
    if target.opzioni:
        codes = [o.codice for o in target.opzioni]
        if str(value) not in codes:
            raise ValueError(f"la domanda {code}: '{value}' non è un'opzione di {target.codice}")
        return str(value)
    if target.tipo == "si_no" and isinstance(value, str):
        if value not in ("si", "no"):
            raise ValueError(f"la domanda {code}: per una domanda sì/no usare 'si' o 'no'")
        return 1 if value == "si" else 0
    if not isinstance(value, int) or not (target.scala_min <= value <= target.scala_max):
        raise ValueError(
            f"la domanda {code}: il valore {value!r} è fuori dalla scala di {target.codice} "
            f"({target.scala_min}–{target.scala_max})"
        )
    return value


class SedeIn(Strict):
    codice: Slug
    nome: str = Field(min_length=1)
    indirizzo: str | None = None
    comune: Slug | None = None  # a member comune of the Unione


class StandardIn(Strict):
    indicatore: Literal["quota_soddisfatti", "media"]
    soglia: float
    domanda: str | None = None
    descrizione: str | None = None
    # The years of the carta dei servizi it belongs to: a new carta's target from its year on (``dal``), the old
    # one's up to the year before (``al``). Left out: since always, still in force.
    dal: int | None = Field(default=None, ge=2000, le=2100)
    al: int | None = Field(default=None, ge=2000, le=2100)

    @model_validator(mode="after")
    def plausible_threshold(self) -> StandardIn:
        if self.indicatore == "quota_soddisfatti" and not 0 <= self.soglia <= 100:
            raise ValueError("la soglia della quota di soddisfatti è una percentuale tra 0 e 100")
        if self.indicatore == "quota_soddisfatti" and 0 < self.soglia < 1:  # 0.7 meant as 70%: met by one answer
            raise ValueError(f"la soglia della quota di soddisfatti è in punti percentuali: {self.soglia:g} "
                             f"vorrebbe dire {self.soglia:g}%; scrivere {self.soglia * 100:g} per indicare "
                             f"{self.soglia * 100:g}%".replace(".", ","))
        return self

    @field_validator("al")
    @classmethod
    def not_before_dal(cls, al: int | None, info: ValidationInfo) -> int | None:
        dal = info.data.get("dal")
        if al is not None and dal is not None and dal > al:
            raise ValueError(f"l'anno 'dal' ({dal}) viene dopo l'anno 'al' ({al})")
        return al


def years_overlap(first: tuple[int | None, int | None], second: tuple[int | None, int | None]) -> bool:
    """Whether two standards' (dal, al) years share a year (None: open on that side)."""
    (start_a, end_a), (start_b, end_b) = first, second
    return (end_b is None or start_a is None or start_a <= end_b) and (end_a is None or start_b is None or
                                                                         start_b <= end_a)


def rejudged_years(years: list[int], was: tuple | None, will: tuple | None) -> list[int]:
    """Those of ``years`` that a standard changed from ``was`` to ``will`` would judge otherwise: another target,
    a target where there was none, or none where there was one. Each is (target, dal, al), or None for no standard;
    the target is whatever judges (indicator, threshold, question)."""
    def target(standard: tuple | None, year: int):
        return standard[0] if standard is not None and (standard[1] or year) <= year <= (standard[2] or year) else None
    return [year for year in years if target(was, year) != target(will, year)]


def years_list(years: list[int]) -> str:
    """'il 2025', 'il 2024 e il 2025', 'il 2023, il 2024 e il 2025'."""
    named = [f"il {year}" for year in years]
    return named[0] if len(named) == 1 else f"{', '.join(named[:-1])} e {named[-1]}"


def already_published(years: list[int]) -> str:
    """'il 2025 è già pubblicato', 'il 2024 e il 2025 sono già pubblicati'."""
    return f"{years_list(years)} {'è già pubblicato' if len(years) == 1 else 'sono già pubblicati'}"


def years_text(dal: int | None, al: int | None) -> str:
    """'dal 2026', 'fino al 2025', 'dal 2023 al 2025', or '' for every year."""
    if dal is not None and al is not None:
        return f"dal {dal} al {al}" if dal != al else f"solo {dal}"
    return f"dal {dal}" if dal is not None else (f"fino al {al}" if al is not None else "")


def threshold_problem(indicatore: str, soglia: float, domanda: str | None,
                      questions: list[tuple[str, str, int | None, int | None]]) -> tuple | None:
    """Why a standard could never be judged fairly on the questions it applies to, or None.

    ``questions`` are the service's questionnaire's (code, type, scale min, scale max). A question's own target on
    an NPS question would compare the NPS (-100..100) as if it were a share or a mean: ("nps", code). A mean
    outside the scale of a question it applies to (named, or every scale question for a service-wide one) can
    never be reached, or always is: ("scala", code, min, max).
    """
    if domanda:
        targets = [q for q in questions if q[0] == domanda]
        if any(tipo == "nps" for _code, tipo, _low, _high in targets):
            return ("nps", domanda)
        if unrated := next((tipo for _code, tipo, _low, _high in targets if tipo not in NUMERIC_TYPES), None):
            return ("tipo", domanda, unrated)  # a comment or a choice has no share of satisfied users, nor a mean
    else:  # a service-wide mean applies to its scale questions (analysis/indicators.match_standards)
        targets = [q for q in questions if q[1] == "scala"]
    if indicatore == "media":
        for code, _tipo, low, high in targets:
            if low is not None and high is not None and not low <= soglia <= high:
                return ("scala", code, low, high)
    return None


def threshold_message(problem: tuple, soglia: float) -> str:
    """The loader's Italian message for a ``threshold_problem``."""
    if problem[0] == "nps":
        return (f"«{problem[1]}» è una domanda NPS: il suo indice non è né una quota di soddisfatti né una media, "
                "scegliere una domanda con scala, faccine o sì/no")
    if problem[0] == "tipo":
        return (f"«{problem[1]}» è una domanda di tipo «{problem[2]}», che non dà né una quota di soddisfatti né una "
                "media: scegliere una domanda con scala, faccine o sì/no")
    _kind, code, low, high = problem
    threshold = f"{soglia:g}".replace(".", ",")
    return f"la media di «{code}» va da {low} a {high}: la soglia {threshold} è fuori scala"


class Posizione(Strict):
    """Where a service is: its ente and ufficio, by code."""

    ente: Slug
    ufficio: Slug


class ServizioIn(Strict):
    slug: Slug
    nome: Testo
    descrizione: Testo | None = None
    utenti_annui: int | None = Field(default=None, gt=0)
    questionario: Slug
    questionario_chiosco: Slug | None = None
    sedi: list[SedeIn] = []
    standard: list[StandardIn] = []
    # An existing service is moved under this entry's ufficio only when the file names where it is now.
    sposta_da: Posizione | None = None

    @field_validator("utenti_annui")
    @classmethod
    def plausible_users(cls, users: int | None) -> int | None:
        """A service's yearly users, for the suggested sample: 10^20 was a server error, and 2^63 was stored."""
        if users is not None and users > MAX_YEARLY_USERS:
            raise ValueError(f"al massimo {MAX_YEARLY_USERS:,} l'anno".replace(",", "."))
        return users

    @field_validator("sedi")
    @classmethod
    def unique_counters(cls, sedi: list[SedeIn]) -> list[SedeIn]:
        codes = [s.codice for s in sedi]
        duplicates = sorted({c for c in codes if codes.count(c) > 1})
        if duplicates:
            raise ValueError(f"codici di sede ripetuti: {', '.join(duplicates)}")
        return sedi

    @field_validator("standard")
    @classmethod
    def one_target_a_year(cls, standards: list[StandardIn]) -> list[StandardIn]:
        """One target per indicator and question in any year: a new carta's target starts where the old one ends."""
        for i, first in enumerate(standards):
            for k, second in enumerate(standards[i + 1:], start=i + 2):
                if (first.indicatore, first.domanda) == (second.indicatore, second.domanda) \
                        and years_overlap((first.dal, first.al), (second.dal, second.al)):
                    raise ValueError(
                        f"standard[{i + 1}] e standard[{k}] danno due obiettivi per {first.indicatore}"
                        + (f" su {first.domanda}" if first.domanda else "") + " negli stessi anni: chiudere il "
                        "primo con 'al' (l'anno prima) e aprire il secondo con 'dal'")
        return standards


class UfficioIn(Strict):
    codice: Slug
    nome: Testo  # in Italian (a plain text), or {it: …, en: …} for the English pages
    responsabile: str | None = None

    @field_validator("nome", mode="before")
    @classmethod
    def italian_name(cls, value: Any) -> Any:
        return {"it": value} if isinstance(value, str) else value

    @property
    def names(self) -> tuple[str, str | None]:
        """(Italian, English or None)."""
        return self.nome.it, self.nome.en
    servizi: list[ServizioIn] = []


class EnteIn(Strict):
    codice: Slug
    nome: str = Field(min_length=1)
    tipo: Literal["comune", "unione"]
    sito: str | None = None
    unione: Slug | None = None  # for a member comune: the Unione it belongs to
    uffici: list[UfficioIn] = []

    @model_validator(mode="after")
    def union_membership(self) -> EnteIn:
        if self.unione and self.tipo != "comune":
            raise ValueError("solo un comune può far parte di un'unione ('unione')")
        return self


class RilevazioneIn(Strict):
    codice: Slug
    titolo: str = Field(min_length=1)
    questionario: Slug
    servizi: list[Slug] = Field(min_length=1)
    # The staff area's years (2000–2100): a campaign ending 9999-12-31 broke every later save of it (the day after).
    dal: date = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))
    al: date = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))
    campione_obiettivo: int | None = Field(default=None, gt=0)

    # A field's validator, not the model's: it runs, and is reported, even when another field is wrong.
    @field_validator("al")
    @classmethod
    def ordered_period(cls, al: date, info: ValidationInfo) -> date:
        dal = info.data.get("dal")
        if dal is not None and al < dal:
            raise ValueError(f"il periodo termina ({al}) prima di iniziare ({dal})")
        return al


class RilevazioneRefs(BaseModel):
    """What the cross-checks read of a campaign the schema refused, so that its services are checked as well."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    codice: Slug
    questionario: Slug
    servizi: list[Slug] = Field(min_length=1)


class CatalogueFile(Strict):
    enti: list[EnteIn] = []
    questionari: list[QuestionarioIn] = []
    rilevazioni: list[RilevazioneIn] = []


def question_fingerprint_data(questionario: QuestionarioIn) -> list[dict]:
    """The parts of a questionnaire that freeze once answered, in a canonical form."""
    return [d.model_dump(mode="json", exclude_none=True) for d in questionario.domande]

