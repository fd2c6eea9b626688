from django.urls import include, path

from allo.accounts import proconnect
from allo.accounts.access import authenticated, public
from allo.web import views

urlpatterns = [
    path("espace-agents/", views.home, name="staff-home"),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    path("connexion/", public(proconnect.SignInView.as_view()), name="login"),
    path("connexion/proconnect/", public(proconnect.ProConnectStartView.as_view()), name="proconnect-start"),
    path("connexion/proconnect/retour/", public(proconnect.ProConnectCallbackView.as_view()),
         name="proconnect-callback"),
    path("deconnexion/", authenticated(proconnect.SignOutView.as_view()), name="logout"),
    path("operateur/", views.operator_space, name="space-operator"),
    path("expert/", views.expert_space, name="space-expert"),
    path("redaction/", views.editor_space, name="space-editor"),
    path("supervision/", views.supervisor_space, name="space-supervisor"),
    path("", include("allo.contact_centre.urls")),
]
