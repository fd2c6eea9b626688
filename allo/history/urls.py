from django.urls import path

from allo.history import views

urlpatterns = [
    path("supervision/bilan/", views.bilan, name="supervision-bilan"),
    *(path(f"supervision/bilan.{fmt}", views.bilan_export, {"fmt": fmt}, name=f"supervision-bilan-{fmt}")
      for fmt in views.DOWNLOADS),
]
