from django.urls import path

from allo.history import views

urlpatterns = [
    path("supervision/bilan/", views.bilan, name="supervision-bilan"),
    path("supervision/bilan.csv", views.bilan_csv, name="supervision-bilan-csv"),
]
