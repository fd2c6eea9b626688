"""`allo callgen --rate R --duration S [--url U --token T] [--virtual-agents N]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

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

    def handle(self, *args, rate, duration, url, token, virtual_agents, talk, transfer_share, seed, partner_share,
               **options):
        gen = CallGenerator(url, token=token or None, rate=rate, virtual_agents=virtual_agents, talk_s=talk,
                            transfer_share=transfer_share, seed=seed, partner_share=partner_share)
        stats = gen.run(duration)
        self.stdout.write(f"Appels envoyés : {stats['sent']} (dont {stats['via_partners']} par des partenaires), "
                          f"erreurs : {stats['errors']}, raccrochés : {stats['hangups']}")
