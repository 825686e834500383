"""Whether a password a person chose is too easy to guess: zxcvbn's estimate, told the account's own words."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from ..models import Ente

# Words anyone would try first on a Comune's staff area (zxcvbn's dictionaries are English).
LOCAL_WORDS = ["comune", "unione", "servizi", "servizio", "trasparenza", "cittadini", "soddisfazione", "ufficio",
               "sindaco", "municipio", "password", "parola", "segreta", "accesso"]
GOOD_ENOUGH = 3  # zxcvbn's score from 0 to 4: 3 is "safely unguessable" against an online attack and then some


def guessable(session: Session, password: str, email: str) -> bool:
    """True when the password is mostly common words, sequences, repetitions, dates, the account's e-mail address
    or the bodies' names ("aaaaaaaaaaaa", "password1234", "mario.rossi@comune.it")."""
    words = [email, *re.split(r"[@._+-]+", email.lower())]
    for codice, nome in session.execute(select(Ente.codice, Ente.nome)):
        name = nome.lower()
        words += [codice, name, *(re.sub(r"[\s']+", joint, name) for joint in ("-", "", "_", ".")),
                  *re.split(r"[\s'-]+", name)]
    words = [w for w in words + LOCAL_WORDS if w]
    if _only_known_words(password, words):
        return True
    # zxcvbn's time grows with the length: the first 100 characters say enough.
    return zxcvbn(password[:100], user_inputs=words)["score"] < GOOD_ENOUGH


def _only_known_words(password: str, words: list[str]) -> bool:
    """Whether the password is the account's and the bodies' own words run together, whatever joins them (a few
    separators, a year, a "!"): zxcvbn scored "giorgio.bono@cuorgne" 4, its separators counted as random characters.
    Letters that are no such words, or enough other characters, leave the judgement to zxcvbn."""
    letters = re.sub(r"[^a-zà-ÿ]", "", password.lower())
    others = len(password) - len(letters)
    found = 0
    for word in sorted({re.sub(r"[^a-zà-ÿ]", "", w.lower()) for w in words}, key=len, reverse=True):
        if len(word) >= 3 and word in letters:
            letters, found = letters.replace(word, ""), found + 1
    return found > 0 and len(letters) <= 3 and others <= 8
