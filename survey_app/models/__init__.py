"""Domain model, split by area. Import from here."""

from .base import Base
from .comments import COMMENT_STATES, CommentoStato
from .imports import ApiToken, PendingUpload, api_token_servizi
from .organisation import ENTE_TYPES, STANDARD_INDICATORS, Ente, Sede, Servizio, Standard, Ufficio
from .publications import ACTION_STATES, AzioneMiglioramento, Pubblicazione, PubblicazioneFile
from .questionnaires import (
    CHOICE_TYPES,
    CIVIT_DIMENSIONS,
    FACES,
    FIXED_SCALES,
    NUMERIC_TYPES,
    QUESTION_TYPES,
    Domanda,
    Opzione,
    Questionario,
    QuestionarioVersione,
)
from .responses import (
    CHANNELS,
    CITIZEN_CHANNELS,
    IMPORT_METHODS,
    LANGUAGES,
    Compilazione,
    ImportBatch,
    ImportExternalId,
    Rilevazione,
    Risposta,
    rilevazione_servizi,
)
from .summary import SUMMARY_KEY, RiepilogoRisposte
from .tokens import FormToken
from .users import ROLES, ROLES_SEEING_ALL, AuditLog, User, UserScope

__all__ = [
    "ACTION_STATES", "AzioneMiglioramento", "Pubblicazione", "PubblicazioneFile",
    "COMMENT_STATES", "CommentoStato",
    "CHANNELS", "CHOICE_TYPES", "CITIZEN_CHANNELS", "CIVIT_DIMENSIONS", "ENTE_TYPES", "FACES", "FIXED_SCALES", "IMPORT_METHODS",
    "LANGUAGES", "NUMERIC_TYPES", "QUESTION_TYPES", "ROLES", "ROLES_SEEING_ALL", "STANDARD_INDICATORS", "SUMMARY_KEY",
    "ApiToken", "AuditLog", "Base", "Compilazione", "Domanda", "Ente", "FormToken", "ImportBatch", "ImportExternalId", "Opzione", "PendingUpload", "Questionario",
    "QuestionarioVersione", "RiepilogoRisposte", "Rilevazione", "Risposta", "Sede", "Servizio", "Standard", "Ufficio",
    "User", "UserScope", "api_token_servizi", "rilevazione_servizi",
]
