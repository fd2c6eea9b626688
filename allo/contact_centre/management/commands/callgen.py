"""`allo callgen --rate R --duration S [--url U --token T] [--virtual-agents N] [--surge FICHE[:PART]]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from allo.contact_centre.callgen import CallGenerator


class Command(BaseCommand):
    help = "Génère des appels par l'API téléphonique, comme un vrai connecteur."

    def add_arguments(self, parser):
        parser.add_argument("--rate", type=float, default=0.2, help="appels par seconde (défaut 0,2)")
        parser.add_argument("--duration", type=float, default=60, help="durée en secondes (0 : sans fin)")
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--token", default="", help="jeton telephony (créé s'il manque)")
        parser.add_argument("--virtual-agents", type=int, default=0, help="agents simulés qui répondent")
        parser.add_argument("--talk", type=float, default=20, help="durée moyenne de conversation simulée (s)")
        parser.add_argument("--transfer-share", type=float, default=0.1,
                            help="part des appels que les agents simulés transfèrent au niveau 2 (défaut 0,1)")
        parser.add_argument("--partner-share", type=float, default=0.2,
                            help="part des appels passés par les numéros d'entrée des partenaires (défaut 0,2)")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument("--surge", metavar="FICHE[:PART]", default="",
                            help="pic d'actualité : les agents simulés citent cette fiche dans la clôture de cette "
                                 "part des appels répondus (défaut 0,5), une autre fiche publiée pour le reste ; "
                                 "à la fin, les pics sont détectés et affichés (docs/surges.md)")

    def handle(self, *args, rate, duration, url, token, virtual_agents, talk, transfer_share, seed, partner_share,
               surge, **options):
        surge_spec = _surge(surge, virtual_agents) if surge else None
        gen = CallGenerator(url, token=token or None, rate=rate, virtual_agents=virtual_agents, talk_s=talk,
                            transfer_share=transfer_share, seed=seed, partner_share=partner_share, surge=surge_spec)
        stats = gen.run(duration)
        self.stdout.write(f"Appels envoyés : {stats['sent']} (dont {stats['via_partners']} par des partenaires), "
                          f"erreurs : {stats['errors']}, raccrochés : {stats['hangups']}")
        if surge_spec:
            from allo.surges import services as surges

            surges.scan()  # the server scans every minute too: the demo need not wait for it
            for alert in surges.alerts(signal="calls"):
                extra = f" — {alert.surge.extra_agents} agent(s) de plus" if alert.surge.extra_agents else ""
                self.stdout.write(f"Pic d'actualité, {alert.surge.get_dim_display()} « {alert.label} » : "
                                  f"{alert.summary}{extra}")


def _surge(spec: str, virtual_agents: int) -> tuple[str, float]:
    """« F1234 » or « F1234:0.5 »: a published fiche and the share of answered calls about it."""
    from allo.kb.models import Fiche

    fiche_id, _, part = spec.partition(":")
    try:
        share = float(part.replace(",", ".")) if part else 0.5
    except ValueError:
        raise CommandError(f"--surge : part invalide « {part} » (un nombre entre 0 et 1 attendu).") from None
    if not 0 < share <= 1:
        raise CommandError(f"--surge : part invalide {share} (entre 0 et 1).")
    if not Fiche.objects.published().filter(pk=fiche_id).exists():
        raise CommandError(f"--surge : aucune fiche publiée « {fiche_id} ».")
    if not virtual_agents:
        raise CommandError("--surge : les clôtures sont écrites par les agents simulés (--virtual-agents N).")
    return fiche_id, share
