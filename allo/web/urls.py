from django.contrib.auth import views as auth_views
from django.urls import include, path

from allo.accounts.access import authenticated, public
from allo.web import views

urlpatterns = [
    path("espace-agents/", views.home, name="staff-home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("connexion/", public(auth_views.LoginView.as_view()), name="login"),
    path("deconnexion/", authenticated(auth_views.LogoutView.as_view()), name="logout"),
    path("operateur/", views.operator_space, name="space-operator"),
    path("expert/", views.expert_space, name="space-expert"),
    path("redaction/", views.editor_space, name="space-editor"),
    path("supervision/", views.supervisor_space, name="space-supervisor"),
    path("", include("allo.contact_centre.urls")),
]
