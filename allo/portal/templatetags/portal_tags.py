from django import template

from allo.portal.analytics import fiche_feedback_summary

register = template.Library()


@register.inclusion_tag("portal/_feedback_summary.html")
def citizen_feedback(fiche):
    """Citizens' feedback on a fiche, for the editors' fiche view."""
    return {"fiche": fiche, "summary": fiche_feedback_summary(fiche.pk)}
