"""Template context shared by every page: the DSFR site header, the line, the user's spaces."""

from __future__ import annotations

from types import SimpleNamespace

from allo.web.spaces import spaces_for

# django-dsfr's own processor reads its config from the database on every request; ours is static.
SITE_CONFIG = SimpleNamespace(
    site_title="Allô Service Public",
    site_tagline="Une réponse à vos questions administratives, par téléphone et en ligne",
    header_brand_html="République<br>Française",
    footer_brand_html="République<br>Française",
    footer_description="Allô est la plateforme libre du service de renseignement administratif à numéro unique.",
    mourning=False,
    beta_tag=True,
    notice_title="",
    notice_description="",
)


def site(request):
    user = getattr(request, "user", None)
    return {"SITE_CONFIG": SITE_CONFIG, "user_spaces": spaces_for(user) if user else []}
