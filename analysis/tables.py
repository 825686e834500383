"""The columns the analysis reads, described without the ORM (and so without Flask).

tests/test_analysis_tables.py checks that every column named here exists in the models.
"""

from sqlalchemy import column, table

enti = table("enti", column("id"), column("codice"), column("nome"), column("tipo"), column("unione_id"))
uffici = table("uffici", column("id"), column("ente_id"), column("codice"), column("nome"))
servizi = table("servizi", column("id"), column("ufficio_id"), column("slug"), column("nome_it"),
                column("utenti_annui"), column("questionario_id"))
sedi = table("sedi", column("id"), column("servizio_id"), column("codice"), column("nome"), column("comune_id"))
standard = table("standard", column("id"), column("servizio_id"), column("indicatore"), column("domanda_codice"),
                 column("soglia"), column("descrizione"), column("anno_dal"), column("anno_al"))
questionari = table("questionari", column("id"), column("codice"), column("titolo_it"))
versioni = table("questionario_versioni", column("id"), column("questionario_id"), column("numero"))
domande = table("domande", column("id"), column("versione_id"), column("codice"), column("posizione"),
                column("tipo"), column("testo_it"), column("scala_min"), column("scala_max"), column("dimensione"),
                column("obbligatoria"))
opzioni = table("opzioni", column("domanda_id"), column("codice"), column("posizione"), column("testo_it"))
import_batches = table("import_batches", column("id"), column("metodo"), column("fonte"))
compilazioni = table("compilazioni", column("id"), column("servizio_id"), column("versione_id"),
                     column("data_ora"), column("canale"), column("sede_id"), column("lingua"),
                     column("import_batch_id"), column("rilevazione_id"))
risposte = table("risposte", column("compilazione_id"), column("domanda_id"), column("valore"),
                 column("opzione"), column("importanza"), column("non_so"))
azioni = table("azioni_miglioramento", column("id"), column("servizio_id"), column("standard_id"), column("indicatore"),
               column("domanda_codice"), column("titolo"), column("descrizione"), column("ufficio_id"),
               column("data_inizio"), column("data_scadenza"), column("stato"), column("esito"))

riepilogo = table("riepilogo_risposte", column("servizio_id"), column("domanda_id"), column("giorno"),
                  column("canale"), column("sede_id"), column("lingua"), column("import_batch_id"), column("valore"),
                  column("opzione"), column("non_so"), column("rispondente"), column("n"), column("n_importanza"),
                  column("somma_importanza"))

ALL = (enti, uffici, servizi, sedi, standard, questionari, versioni, domande, opzioni, import_batches, compilazioni,
       risposte, riepilogo, azioni)
rilevazioni = table("rilevazioni", column("id"), column("codice"), column("titolo"), column("data_inizio"),
                    column("data_fine"), column("campione_obiettivo"))
rilevazione_servizi = table("rilevazione_servizi", column("rilevazione_id"), column("servizio_id"))
