"""The shipped demo instance: the two seed bodies, their services and the four question sets."""

from pathlib import Path

from sqlalchemy import func, select

from survey_app.catalogue import load_catalogue
from survey_app.models import Ente, Questionario, Servizio

DEMO = Path(__file__).resolve().parent.parent / "instances" / "demo" / "catalogue"

CUORGNE = {"anagrafe-stato-civile", "tributi", "edilizia-privata", "servizi-sociali", "biblioteca",
           "urp-protocollo", "sito-istituzionale", "polizia-locale", "servizi-scolastici"}
UNIONE = {"vigilanza-polizia-locale", "tributi-associati", "edilizia-permessi-costruire", "edilizia-cil-cila",
          "manutenzione-patrimonio", "trasporto-scolastico", "front-office"}


def questions(db, code):
    return db.scalar(select(Questionario).filter_by(codice=code)).versione_corrente.domande


def test_demo_catalogue_loads_with_both_bodies(db):
    load_catalogue(db, DEMO)
    cuorgne = db.scalar(select(Ente).filter_by(codice="cuorgne"))
    unione = db.scalar(select(Ente).filter_by(codice="unione-bassa-sesia"))
    assert cuorgne.nome == "Comune di Cuorgnè" and unione.tipo == "unione"
    assert len(unione.comuni_membri) >= 4
    slugs = lambda ente: {s.slug for u in ente.uffici for s in u.servizi}  # noqa: E731
    assert slugs(cuorgne) == CUORGNE
    assert slugs(unione) == UNIONE
    for servizio in db.scalars(select(Servizio)):
        assert servizio.standard, f"{servizio.slug} has no standard"
        assert servizio.nome_en and servizio.utenti_annui
    assert db.scalar(select(func.count()).select_from(Questionario)) == 4


def test_demo_question_sets_wording(db):
    load_catalogue(db, DEMO)
    faces = questions(db, "mettiamoci-la-faccia")
    assert faces[0].tipo == "faccine"
    assert [o.testo_it for o in faces[1].opzioni] == [
        "tempo di attesa", "professionalità dell'impiegato", "necessità di tornare", "risposta negativa"]
    assert faces[1].mostra_se == {"domanda": faces[0].codice, "valori": [1]}
    page = questions(db, "chiarezza-pagina")
    assert page[0].testo_it == "Quanto sono chiare le informazioni su questa pagina?"
    assert (page[0].stile, page[0].scala_min, page[0].scala_max) == ("stelle", 1, 5)
    assert page[1].testo_it == "Dove hai incontrato le maggiori difficoltà?"
    assert page[1].mostra_se == {"domanda": "D1", "minore_di": 4}
    assert [o.testo_it for o in page[1].opzioni] == [
        "indicazioni non chiare", "indicazioni non complete", "non capivo se stavo procedendo correttamente",
        "problemi tecnici", "altro"]
    assert page[2].testo_it == "Quali sono stati gli aspetti che hai preferito?"
    assert page[2].mostra_se == {"domanda": "D1", "almeno": 4}
    online = questions(db, "servizio-online")
    assert online[0].testo_it == "Quanto è stato facile usare questo servizio?"
    full = questions(db, "servizio-completo")
    rated = [d for d in full if d.tipo == "scala" and d.importanza]
    assert len(rated) == 8
    assert {d.dimensione for d in rated} == {"accessibilità", "tempestività", "trasparenza", "efficacia"}
    assert {d.tipo for d in full} >= {"scala", "nps", "testo", "scelta_singola"}


def test_demo_catalogue_is_idempotent(db):
    load_catalogue(db, DEMO)
    assert not load_catalogue(db, DEMO).changed


def test_stars_say_their_number_in_words_a_screen_reader_reads(db, client):
    """The stars' hidden labels agree with their number: "1 stella", "2 stelle"; "1 star", "2 stars"."""
    load_catalogue(db, DEMO)
    italian = client.get("/s/sito-istituzionale").get_data(as_text=True)
    assert "1 stella su 5" in italian and "2 stelle su 5" in italian and "1 stelle" not in italian
    english = client.get("/s/sito-istituzionale?lang=en&nuovo=1").get_data(as_text=True)
    assert "1 star out of 5" in english and "2 stars out of 5" in english and "1 stars" not in english


def test_a_stars_questions_non_so_is_a_choice_after_the_stars_not_a_sixth_star(db, client, tmp_path):
    """The stars go from 1 up in the page (the order they are drawn, Tab and the arrows follow it), and "Non so"
    comes after them as a labelled choice of its own, not drawn as a star."""
    import re

    small = (Path(__file__).parent / "data" / "catalogue_small.yaml").read_text()
    catalogue = tmp_path / "stars.yaml"
    catalogue.write_text(small.replace("        non_so: true\n", "        non_so: true\n        stile: stelle\n", 1))
    load_catalogue(db, catalogue)
    html = client.get("/s/anagrafe").get_data(as_text=True)
    stars = html[html.index('<div class="stars">'):]
    stars = stars[:stars.index("</div>")]
    assert re.findall(r'name="D1" type="radio" value="(\w+)"', stars) == ["1", "2", "3", "4", "5", "ns"]
    assert stars.count('class="star"') == 5 and stars.count("star-icon") == 5
    assert re.search(r'<label class="star-none" for="D1-5">Non so</label>', stars)


def test_demo_comments_fit_the_scores_they_come_with(db):
    """"Troppa attesa allo sportello." came with a 5 and praise with a 1: a demo that reads wrong to its first users."""
    import pandas as pd
    from sqlalchemy import text

    from survey_app.demo.seed import COMMENTS, seed_responses

    load_catalogue(db, DEMO)
    seed_responses(db, 3000, seed=5)
    rows = pd.DataFrame(db.execute(text(
        "SELECT t.testo, AVG(1.0 * (v.valore - d.scala_min) / (d.scala_max - d.scala_min)) AS score "
        "FROM risposte t JOIN risposte v ON v.compilazione_id = t.compilazione_id "
        "JOIN domande d ON d.id = v.domanda_id "
        "WHERE t.testo IS NOT NULL AND d.tipo = 'scala' AND v.valore IS NOT NULL GROUP BY t.id, t.testo")).all(),
        columns=["testo", "score"])
    mood = {text: name for name, texts in COMMENTS.items() for text in texts if name != "middle"}
    means = rows.assign(mood=rows["testo"].map(mood)).groupby("mood")["score"].mean()
    assert len(rows) > 50 and means["high"] - means["low"] > 0.3, means  # on a 0–1 scale of each questionnaire


def test_the_faces_questionnaire_asks_for_a_face_not_a_click(db, client):
    """On the web it takes a face and the send button ("Un clic per dirci…" was wrong there), and the page already
    says the questionnaire is anonymous (the intro said it a second time)."""
    load_catalogue(db, DEMO)
    html = client.get("/s/urp-protocollo").get_data(as_text=True)
    assert "Scegli una faccina per dirci come è andata." in html and "Un clic" not in html
    assert "La valutazione è anonima" not in html
