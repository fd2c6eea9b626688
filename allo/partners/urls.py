from django.urls import path

from allo.partners import views

urlpatterns = [
    path("poste/appels/<str:call_id>/liaison/", views.desk_liaison, name="desk-liaison"),
    path("poste/liaisons/", views.liaison_list, name="liaison-list"),
    path("partenaire/", views.partner_space, name="partner-space"),
    *(path(f"partenaire/rapport.{fmt}", views.partner_report, {"fmt": fmt}, name=f"partner-report-{fmt}")
      for fmt in ("csv", "ods", "xlsx", "pdf")),
    path("partenaire/liaisons/<int:pk>/", views.partner_liaison, name="partner-liaison"),
]
