"""Forms of the catalogue pages, checked by the catalogue's own schema, and their audit trail.

Each form builds the entry a YAML file would hold (``ServizioIn``, ``SedeIn``, ``StandardIn``, ``QuestionarioIn``)
and lets pydantic judge it, so the pages and ``flask catalogue load`` share one set of rules; each error lands
on the field it is about, in words that name the field. The form then checks what the schema cannot see alone:
references to questionnaires, comuni and questions, codes already taken, answers that pin a counter's code.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf import FlaskForm
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from wtforms import Field, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError as FieldError

from analysis.publication import standard_text

from ..catalogue.checks import published_past_years
from ..catalogue.errors import describe
from ..catalogue.schema import (
    SedeIn,
    ServizioIn,
    StandardIn,
    rejudged_years,
    threshold_problem,
    years_overlap,
    years_text,
)
from ..extensions import db
from ..models import AuditLog, Ente, Questionario, Sede, Servizio, Standard, Ufficio
from ..transparency.formatting import local_today

# Messages for the errors a person can make in a form; anything else keeps the schema's own wording.
MESSAGES = {
    "missing": _l("%(field)s: campo obbligatorio."),
    "string_too_short": _l("%(field)s: non può essere vuoto."),
    "string_too_long": _l("%(field)s: al massimo %(limit)s caratteri."),
    "int_parsing": _l("%(field)s: indicare un numero intero, senza punti né spazi (es. 4500)."),
    "int_from_float": _l("%(field)s: indicare un numero intero, senza punti né spazi (es. 4500)."),
    "float_parsing": _l("%(field)s: indicare un numero, con la virgola per i decimali (es. 3,8)."),
    "greater_than": _l("%(field)s: deve essere maggiore di %(limit)s."),
    "string_pattern_mismatch": _l("%(field)s: solo lettere minuscole, cifre e trattini singoli tra le parole "
                                  "(es. sportello-1)."),
    "literal_error": _l("%(field)s: valore non ammesso."),
    "greater_than_equal": _l("%(field)s: indicare un anno tra il 2000 e il 2100."),
    "less_than_equal": _l("%(field)s: indicare un anno tra il 2000 e il 2100."),
}
INDICATORS = {"quota_soddisfatti": _l("quota di soddisfatti (%)"), "media": _l("media")}
LARGEST_THRESHOLD = Decimal("999999.99")  # Numeric(8, 2)


def strip(value):
    return value.strip() if isinstance(value, str) else value


def optional(value: str | None) -> str | None:
    return value or None


def length(limit: int):
    """The database column's size, which the schema does not check: an error that names the field."""
    def check(form, field) -> None:
        if field.data and len(field.data) > limit:
            raise FieldError(_("%(field)s: al massimo %(max)d caratteri.", field=field.label.text, max=limit))
    return check


def report(field: Field, message: str) -> None:
    if message not in field.errors:
        field.errors.append(message)


def judge(model: type[BaseModel], data: dict[str, Any], where: dict[tuple, Field], fallback: Field) -> Any:
    """The validated model, or None with each error on its field (the longest part of its location that names one)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = next((where[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in where), fallback)
            label = field.label.text
            kind = error["type"]
            if kind == "string_pattern_mismatch" and error.get("input") == "":
                kind = "missing"  # an empty code or choice
            template = MESSAGES.get(kind)
            ctx = error.get("ctx") or {}
            if template is not None:
                message = str(template) % {"field": label, "limit": ctx.get("gt", ctx.get("max_length", ""))}
            else:  # a rule of the schema (e.g. the range of a threshold): its own Italian sentence
                message = _("%(field)s: %(message)s.", field=label, message=describe(error).rstrip("."))
            report(field, message)
        return None


def audit(action: str, subject: str, details: dict) -> None:
    db.session.add(AuditLog(utente_id=current_user.id, azione=action, oggetto=subject[:200], dettagli=details))


def questionnaire_label(q: Questionario) -> str:
    return f"{q.titolo_it} ({q.codice})"


class ServiceForm(FlaskForm):
    nome_it = StringField(_l("Nome (italiano)"), filters=[strip], validators=[length(200)])
    nome_en = StringField(_l("Nome (inglese)"), filters=[strip], validators=[length(200)],
                          description=_l("Facoltativo: se manca, la pagina in inglese mostra il nome italiano."))
    descrizione_it = TextAreaField(_l("Descrizione (italiano)"), filters=[strip], description=_l("Facoltativa."))
    descrizione_en = TextAreaField(_l("Descrizione (inglese)"), filters=[strip], description=_l("Facoltativa."))
    utenti_annui = StringField(_l("Utenti annui"), filters=[strip],
                               description=_l("Facoltativo: quante persone usano il servizio in un anno. Serve per "
                                              "il margine d'errore e per il campione delle rilevazioni."))
    questionario = SelectField(_l("Questionario"), validate_choice=False,
                               description=_l("Quello che i cittadini compilano sul web e con la locandina QR."))
    questionario_chiosco = SelectField(_l("Questionario del chiosco"), validate_choice=False,
                                       description=_l("Facoltativo: quello del tablet allo sportello."))

    servizio: Servizio
    questionnaires: dict[str, Questionario]
    model: ServizioIn | None = None

    def setup(self, servizio: Servizio, questionnaires: list[Questionario]) -> ServiceForm:
        self.servizio, self.questionnaires = servizio, {q.codice: q for q in questionnaires}
        self.questionario.choices = [SelectChoice(q.codice, questionnaire_label(q)) for q in questionnaires]
        self.questionario_chiosco.choices = [SelectChoice("", _("nessuno"))] + [
            SelectChoice(q.codice, questionnaire_label(q)) for q in questionnaires]
        return self

    def entry(self) -> dict[str, Any]:
        """The service as the YAML would hold it (without its counters and standards)."""
        description = None
        if self.descrizione_it.data or self.descrizione_en.data:
            description = {"it": self.descrizione_it.data or "", "en": optional(self.descrizione_en.data)}
        return {"slug": self.servizio.slug, "nome": {"it": self.nome_it.data or "", "en": optional(self.nome_en.data)},
                "descrizione": description, "utenti_annui": optional(self.utenti_annui.data),
                "questionario": self.questionario.data or "",
                "questionario_chiosco": optional(self.questionario_chiosco.data)}

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        where = {("nome",): self.nome_it, ("nome", "en"): self.nome_en, ("descrizione",): self.descrizione_it,
                 ("descrizione", "en"): self.descrizione_en, ("utenti_annui",): self.utenti_annui,
                 ("questionario",): self.questionario, ("questionario_chiosco",): self.questionario_chiosco}
        self.model = judge(ServizioIn, self.entry(), where, self.nome_it)
        for field in (self.questionario, self.questionario_chiosco):
            if field.data and not field.errors and field.data not in self.questionnaires:
                report(field, _("%(field)s: scegliere uno dei questionari caricati.", field=field.label.text))
        self._check_standards()
        return ok and self.model is not None and not any(f.errors for f in self)

    def _check_standards(self) -> None:
        """Another questionnaire must still have the questions the service's standards name."""
        chosen = self.questionnaires.get(self.questionario.data)
        if chosen is None or chosen.id == self.servizio.questionario_id or chosen.versione_corrente is None:
            return
        codes = {d.codice for d in chosen.versione_corrente.domande}
        missing = sorted({s.domanda_codice for s in self.servizio.standard if s.domanda_codice} - codes)
        if missing:
            report(self.questionario, _("%(field)s: «%(title)s» non ha le domande %(codes)s, a cui si riferiscono "
                                        "standard del servizio. Modificare o eliminare prima quegli standard.",
                                        field=self.questionario.label.text, title=chosen.titolo_it,
                                        codes=", ".join(missing)))


class NewServiceForm(FlaskForm):
    ufficio = SelectField(_l("Ufficio"), validate_choice=False)
    slug = StringField(_l("Codice del servizio"), filters=[strip],
                       description=_l("Lettere minuscole, cifre e trattini (es. sportello-unico): è nell'indirizzo "
                                      "del questionario e sulle locandine QR, e non si potrà cambiare."))
    nome_it = StringField(_l("Nome (italiano)"), filters=[strip], validators=[length(200)])
    questionario = SelectField(_l("Questionario"), validate_choice=False)

    offices: dict[str, Ufficio]
    questionnaires: dict[str, Questionario]
    model: ServizioIn | None = None

    def setup(self, offices: list[Ufficio], questionnaires: list[Questionario]) -> NewServiceForm:
        self.offices = {str(u.id): u for u in offices}
        self.questionnaires = {q.codice: q for q in questionnaires}
        self.ufficio.choices = [SelectChoice("", _("scegliere…"))] + [
            SelectChoice(str(u.id), u.nome, optgroup=u.ente.nome) for u in offices]
        self.questionario.choices = [SelectChoice("", _("scegliere…"))] + [
            SelectChoice(q.codice, questionnaire_label(q)) for q in questionnaires]
        return self

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        entry = {"slug": self.slug.data or "", "nome": {"it": self.nome_it.data or ""},
                 "questionario": self.questionario.data or ""}
        where = {("slug",): self.slug, ("nome",): self.nome_it, ("questionario",): self.questionario}
        self.model = judge(ServizioIn, entry, where, self.nome_it)
        if self.ufficio.data not in self.offices:
            report(self.ufficio, _("%(field)s: scegliere l'ufficio del servizio.", field=self.ufficio.label.text))
        if self.questionario.data and not self.questionario.errors and self.questionario.data not in self.questionnaires:
            report(self.questionario, _("%(field)s: scegliere uno dei questionari caricati.",
                                        field=self.questionario.label.text))
        if self.model and db.session.scalar(select(Servizio.id).filter_by(slug=self.model.slug)) is not None:
            report(self.slug, _("%(field)s: esiste già un servizio «%(slug)s».", field=self.slug.label.text,
                                slug=self.model.slug))
        return ok and self.model is not None and not any(f.errors for f in self)


class SedeForm(FlaskForm):
    codice = StringField(_l("Codice della sede"), filters=[strip],
                         description=_l("Lettere minuscole, cifre e trattini (es. sportello-1): lo portano le "
                                        "locandine QR e i chioschi, che vanno ristampati se cambia."))
    nome = StringField(_l("Nome della sede"), filters=[strip], validators=[length(200)])
    indirizzo = StringField(_l("Indirizzo"), filters=[strip], validators=[length(300)], description=_l("Facoltativo."))
    comune = SelectField(_l("Comune dell'unione"), validate_choice=False,
                         description=_l("Facoltativo: il comune membro dove si trova lo sportello."))

    servizio: Servizio
    sede: Sede | None = None
    comuni: dict[str, Ente]
    answers: int = 0
    model: SedeIn | None = None

    def setup(self, servizio: Servizio, sede: Sede | None = None, answers: int = 0) -> SedeForm:
        self.servizio, self.sede, self.answers = servizio, sede, answers
        members = sorted(servizio.ente.comuni_membri, key=lambda e: e.nome)
        if sede is not None and sede.comune is not None and sede.comune not in members:
            members.append(sede.comune)  # kept even if no longer a member, so that saving does not drop it
        self.comuni = {e.codice: e for e in members}
        self.comune.choices = [SelectChoice("", _("nessuno"))] + [SelectChoice(e.codice, e.nome) for e in members]
        return self

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        entry = {"codice": self.codice.data or "", "nome": self.nome.data or "",
                 "indirizzo": optional(self.indirizzo.data), "comune": optional(self.comune.data)}
        where = {(name,): getattr(self, name) for name in ("codice", "nome", "indirizzo", "comune")}
        self.model = judge(SedeIn, entry, where, self.codice)
        if self.model is None:
            return False
        if self.model.comune and self.model.comune not in self.comuni:
            report(self.comune, _("%(field)s: scegliere uno dei comuni dell'unione.", field=self.comune.label.text))
        others = {s.codice for s in self.servizio.sedi if s is not self.sede}
        if self.model.codice in others:
            report(self.codice, _("%(field)s: il servizio ha già una sede «%(code)s».", field=self.codice.label.text,
                                  code=self.model.codice))
        if self.sede is not None and self.answers and self.model.codice != self.sede.codice:
            report(self.codice, _("%(field)s: la sede ha già questionari raccolti con il codice «%(code)s», che "
                                  "resta quello delle locandine e dei dati: non si può cambiare.",
                                  field=self.codice.label.text, code=self.sede.codice))
        return ok and not any(f.errors for f in self)


class StandardForm(FlaskForm):
    indicatore = SelectField(_l("Indicatore"), validate_choice=False,
                             choices=[SelectChoice(value, label) for value, label in INDICATORS.items()])
    soglia = StringField(_l("Soglia"), filters=[strip],
                         description=_l("Per la quota di soddisfatti una percentuale da 0 a 100 (es. 80); per la "
                                        "media un valore della scala (es. 4 o 3,8)."))
    domanda = SelectField(_l("Domanda"), validate_choice=False,
                          description=_l("Facoltativa: senza, lo standard vale per ogni domanda con valutazione."))
    descrizione = StringField(_l("Descrizione"), filters=[strip], validators=[length(300)],
                              description=_l("Facoltativa: come la riporta la carta dei servizi."))
    dal = StringField(_l("Dall'anno"), filters=[strip],
                      description=_l("Facoltativo: il primo anno della carta dei servizi che lo fissa (vuoto: da "
                                     "sempre). Per un nuovo obiettivo, chiudere quello vecchio all'anno prima e "
                                     "aggiungere il nuovo da quest'anno: gli anni passati restano giudicati con il "
                                     "loro."))
    al = StringField(_l("Fino all'anno"), filters=[strip],
                     description=_l("Facoltativo: l'ultimo anno in cui vale (vuoto: è in vigore)."))

    servizio: Servizio
    standard: Standard | None = None
    questions: set[str]
    scales: list[tuple]
    model: StandardIn | None = None

    def setup(self, servizio: Servizio, standard: Standard | None = None) -> StandardForm:
        self.servizio, self.standard = servizio, standard
        version = servizio.questionario.versione_corrente
        rated = [d for d in (version.domande if version else []) if d.is_numeric]
        self.questions = {d.codice for d in rated}
        self.scales = [(d.codice, d.tipo, d.scala_min, d.scala_max) for d in rated]
        self.domanda.choices = [SelectChoice("", _("tutte le domande con valutazione"))] + [
            SelectChoice(d.codice, f"{d.codice} · {d.testo_it}") for d in rated]
        kept = standard.domanda_codice if standard else ""
        if kept and kept not in self.questions:  # offered as it is, so that saving the other fields keeps it
            self.domanda.choices.append(SelectChoice(kept, _("%(code)s · non è più una domanda con valutazione del "
                                                             "questionario", code=kept)))
        return self

    def _years(self) -> tuple[str | None, str | None]:
        """The two years as typed, each checked here so that its message names the field, not the YAML key."""
        years = []
        for field in (self.dal, self.al):
            value = optional(field.data)
            if value is not None and not (value.isdigit() and len(value) == 4):
                report(field, _("%(field)s: indicare un anno di quattro cifre (es. %(year)d).", field=field.label.text,
                                year=local_today().year))
                value = None
            years.append(value)
        if years[0] and years[1] and int(years[0]) > int(years[1]):
            report(self.al, _("%(field)s: viene prima di «%(other)s» (%(year)s).", field=self.al.label.text,
                              other=self.dal.label.text, year=years[0]))
            years[1] = None
        return years[0], years[1]

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        threshold = (self.soglia.data or "").replace(",", ".")
        dal, al = self._years()
        entry = {"indicatore": self.indicatore.data or "", "domanda": optional(self.domanda.data),
                 "descrizione": optional(self.descrizione.data), "dal": dal,
                 "al": al} | ({"soglia": threshold} if threshold else {})
        where = {(name,): getattr(self, name) for name in ("indicatore", "soglia", "domanda", "descrizione", "dal",
                                                           "al")}
        # The schema's rule on the threshold is a check of the whole entry: its error is the threshold's.
        self.model = judge(StandardIn, entry, where, self.soglia)
        if self.model is None:
            return False
        try:
            too_large = abs(Decimal(str(self.model.soglia))) > LARGEST_THRESHOLD
        except InvalidOperation:
            too_large = True
        if too_large:
            report(self.soglia, _("%(field)s: valore fuori misura.", field=self.soglia.label.text))
        past = self.model.al is not None and self.model.al < local_today().year  # judges its years' questionnaire
        if self.model.domanda and self.model.domanda not in self.questions and not past \
                and not (self.standard and self.standard.domanda_codice == self.model.domanda):
            report(self.domanda, _("%(field)s: scegliere una domanda con valutazione del questionario del servizio.",
                                   field=self.domanda.label.text))
        problem = threshold_problem(self.model.indicatore, self.model.soglia, self.model.domanda, self.scales)
        if problem and problem[0] == "nps":
            report(self.domanda, _("%(field)s: %(code)s è una domanda NPS, il suo indice non è né una quota di "
                                   "soddisfatti né una media: scegliere una domanda con scala, faccine o sì/no.",
                                   field=self.domanda.label.text, code=problem[1]))
        elif problem and problem[0] == "scala":  # the question offered are rated ones: no other kind comes here
            report(self.soglia, _("%(field)s: la media di %(code)s va da %(low)d a %(high)d, la soglia è fuori scala.",
                                  field=self.soglia.label.text, code=problem[1], low=problem[2], high=problem[3]))
        key = (self.model.indicatore, self.model.domanda or "")
        years = (self.model.dal, self.model.al)
        other = next((s for s in self.servizio.standard if s is not self.standard and (s.indicatore, s.domanda_codice)
                      == key and years_overlap((s.anno_dal, s.anno_al), years)), None)
        if other is not None:
            report(self.dal, _("%(field)s: negli stessi anni vale già lo standard «%(other)s» (%(years)s): un solo "
                               "obiettivo per anno. Chiudere quello con «%(until)s», oppure indicare qui un anno "
                               "successivo.", field=self.dal.label.text,
                               other=standard_text(other.indicatore, float(other.soglia), other.domanda_codice, ","),
                               years=years_text(other.anno_dal, other.anno_al) or _("tutti gli anni"),
                               until=self.al.label.text))
        self._keep_published_years()
        return ok and not any(f.errors for f in self)

    def _keep_published_years(self) -> None:
        """A year already published stays judged by the target it was published with: a change that would judge
        one of them otherwise (a new threshold, a target added to it or taken from it) is refused, pointing to the
        way a new carta dei servizi is entered."""
        m, old = self.model, self.standard
        was = ((old.indicatore, float(old.soglia), old.domanda_codice), old.anno_dal, old.anno_al) if old else None
        changed = rejudged_years(published_past_years(db.session).get(self.servizio.slug, []), was,
                                 ((m.indicatore, float(m.soglia), m.domanda or ""), m.dal, m.al))
        if not changed:
            return
        this_year = local_today().year
        field = self.soglia if old is not None and float(old.soglia) != float(m.soglia) else self.dal
        report(field, ngettext(
            "%(field)s: il %(years)s è già pubblicato con lo standard di allora, e cambierebbe esito. Per un nuovo "
            "obiettivo: chiudere questo standard con «%(until)s» %(last)d e aggiungerne uno nuovo con «%(since)s» "
            "%(year)d.",
            "%(field)s: gli anni %(years)s sono già pubblicati con lo standard di allora, e cambierebbero esito. Per "
            "un nuovo obiettivo: chiudere questo standard con «%(until)s» %(last)d e aggiungerne uno nuovo con "
            "«%(since)s» %(year)d.", len(changed), field=field.label.text,
            years=", ".join(map(str, changed)), until=self.al.label.text,
            last=this_year - 1, since=self.dal.label.text, year=this_year))

