# Configuration of the demo instance, loaded by create_app() after settings.Defaults.
#
# DEMO VALUES: the contacts below are invented for the demonstration (the street addresses follow the demo
# catalogue). The e-mail and PEC addresses use the reserved ".example" domain so that nothing is ever sent to the
# real Comune or Unione; the people and firms named here do not exist.
# A real installation puts its own enti's contacts here (shapes documented in survey_app/legal.py).

# Controllers and their DPOs, keyed by the catalogue's enti[].codice (instances/demo/catalogue/*.yaml).
LEGAL_ENTI = {
    "cuorgne": {
        "indirizzo": "Via Garibaldi 9, 10082 Cuorgnè (TO)",
        "pec": "protocollo@pec.comune-cuorgne.example",
        "email": "urp@comune-cuorgne.example",
        "dpo_nome": "Studio Esempio Privacy S.r.l.",
        "dpo_email": "dpo@comune-cuorgne.example",
        "dpo_pec": "dpo@pec.comune-cuorgne.example",
    },
    "unione-bassa-sesia": {
        "indirizzo": "Piazza del Municipio 1, 13010 Caresana (VC)",
        "pec": "unione@pec.bassasesia.example",
        "email": "segreteria@bassasesia.example",
        "dpo_nome": "Avv. Giulia Esempio",
        "dpo_email": "rpd@bassasesia.example",
    },
}

# The body that publishes the open data, written for good into each version's DCAT-AP_IT and data package files. With
# SURVEY_ENV=production a publication without its IPA code is refused. The demo leaves it unset (the files then name
# the enti); a real installation sets it before its first publication, e.g.:
# PUBLISHER = {"nome": "Comune di Esempio", "codice_ipa": "c_x000", "email": "urp@comune.example.it",
#              "sito": "https://www.comune.example.it"}

# Data processors (art. 28 GDPR).
LEGAL_RESPONSABILI = [
    {"nome": "Esempio Cloud S.r.l.", "attivita": "hosting e manutenzione della piattaforma"},
]

ACCESSIBILITY = {
    "ente": "Comune di Cuorgnè",
    "stato": "parzialmente conforme",
    "data_dichiarazione": "2025-03-14",
    "data_revisione": "2025-09-30",
    "feedback": "mailto:accessibilita@comune-cuorgne.example",
    "contenuti_non_accessibili": [
        "Le locandine con il codice QR in formato PDF non sono PDF accessibili (PDF/UA): il loro testo è "
        "ripetuto nella pagina del questionario a cui portano.",
    ],
}
