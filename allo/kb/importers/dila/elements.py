"""Every element kind of DILA's fiche schema, and what the importer does with it.

`allo kb import --report` prints this table for the kinds met in the archives; the coverage test
(tests/integration/kb/test_dila_coverage.py) fails on a kind that is not listed here, and checks
that the words of every CONTENT element are in the fiche's rendered text. A kind is one of:

- CONTENT: its text is rendered (block or inline), so its words must be found in the page;
- LOGIC: a condition or a variable assignment, rendered as the situation label it stands for;
- NAVIGATION: where the fiche sits among the others (breadcrumbs, siblings): it builds the theme
  tree and the fiche's paths, not its text;
- METADATA: data about the publication (dates, author, format): shown as dates, badges and the
  source line, or not at all.
"""

from __future__ import annotations

CONTENT, LOGIC, NAVIGATION, METADATA = "contenu", "logique", "navigation", "métadonnée"

# kind -> (role, how it is rendered, in French for the report)
ELEMENTS: dict[str, tuple[str, str]] = {
    # Text and inline markup
    "Paragraphe": (CONTENT, "paragraphe"),
    "MiseEnEvidence": (CONTENT, "texte en gras"),
    "Exposant": (CONTENT, "exposant"),
    "Indice": (CONTENT, "indice"),
    "Valeur": (CONTENT, "valeur (montant, durée), en gras"),
    "Expression": (CONTENT, "expression mise en valeur"),
    "Citation": (CONTENT, "citation entre guillemets"),
    "Date": (CONTENT, "date"),
    "TermeEtranger": (CONTENT, "terme étranger (langue indiquée)"),
    "Variable": (CONTENT, "élément à compléter d'un modèle, entre crochets"),
    "LienInterne": (CONTENT, "lien vers une autre fiche, un dossier ou une ressource (sigle : son sens en info-bulle)"),
    "LienIntra": (CONTENT, "lien vers la définition du glossaire de la fiche"),
    "LienExterne": (CONTENT, "lien externe (nouvelle fenêtre)"),
    "Titre": (CONTENT, "titre de l'élément qui le contient"),
    "TitreAlternatif": (CONTENT, "titre alternatif, sous le titre du chapitre"),
    "TitreFlottant": (CONTENT, "intertitre"),
    # Structure
    "Texte": (CONTENT, "corps de texte"),
    "Introduction": (CONTENT, "introduction"),
    "IntroductionSimple": (CONTENT, "introduction"),
    "Chapitre": (CONTENT, "chapitre (titre de niveau 2)"),
    "SousChapitre": (CONTENT, "sous-chapitre (titre de niveau 3)"),
    "Complement": (CONTENT, "complément (bloc dépliable)"),
    "Liste": (CONTENT, "liste à puces ou numérotée"),
    "Item": (CONTENT, "élément de liste"),
    "Tableau": (CONTENT, "tableau DSFR avec légende"),
    "Rangée": (CONTENT, "ligne de tableau (en-tête ou normale)"),
    "Cellule": (CONTENT, "cellule de tableau (fusions respectées)"),
    "Resume": (CONTENT, "résumé du tableau, sous sa légende"),
    "ListeSituations": (CONTENT, "situations en accordéon"),
    "Situation": (CONTENT, "une situation (accordéon)"),
    "BlocCas": (CONTENT, "cas en accordéon"),
    "Cas": (CONTENT, "un cas (accordéon)"),
    "FragmentConditionne": (CONTENT, "passage conditionné, précédé de sa condition"),
    "ASavoir": (CONTENT, "encadré « À savoir »"),
    "ANoter": (CONTENT, "encadré « À noter »"),
    "Attention": (CONTENT, "alerte « Attention »"),
    "Rappel": (CONTENT, "encadré « Rappel »"),
    "Exemple": (CONTENT, "encadré « Exemple »"),
    "Consigne": (CONTENT, "encadré « Consigne »"),
    "Avertissement": (CONTENT, "alerte en tête de fiche, avec sa date"),
    "Aide": (CONTENT, "aide sous la question ou le cas"),
    "Description": (CONTENT, "description (image, vidéo, questionnaire)"),
    "Contenu": (CONTENT, "texte d'un contenu illustré"),
    "ContenuIllustre": (CONTENT, "texte illustré"),
    "Image": (CONTENT, "image : titre, légende, texte de remplacement, description et crédits"),
    "Illustration": (CONTENT, "illustration : texte de remplacement et légende"),
    "Legende": (CONTENT, "légende de l'image"),
    "Credits": (CONTENT, "crédits de l'image ou de la vidéo"),
    "TexteDeRemplacement": (CONTENT, "texte de remplacement de l'image"),
    "Video": (CONTENT, "vidéo : lien, titre, description, crédits"),
    # Resources: online services, forms, contacts, references
    "ServiceEnLigne": (CONTENT, "service en ligne ou formulaire (type, cerfa, lien, notice)"),
    "ServiceEnLigneAnnexe": (CONTENT, "pièce annexe d'un formulaire (cerfa, lien, notice)"),
    "NoticeLiee": (CONTENT, "notice du formulaire (numéro, lien)"),
    "LienWeb": (CONTENT, "lien du formulaire annexe"),
    "FranceConnect": (METADATA, "drapeau : mention « Accessible avec FranceConnect »"),
    "OuSAdresser": (CONTENT, "où s'adresser : organisme, coordonnées, lien"),
    "QuiPeutMAider": (CONTENT, "qui peut m'aider : organisme, coordonnées, lien"),
    "PivotLocal": (CONTENT, "type de guichet local (mairie, préfecture…)"),
    "RessourceWeb": (CONTENT, "site de l'organisme"),
    "Source": (CONTENT, "source du lien ou de l'organisme"),
    "Reference": (CONTENT, "référence (texte de loi) avec son complément"),
    "PourEnSavoirPlus": (CONTENT, "« Pour en savoir plus » : lien et source"),
    "LienExterneCommente": (CONTENT, "lien externe commenté (fiches avec liens externes)"),
    "Commentaire": (CONTENT, "commentaire du lien externe"),
    "Definition": (CONTENT, "définition du glossaire de la fiche"),
    "Abreviation": (CONTENT, "sigle ou acronyme et son sens (glossaire)"),
    # Related publications
    "QuestionReponse": (CONTENT, "question-réponse liée (lien)"),
    "CommentFaireSi": (CONTENT, "« Comment faire si » lié (lien)"),
    "RechercheGuidee": (CONTENT, "recherche guidée liée (lien)"),
    "RechercheGuideePere": (CONTENT, "recherche guidée parente (lien)"),
    "VoirAussi": (CONTENT, "« Voir aussi » : fiches et dossiers liés"),
    "Fiche": (CONTENT, "fiche liée (voir aussi), ou entrée de la liste d'un dossier (navigation)"),
    "Dossier": (CONTENT, "dossier lié (voir aussi)"),
    "Cible": (CONTENT, "publics visés, en étiquettes"),
    # Questionnaires and guided searches
    "Questionnaire": (CONTENT, "questionnaire « Votre situation » (formulaire qui filtre la fiche)"),
    "Question": (CONTENT, "question du questionnaire"),
    "Choix": (CONTENT, "réponse possible (bouton radio)"),
    "IntituleSiSelectionne": (CONTENT, "libellé de la situation choisie (sert aussi de condition)"),
    "Problematiques": (CONTENT, "recherche guidée : arbre de questions à parcourir"),
    "Problematique": (CONTENT, "point de départ d'une recherche guidée"),
    "Branche": (CONTENT, "réponse de la recherche guidée, menant à une autre question ou à une fiche"),
    "TitreChoix": (CONTENT, "question posée avant les réponses de la recherche guidée"),
    "Accueil": (CONTENT, "phrase d'accueil de la recherche guidée"),
    # Logic
    "Condition": (LOGIC, "condition : affichée comme « Si : <situation> » avant le passage"),
    "estVrai": (LOGIC, "situation vraie (libellé de la réponse qui la choisit)"),
    "estFaux": (LOGIC, "situation fausse"),
    "estIndefini": (LOGIC, "situation non précisée"),
    "ou": (LOGIC, "« ou » entre situations"),
    "et": (LOGIC, "« et » entre situations"),
    "SiSelectionne": (LOGIC, "situations choisies par une réponse"),
    "affecteVrai": (LOGIC, "situation choisie par une réponse"),
    "affecteFaux": (LOGIC, "situation écartée par une réponse"),
    "Colonne": (METADATA, "largeur et type de colonne de tableau (mise en page)"),
    # Navigation
    "FilDAriane": (NAVIGATION, "fil d'Ariane : chemins de la fiche dans les thèmes, par public"),
    "Niveau": (NAVIGATION, "niveau du fil d'Ariane"),
    "Theme": (NAVIGATION, "thème de la fiche (arborescence)"),
    "SousThemePere": (NAVIGATION, "sous-thème parent (arborescence)"),
    "DossierPere": (NAVIGATION, "dossier parent et ses fiches (arborescence, ordre DILA)"),
    "SousDossier": (NAVIGATION, "sous-dossier du dossier parent (arborescence)"),
    "SousDossierPere": (NAVIGATION, "sous-dossier parent (arborescence)"),
    # Metadata
    "Publication": (CONTENT, "la fiche entière (ses attributs : type, statut, dates, adresse)"),
    "title": (CONTENT, "titre de la fiche"),
    "description": (METADATA, "résumé DILA : réponse courte des listes et des résultats de recherche"),
    "creator": (METADATA, "auteur, dans la ligne de source"),
    "contributor": (METADATA, "contributeur, dans la ligne de source"),
    "publisher": (METADATA, "éditeur (DILA), dans l'attribution"),
    "date": (METADATA, "date de modification : « Vérifié le … »"),
    "subject": (METADATA, "libellé du thème (arborescence)"),
    "type": (METADATA, "type de publication (badge)"),
    "format": (METADATA, "format du fichier (ignoré)"),
    "identifier": (METADATA, "identifiant de la fiche"),
    "source": (METADATA, "textes de référence (liens dans les références)"),
    "language": (METADATA, "langue (fr)"),
    "relation": (METADATA, "dossier parent (arborescence)"),
    "coverage": (METADATA, "couverture géographique (ignorée : France entière)"),
    "rights": (METADATA, "mentions légales (attribution)"),
    "SurTitre": (METADATA, "type de fiche (badge)"),
    "Audience": (METADATA, "publics de la fiche (badges, un chemin par public)"),
    "Canal": (METADATA, "site de publication (ignoré)"),
}

# Children whose subtree is not measured by the coverage test: navigation, metadata and logic
# (their text, if any, is rendered differently: a label, a date, a breadcrumb).
NOT_TEXT = {kind for kind, (role, _) in ELEMENTS.items() if role != CONTENT}


def role(kind: str) -> str | None:
    entry = ELEMENTS.get(kind)
    return entry[0] if entry else None
