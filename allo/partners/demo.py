"""Demo partners: a town hall, a prefecture and a CAF whose switchboards send calls to the line.

Seeded, never imposed (as allo/org/demo.py): a partner missing from the database is created with its
entry numbers, hours, contacts and local fiches; a partner that exists (same code) is left as an
administrator set it, so `allo init --demo` run again never reverts a rule, a number or an hour.
The numbers are in the ranges ARCEP keeps for fiction (02 61 91, 04 65 71, 05 36 49): nobody's line.

Each demo partner gets one account of its own staff (role `partner`, the demo password), created when
its username is missing: an account that exists keeps its name, password and partner.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from allo.partners.models import EntryNumber, Partner, PartnerAgent, PartnerContact, PartnerOpeningPeriod

TOWN_HALL_HOURS = {**{d: [("08:30", "12:00"), ("13:30", "17:00")] for d in range(5)}, 5: [("09:00", "12:00")]}
OFFICE_HOURS = {d: [("09:00", "16:00")] for d in range(5)}

PARTNERS = [
    {"code": "mairie-rouen", "name": "Mairie de Rouen", "kind": Partner.Kind.TOWN_HALL,
     "address": "2 place du Général de Gaulle\n76000 Rouen",
     # its switchboard sends the calls it cannot take (busy, no answer): the callers waited already
     "acceptance": Partner.Acceptance.OVERFLOW, "priority": Partner.Priority.HIGH,
     "numbers": [("+33261910001", True, "débordement du standard")],
     "hours": TOWN_HALL_HOURS,
     "contact": ("Accueil de l'état civil", "etat-civil@mairie-rouen.example"),
     "fiches": ["passeport-majeur", "acte-naissance", "recensement-citoyen", "mariage-formalites"],
     "account": ("partenaire-rouen", "Nadia", "Leroux")},
    {"code": "prefecture-gironde", "name": "Préfecture de la Gironde", "kind": Partner.Kind.PREFECTURE,
     "address": "2 esplanade Charles de Gaulle\n33000 Bordeaux",
     "acceptance": Partner.Acceptance.ALWAYS, "priority": Partner.Priority.NORMAL,
     "numbers": [("+33536490001", False, "renvoi du standard")],
     "hours": OFFICE_HOURS,
     "contact": ("Bureau du séjour", "sejour@gironde.pref.example"),
     "fiches": ["titre-sejour-premiere-demande", "naturalisation", "permis-conduire-perte",
                "carte-grise-duplicata"],
     "account": ("partenaire-gironde", "Thomas", "Garnier")},
    {"code": "caf-rhone", "name": "CAF du Rhône", "kind": Partner.Kind.CAF,
     "address": "67 boulevard Vivier Merle\n69003 Lyon",
     "acceptance": Partner.Acceptance.ALWAYS, "priority": Partner.Priority.NORMAL,
     "numbers": [("+33465710001", False, "renvoi du standard"), ("+33465710002", True, "débordement")],
     "hours": OFFICE_HOURS,
     "contact": ("Service des prestations", "prestations@caf-rhone.example"),
     "fiches": ["rsa", "prime-activite", "apl", "allocations-familiales"],
     "account": ("partenaire-caf", "Élodie", "Roux")},
]


@transaction.atomic
def load_demo_partners() -> dict[str, int]:
    from allo.kb.models import Fiche

    created = 0
    for spec in PARTNERS:
        partner, is_new = Partner.objects.get_or_create(code=spec["code"], defaults={
            "name": spec["name"], "kind": spec["kind"], "address": spec["address"],
            "acceptance": spec["acceptance"], "priority": spec["priority"]})
        if not is_new:
            continue
        created += 1
        for number, overflow, label in spec["numbers"]:
            if not EntryNumber.objects.filter(number=number).exists():  # an admin may have given it to another
                EntryNumber.objects.create(partner=partner, number=number, overflow=overflow, label=label)
        PartnerOpeningPeriod.objects.bulk_create(
            PartnerOpeningPeriod(partner=partner, weekday=day, opens=dt.time.fromisoformat(opens),
                                 closes=dt.time.fromisoformat(closes))
            for day, ranges in spec["hours"].items() for opens, closes in ranges)
        name, email = spec["contact"]
        PartnerContact.objects.create(partner=partner, name=name, email=email)
        partner.fiches.set(Fiche.objects.local().filter(pk__in=spec["fiches"]))
    accounts = load_demo_partner_accounts()
    return {"partenaires": len(PARTNERS), "créés": created, "comptes": ", ".join(accounts)}


def load_demo_partner_accounts() -> list[str]:
    """One account per demo partner (role `partner`), created once; returns the demo usernames."""
    from django.contrib.auth.models import Group

    from allo.accounts.demo import DEMO_PASSWORD, ensure_role_groups
    from allo.accounts.models import User
    from allo.accounts.roles import Role

    ensure_role_groups()
    for spec in PARTNERS:
        username, first, last = spec["account"]
        partner = Partner.objects.filter(code=spec["code"]).first()
        if partner is None or User.objects.filter(username=username).exists():
            continue
        user = User(username=username, first_name=first, last_name=last, email=f"{username}@allo.example")
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=Role.PARTNER)])
        PartnerAgent.objects.create(user=user, partner=partner)
    return [spec["account"][0] for spec in PARTNERS]
