from django.urls import path

from allo.forecast import views

urlpatterns = [
    path("supervision/previsions/", views.forecast, name="supervision-forecast"),
    path("supervision/previsions/plan/", views.shift_plan, name="supervision-shift-plan"),
    path("supervision/previsions.csv", views.forecast_csv, name="supervision-forecast-csv"),
]
