from django.urls import path

from allo.partners import views

urlpatterns = [
    path("poste/appels/<str:call_id>/liaison/", views.desk_liaison, name="desk-liaison"),
    path("poste/liaisons/", views.liaison_list, name="liaison-list"),
    path("partenaire/", views.partner_space, name="partner-space"),
    path("partenaire/rapport.csv", views.partner_report_csv, name="partner-report-csv"),
    path("partenaire/rapport.ods", views.partner_report_ods, name="partner-report-ods"),
    path("partenaire/rapport.pdf", views.partner_report_pdf, name="partner-report-pdf"),
    path("partenaire/liaisons/<int:pk>/", views.partner_liaison, name="partner-liaison"),
]
