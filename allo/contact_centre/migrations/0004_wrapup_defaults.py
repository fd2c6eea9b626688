"""The wrap-up lists' first content (the administrator edits them afterwards), and the wrap-ups
written before: each gets the outcome of its kind, and its free-text theme becomes a node of the
tree when it names one (by slug or label); a text that names none is kept at the end of the note."""

from django.db import migrations

OUTCOMES = [
    # code, label, kind, reason required
    ("reponse-apportee", "Réponse apportée", "answered", False),
    ("reponse-et-orientation", "Réponse apportée et orientation vers un service ou un site", "answered", False),
    ("transfert-niveau-2", "Transféré au niveau 2", "transferred", True),
    ("rappel-programme", "Rappel programmé", "callback", False),
    ("hors-champ", "Hors champ du service", "out_of_scope", True),
    ("appel-interrompu", "Appel interrompu ou sans objet", "no_answer", True),
]
REASONS = [
    # code, label, outcome codes it is offered for
    ("question-complexe", "Question trop complexe pour le niveau 1", ["transfert-niveau-2", "rappel-programme"]),
    ("situation-personnelle", "Situation personnelle à examiner (dossier, calcul)", ["transfert-niveau-2"]),
    ("demande-appelant", "À la demande de l'appelant", ["transfert-niveau-2", "rappel-programme"]),
    ("aucune-fiche", "Aucune fiche ne répond à la question", ["transfert-niveau-2", "rappel-programme",
                                                            "reponse-et-orientation"]),
    ("recherche-necessaire", "Recherche nécessaire avant de répondre", ["rappel-programme"]),
    ("appelant-indisponible", "Appelant indisponible pour poursuivre", ["rappel-programme"]),
    ("conseil-juridique", "Conseil juridique individuel (avocat, notaire, point-justice)", ["hors-champ"]),
    ("autre-administration", "Relève d'un autre organisme (CAF, France Travail, mairie...)", ["hors-champ",
                                                                                          "reponse-et-orientation"]),
    ("litige-prive", "Litige entre particuliers ou avec une entreprise", ["hors-champ"]),
    ("hors-service-public", "Demande sans lien avec le service public", ["hors-champ"]),
    ("communication-coupee", "Communication coupée", ["appel-interrompu"]),
    ("appelant-muet", "Appelant silencieux ou injoignable", ["appel-interrompu"]),
    ("erreur-numero", "Erreur de numéro", ["appel-interrompu"]),
    ("appel-abusif", "Appel abusif ou malveillant", ["appel-interrompu"]),
]
FIRST_OF_KIND = {"answered": "reponse-apportee", "transferred": "transfert-niveau-2", "callback": "rappel-programme",
                 "out_of_scope": "hors-champ", "no_answer": "appel-interrompu"}


def seed(apps, schema_editor):
    Outcome = apps.get_model("contact_centre", "WrapUpOutcome")
    Reason = apps.get_model("contact_centre", "WrapUpReason")
    WrapUp = apps.get_model("contact_centre", "WrapUp")
    Theme = apps.get_model("kb", "Theme")
    outcomes = {}
    for position, (code, label, kind, required) in enumerate(OUTCOMES):
        outcomes[code], _ = Outcome.objects.get_or_create(
            code=code, defaults={"label": label, "kind": kind, "reason_required": required, "position": position})
    for position, (code, label, codes) in enumerate(REASONS):
        reason, created = Reason.objects.get_or_create(code=code, defaults={"label": label, "position": position})
        if created:
            reason.outcomes.set([outcomes[c] for c in codes])

    parents = dict(Theme.objects.values_list("slug", "parent_id"))
    by_label = {label.casefold(): slug for slug, label in Theme.objects.values_list("slug", "label")}

    def top(slug):
        for _ in range(10):
            if not parents.get(slug):
                return slug
            slug = parents[slug]
        return slug

    for wrapup in WrapUp.objects.filter(outcome_code__isnull=True).iterator():
        wrapup.outcome_code = outcomes[FIRST_OF_KIND.get(wrapup.outcome, "reponse-apportee")]
        text = (wrapup.theme_text or "").strip()
        slug = text if text in parents else by_label.get(text.casefold())
        if slug:
            wrapup.theme_id, wrapup.top_theme_id = slug, top(slug)
        elif text:
            wrapup.note = f"{wrapup.note}\n(Thème saisi : {text})".strip()
        wrapup.save(update_fields=["outcome_code", "theme", "top_theme", "note"])


class Migration(migrations.Migration):

    dependencies = [
        ("contact_centre", "0003_wrapup_lists_and_theme"),
    ]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
