from django.urls import path

from allo.portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("recherche", views.search, name="portal-search"),
    path("themes/", views.browse, name="portal-browse"),
    path("fiches/", views.browse, name="portal-browse-fiches"),
    path("themes/<slug:theme_slug>/", views.theme, name="portal-theme"),
    path("themes/<slug:theme_slug>/<slug:subtheme_slug>/", views.subtheme, name="portal-subtheme"),
    path("fiches/<slug:fiche_id>", views.fiche, name="portal-fiche"),
    path("fiches/<slug:fiche_id>/avis", views.feedback, name="portal-feedback"),
    path("contact/", views.contact, name="portal-contact"),
    path("redaction/statistiques/", views.statistics, name="portal-statistics"),
]
