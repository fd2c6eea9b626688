"""Demo alert thresholds of the queues, so that the demo's wallboard flags what a supervisor must see
(a day at 6 % of service level is red, not « sans seuil »). Seeded once, never imposed: only when no
queue has thresholds yet, so an administrator's changes or removals survive `allo init --demo`."""

from __future__ import annotations

from django.db import transaction

from allo.contact_centre.models import QueueThreshold
from allo.org.models import Centre

# kind -> (service level min %, calls waiting at most, longest wait at most in s). The N1 figures are the
# line's promise (80 % answered within 20 s, nobody waiting 3 minutes); the second levels are judged on
# waits only: their service level is not the line's.
DEMO_THRESHOLDS = {
    Centre.Kind.N1_PLATFORM: (80, 10, 180),
    Centre.Kind.SPECIALISED: (None, 5, 300),
    Centre.Kind.INFORMANT: (None, 3, 600),
}


@transaction.atomic
def load_demo_thresholds() -> dict[str, int]:
    if QueueThreshold.objects.exists():
        return {"seuils": QueueThreshold.objects.count(), "créés": 0}
    created = QueueThreshold.objects.bulk_create(
        QueueThreshold(centre=centre, service_level_min=sl, waiting_max=waiting, longest_wait_max_s=longest)
        for centre in Centre.objects.filter(kind__in=DEMO_THRESHOLDS)
        for sl, waiting, longest in [DEMO_THRESHOLDS[centre.kind]])
    return {"seuils": len(created), "créés": len(created)}
