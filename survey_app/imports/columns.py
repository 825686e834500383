"""The columns of an import file and the values each question accepts (codes and the labels people write)."""

from __future__ import annotations

import re
import unicodedata

from ..models import Domanda, QuestionarioVersione

FIXED = ["id_esterno", "data", "servizio", "canale", "sede"]
REQUIRED_FIXED = ["id_esterno", "data", "servizio"]  # a row cannot do without them; canale and sede may be left out
IMPORTANCE_SUFFIX = "_importanza"
NON_SO = "non so"
FIRM_CHANNELS = ("telefono", "carta", "web", "email", "sportello")
# The channels each batch method collects by (a paper questionnaire may be filled in at the counter); the first is a
# row's channel when the file leaves it out. The method note publishes each firm's batches by method.
METHOD_CHANNELS = {"CATI": ("telefono",), "PAPI": ("carta", "sportello"), "CAWI": ("web", "email")}
DEFAULT_CHANNEL = {method: channels[0] for method, channels in METHOD_CHANNELS.items()}
CHANNEL_METHOD = {channel: method for method, channels in METHOD_CHANNELS.items() for channel in channels}
FACE_LABELS = {"rosso": 1, "rossa": 1, "giallo": 2, "gialla": 2, "verde": 3}
YES_NO = {"si": 1, "sì": 1, "no": 0, "1": 1, "0": 0}


def normal(text: str) -> str:
    """Lower case, no accents, single spaces: how a label is compared ("Molto  Soddisfatto" = "molto soddisfatto")."""
    plain = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return " ".join(plain.lower().split())


SEPARATORS = re.compile(r"[\s_-]+")


def column_key(name: str) -> str:
    """How a header or a JSON key is matched to a column: case ignored; spaces, runs of them, hyphens and
    underscores alike ("ID Esterno", "id-esterno", " Id_Esterno " -> "id_esterno"; "D1 Importanza" -> "d1_importanza").
    """
    return SEPARATORS.sub("_", str(name).strip()).lower()


def question_columns(versione: QuestionarioVersione) -> list[str]:
    columns = []
    for domanda in versione.domande:
        columns.append(domanda.codice)
        if domanda.importanza:
            columns.append(domanda.codice + IMPORTANCE_SUFFIX)
    return columns


def all_columns(versione: QuestionarioVersione) -> list[str]:
    return FIXED + question_columns(versione)


def required_columns(versione: QuestionarioVersione) -> list[str]:
    """The columns a file must have: the row's identity, date and service, and each required question's answer."""
    return REQUIRED_FIXED + [d.codice for d in versione.domande if d.obbligatoria]


def value_labels(domanda: Domanda) -> dict[str, object]:
    """Accepted spellings (normalised) to the stored value: codes, the catalogue's labels, the usual words."""
    labels: dict[str, object] = {}
    if domanda.tipo in ("scala", "nps"):
        for value in range(domanda.scala_min, domanda.scala_max + 1):
            # "4,0" and "4.0": a whole number as a spreadsheet formatted with a decimal writes it to CSV.
            labels[str(value)] = labels[f"{value},0"] = labels[f"{value}.0"] = value
        for end, value in (("min", domanda.scala_min), ("max", domanda.scala_max)):
            for lang in ("it", "en"):
                text = ((domanda.etichette or {}).get(end) or {}).get(lang)
                if text:
                    labels[normal(text)] = value
        if domanda.tipo == "scala":
            labels.setdefault("per niente soddisfatto", domanda.scala_min)
            labels.setdefault("molto soddisfatto", domanda.scala_max)
    elif domanda.tipo == "faccine":
        labels.update({"1": 1, "2": 2, "3": 3, **FACE_LABELS})
    elif domanda.tipo == "si_no":
        labels.update(YES_NO)
    elif domanda.tipo in ("scelta_singola", "scelta_multipla"):
        for option in domanda.opzioni:
            labels[normal(option.codice)] = option.codice
            labels[normal(option.testo_it)] = option.codice
    if domanda.non_so:
        labels[NON_SO] = NON_SO
    return labels


def allowed_text(domanda: Domanda) -> str:
    """The allowed values as the legend and the error messages state them."""
    if domanda.tipo in ("scala", "nps"):
        text = f"un numero da {domanda.scala_min} a {domanda.scala_max}"
    elif domanda.tipo == "faccine":
        text = "1 o rosso, 2 o giallo, 3 o verde"
    elif domanda.tipo == "si_no":
        text = "sì o no (1 o 0)"
    elif domanda.tipo == "scelta_singola":
        text = "uno tra: " + ", ".join(o.codice for o in domanda.opzioni)
    elif domanda.tipo == "scelta_multipla":
        text = "uno o più tra: " + ", ".join(o.codice for o in domanda.opzioni) + " (separati da ;)"
    else:
        text = "testo libero" + (f" (al massimo {domanda.max_lunghezza} caratteri)" if domanda.max_lunghezza else "")
    return text + (", oppure «non so»" if domanda.non_so else "")
