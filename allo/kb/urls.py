from django.urls import path

from allo.kb import views

urlpatterns = [
    path("api/kb/search", views.search_api, name="kb-search-api"),
    path("base/recherche/", views.search_panel, name="kb-search"),
    path("base/fiches/<slug:fiche_id>/", views.fiche_detail, name="kb-fiche"),
    path("base/fiches/<slug:fiche_id>/proposer/", views.propose_correction, name="kb-propose"),
    path("base/fiches/<slug:fiche_id>/signaler-a-la-dila/", views.dila_report_new, name="kb-dila-report"),
    path("base/fiches/<slug:fiche_id>/versions/", views.fiche_history, name="kb-history"),
    path("base/fiches/<slug:fiche_id>/comparer/", views.fiche_compare, name="kb-compare"),
    path("base/fiches/<slug:fiche_id>/notes/", views.notes_edit, name="kb-notes-edit"),
    path("base/fiches/<slug:fiche_id>/restaurer/", views.fiche_restore, name="kb-restore"),
    path("redaction/nouvelle-fiche/", views.fiche_edit, name="kb-create"),
    path("redaction/fiches/<slug:fiche_id>/modifier/", views.fiche_edit, name="kb-edit"),
    path("redaction/fiches/<slug:fiche_id>/<slug:action>/", views.fiche_transition, name="kb-transition"),
    path("redaction/propositions/<int:pk>/", views.review_proposal, name="kb-review"),
    path("redaction/modifications/<int:pk>/", views.revision_detail, name="kb-revision"),
    path("redaction/signalements-dila/", views.dila_reports, name="kb-dila-reports"),
    path("redaction/signalements-dila/export.csv", views.dila_reports_export, name="kb-dila-export"),
    path("redaction/signalements-dila/transmis/", views.dila_reports_mark_sent, name="kb-dila-mark-sent"),
    path("redaction/signalements-dila/<int:pk>/etat/", views.dila_report_status, name="kb-dila-status"),
    path("redaction/synonymes/", views.synonyms, name="kb-synonyms"),
    path("redaction/synonymes/<int:pk>/basculer/", views.synonym_toggle, name="kb-synonym-toggle"),
]
