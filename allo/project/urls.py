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
    path("", include("allo.history.urls")),
    path("", include("allo.forecast.urls")),
    path("", include("allo.surges.urls")),
    path("", include("allo.partners.urls")),
    path("", include("allo.voice.urls")),
]

# French error pages in the site's layout; JSON under /api/ (allo.web.errors)
handler400 = "allo.web.errors.bad_request"
handler403 = "allo.web.errors.permission_denied"
handler404 = "allo.web.errors.page_not_found"
handler500 = "allo.web.errors.server_error"
