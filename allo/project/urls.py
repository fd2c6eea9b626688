from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Allô — administration"
admin.site.site_title = "Allô"
admin.site.index_title = "Administration de la plateforme"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("allo.portal.urls")),
    path("", include("allo.kb.urls")),
    path("", include("allo.web.urls")),
]
