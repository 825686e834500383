"""Open-data descriptions of a publication: the Frictionless data package and the DCAT-AP_IT dataset (JSON-LD).

Both describe the CSV of DESIGN.md; the DCAT file also lists every file of the version with its checksum, so a
regional or national catalogue (dati.gov.it harvests DCAT-AP_IT) can take the dataset as published.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

LICENCE = {"name": "CC-BY-4.0", "title": "Creative Commons Attribuzione 4.0 Internazionale",
           "path": "https://creativecommons.org/licenses/by/4.0/"}

# name, type, Italian title, description (the formulas are DESIGN.md's).
FIELDS: list[tuple[str, str, str, str]] = [
    ("anno", "integer", "Anno", "Anno solare delle risposte."),
    ("ente", "string", "Ente", "Comune o Unione di comuni che eroga il servizio."),
    ("ufficio", "string", "Ufficio", "Unità organizzativa responsabile del servizio."),
    ("servizio_codice", "string", "Codice servizio", "Codice stabile del servizio."),
    ("servizio", "string", "Servizio", "Nome del servizio."),
    ("domanda_codice", "string", "Codice domanda",
     "Codice della domanda nel questionario (D1, D2…); per il questionario del tablet allo sportello è "
     "preceduto dal codice del questionario."),
    ("domanda", "string", "Domanda", "Testo della domanda."),
    ("dimensione", "string", "Dimensione della qualità",
     "Dimensione CiVIT: accessibilità, tempestività, trasparenza, efficacia."),
    ("tipo", "string", "Tipo di domanda", "scala, faccine, nps, si_no, scelta_singola, scelta_multipla, testo."),
    ("scala_min", "integer", "Scala: minimo", "Valore minimo della scala di risposta."),
    ("scala_max", "integer", "Scala: massimo", "Valore massimo della scala di risposta."),
    ("n", "integer", "Risposte valide", "Risposte valide alla domanda (escluse quelle mancanti e «non so»)."),
    ("media", "number", "Media", "Media aritmetica dei valori (domande a scala, faccine e NPS), 2 decimali."),
    ("quota_soddisfatti", "number", "Soddisfatti (%) o NPS",
     "Quota di risposte strettamente sopra il punto medio della scala (0–100, 1 decimale); per le faccine la "
     "quota di faccine verdi; per le domande NPS il Net Promoter Score (% 9–10 meno % 0–6)."),
    ("ic95_inf", "number", "Intervallo di confidenza 95%: minimo",
     "Estremo inferiore dell'intervallo di Wilson (z = 1,96) della quota di soddisfatti; vuoto per NPS."),
    ("ic95_sup", "number", "Intervallo di confidenza 95%: massimo",
     "Estremo superiore dell'intervallo di Wilson (z = 1,96) della quota di soddisfatti; vuoto per NPS."),
    ("standard", "string", "Standard",
     "Valore obiettivo della carta dei servizi per il dato. Se il dato ne ha più d'uno (una media e una quota), "
     "sono separati da «; » e, quando il dato è valutabile, ciascuno è seguito dal suo esito "
     "(«media ≥ 3.8: raggiunto; quota_soddisfatti ≥ 75: non raggiunto»)."),
    ("esito_standard", "string", "Esito rispetto allo standard",
     "«raggiunto» o «non raggiunto» (con più standard, «raggiunto» se lo sono tutti); vuoto se non c'è standard o "
     "il dato non è valutabile."),
    ("soppresso", "boolean", "Dato soppresso",
     "true quando le risposte valide sono meno della soglia: media, quota e intervallo sono vuoti."),
]
BOUNDED = {"quota_soddisfatti": (-100, 100), "ic95_inf": (0, 100), "ic95_sup": (0, 100)}
MEDIA_TYPES = {".csv": "text/csv", ".json": "application/json", ".jsonld": "application/ld+json",
               ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               ".ods": "application/vnd.oasis.opendocument.spreadsheet", ".pdf": "application/pdf"}
# EU Publications Office file-type vocabulary, which DCAT-AP_IT asks for in dct:format.
EU_FILE_TYPES = {".csv": "CSV", ".json": "JSON", ".jsonld": "JSON_LD", ".xlsx": "XLSX", ".ods": "ODS"}


CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#", "dct": "http://purl.org/dc/terms/",
    "dcatapit": "http://dati.gov.it/onto/dcatapit#", "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#", "xsd": "http://www.w3.org/2001/XMLSchema#",
    "spdx": "http://spdx.org/rdf/terms#", "adms": "http://www.w3.org/ns/adms#", "owl": "http://www.w3.org/2002/07/owl#",
}


@dataclass(frozen=True)
class Publisher:
    name: str
    identifier: str  # the IPA code in DCAT-AP_IT
    email: str | None = None
    website: str | None = None


@dataclass(frozen=True)
class FileInfo:
    name: str
    sha256: str
    size: int

    @property
    def suffix(self) -> str:
        return "." + self.name.rsplit(".", 1)[-1]


def table_schema(threshold: int) -> dict[str, Any]:
    fields = []
    for name, kind, title, description in FIELDS:
        field: dict[str, Any] = {"name": name, "type": kind, "title": title, "description": description}
        if kind == "boolean":
            field |= {"trueValues": ["true"], "falseValues": ["false"]}
        if name in BOUNDED:
            field["constraints"] = {"minimum": BOUNDED[name][0], "maximum": BOUNDED[name][1]}
        if name == "n":
            field["constraints"] = {"minimum": 0, "required": True}
        if name == "esito_standard":
            field["constraints"] = {"enum": ["raggiunto", "non raggiunto"]}
        if name == "soppresso":
            field["description"] += f" Soglia: {threshold}."
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def datapackage(year: int, version: int, published_at: datetime, publisher: Publisher, csv: FileInfo,
                threshold: int, end: str | None = None,
                per_ente: Sequence[tuple[str, str, FileInfo]] = ()) -> dict[str, Any]:
    """The Frictionless data package describing the CSV (validated in the tests with `frictionless validate`);
    ``end`` (ISO date) the last day the figures cover, when the year was still running; ``per_ente`` each ente's
    own CSV (code, name, file), the same table narrowed to its rows."""
    stamp = published_at.isoformat(timespec="seconds")
    resources = [_csv_resource(f"indicatori-{year}", f"Indicatori per servizio e domanda – anno {year}", csv,
                               threshold)]
    resources += [_csv_resource(f"indicatori-{year}-{code}", f"Indicatori per servizio e domanda – {name} – "
                                f"anno {year}", info, threshold) for code, name, info in per_ente]
    return {
        "profile": "tabular-data-package",
        "name": f"soddisfazione-servizi-{year}",
        "title": f"Soddisfazione degli utenti dei servizi – anno {year}",
        "description": (f"Indagini di customer satisfaction sui servizi erogati da {publisher.name} nell'anno {year}: "
                        "una riga per ente, servizio e domanda. Pubblicato in Amministrazione trasparente > "
                        "Servizi erogati (D.Lgs. 33/2013, art. 32)."),
        "version": f"{version}.0.0",
        "created": stamp,
        "last_modified": stamp,
        "licenses": [LICENCE],
        "publisher": {"title": publisher.name, "identifier": publisher.identifier,
                      **({"email": publisher.email} if publisher.email else {}),
                      **({"path": publisher.website} if publisher.website else {})},
        "contributors": [{"title": publisher.name, "role": "publisher",
                          **({"email": publisher.email} if publisher.email else {})}],
        "temporal": {"start": f"{year}-01-01", "end": end or f"{year}-12-31"},
        "keywords": ["customer satisfaction", "soddisfazione", "servizi erogati", "amministrazione trasparente"],
        "language": "it",
        "resources": resources,
    }


def _csv_resource(name: str, title: str, csv: FileInfo, threshold: int) -> dict[str, Any]:
    return {
        "name": name,
        "title": title,
        "path": csv.name,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "bytes": csv.size,
        "hash": f"sha256:{csv.sha256}",
        "dialect": {"delimiter": ",", "quoteChar": '"', "header": True},
        "schema": table_schema(threshold),
    }


def dcat_ap_it(year: int, version: int, published_at: datetime, publisher: Publisher, files: list[FileInfo],
               landing_page: str, download_url: str, end: str | None = None,
               own_pages: dict[str, tuple[str, str]] | None = None, issued: date | None = None) -> dict[str, Any]:
    """The dataset in DCAT-AP_IT as JSON-LD; ``download_url`` ends where each file's name follows; ``end`` as in
    ``datapackage``; ``own_pages`` gives a file (an ente's own table) its own page and title: name → (page, title);
    ``issued``, the day the year's first version was published (``dct:issued``; this version's is ``dct:modified``)."""
    own_pages = own_pages or {}
    stamp = published_at.isoformat(timespec="seconds")
    dataset_id = f"{landing_page.rstrip('/')}#dataset"
    agent = {"@type": ["dcatapit:Agent", "foaf:Agent"], "dct:identifier": publisher.identifier,
             "foaf:name": publisher.name}
    contact: dict[str, Any] = {"@type": ["dcatapit:Organization", "vcard:Organization"], "vcard:fn": publisher.name}
    if publisher.email:
        contact["vcard:hasEmail"] = {"@id": f"mailto:{publisher.email}"}
    distributions = []
    for info in files:
        url = download_url + info.name
        page, title = own_pages.get(info.name, (landing_page, info.name))
        distributions.append({
            "@id": url, "@type": ["dcatapit:Distribution", "dcat:Distribution"],
            "dct:title": title, "dcat:accessURL": {"@id": page}, "dcat:downloadURL": {"@id": url},
            "dct:format": {"@id": "http://publications.europa.eu/resource/authority/file-type/"
                                  + EU_FILE_TYPES.get(info.suffix, "BIN")},
            "dcat:mediaType": MEDIA_TYPES.get(info.suffix, "application/octet-stream"),
            "dct:license": {"@id": LICENCE["path"], "@type": ["dcatapit:LicenseDocument", "dct:LicenseDocument"],
                            "dct:type": {"@id": "http://purl.org/adms/licencetype/Attribution"},
                            "foaf:name": LICENCE["title"]},
            "dcat:byteSize": {"@value": str(info.size), "@type": "xsd:decimal"},
            "spdx:checksum": {"@type": "spdx:Checksum", "spdx:algorithm": {"@id": "spdx:checksumAlgorithm_sha256"},
                              "spdx:checksumValue": info.sha256},
            "dct:modified": {"@value": published_at.date().isoformat(), "@type": "xsd:date"},
        })
    return {
        "@context": CONTEXT,
        "@id": dataset_id,
        "@type": ["dcatapit:Dataset", "dcat:Dataset"],
        "dct:identifier": f"{publisher.identifier}:soddisfazione-servizi-{year}",
        "dct:title": {"@value": f"Soddisfazione degli utenti dei servizi – anno {year}", "@language": "it"},
        "dct:description": {"@value": f"Risultati delle indagini di customer satisfaction sui servizi di "
                                      f"{publisher.name}, anno {year}, versione {version}: per servizio e domanda, "
                                      "risposte valide, media, quota di soddisfatti con intervallo di confidenza "
                                      "al 95%, standard della carta dei servizi ed esito.", "@language": "it"},
        "owl:versionInfo": str(version),
        "dct:issued": {"@value": (issued or published_at.date()).isoformat(), "@type": "xsd:date"},
        "dct:modified": {"@value": published_at.date().isoformat(), "@type": "xsd:date"},
        "dct:accrualPeriodicity": {"@id": "http://publications.europa.eu/resource/authority/frequency/ANNUAL"},
        "dcat:theme": {"@id": "http://publications.europa.eu/resource/authority/data-theme/GOVE"},
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/ITA"},
        "dct:temporal": {"@type": "dct:PeriodOfTime",
                         "dcat:startDate": {"@value": f"{year}-01-01", "@type": "xsd:date"},
                         "dcat:endDate": {"@value": end or f"{year}-12-31", "@type": "xsd:date"}},
        "dcat:keyword": [{"@value": k, "@language": "it"}
                         for k in ("customer satisfaction", "soddisfazione", "servizi erogati", "trasparenza")],
        "dct:publisher": agent,
        "dct:rightsHolder": agent,
        "dcat:contactPoint": contact,
        "dcat:landingPage": {"@id": landing_page},
        "dcat:distribution": distributions,
        "dct:created": {"@value": stamp, "@type": "xsd:dateTime"},
    }


def dcat_catalog(publisher: Publisher, homepage: str, datasets: list[dict[str, Any]]) -> dict[str, Any]:
    """A DCAT-AP_IT catalogue of every year's newest version: one address for a harvester to follow."""
    context = datasets[0]["@context"] if datasets else CONTEXT
    agent = {"@type": ["dcatapit:Agent", "foaf:Agent"], "dct:identifier": publisher.identifier,
             "foaf:name": publisher.name}
    modified = max((d["dct:modified"]["@value"] for d in datasets), default=None)
    return {
        "@context": context,
        "@id": f"{homepage.rstrip('/')}#catalogo",
        "@type": ["dcatapit:Catalog", "dcat:Catalog"],
        "dct:title": {"@value": f"Soddisfazione degli utenti dei servizi – {publisher.name}", "@language": "it"},
        "dct:description": {"@value": "Risultati annuali delle indagini di customer satisfaction pubblicati in "
                                      "Amministrazione trasparente > Servizi erogati.", "@language": "it"},
        "dct:publisher": agent,
        "foaf:homepage": {"@id": homepage},
        "dct:language": {"@id": "http://publications.europa.eu/resource/authority/language/ITA"},
        **({"dct:modified": {"@value": modified, "@type": "xsd:date"}} if modified else {}),
        "dcat:dataset": [{k: v for k, v in d.items() if k != "@context"} for d in datasets],
    }


def dumps(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
