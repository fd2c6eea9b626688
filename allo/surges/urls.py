from django.urls import path

from allo.surges import views

urlpatterns = [
    path("supervision/pics/", views.supervisor, name="surges-supervisor"),
]
