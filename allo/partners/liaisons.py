"""Fiches de liaison: the cases an N1 agent returns to a partner administration (docs/partners.md).

- `LiaisonForm`: the desk's form, checked field by field with French messages; a refused form is
  shown again with everything typed (`values`), each error beside its field;
- `create`: stores the fiche (with its audit entry) and e-mails it to the partner's contacts through
  Django's e-mail backend, after the commit; a failed delivery is recorded on the fiche, never lost;
- `mark_handled`: the partner's answer, with its audit entry;
- `purge`: the fiches (and their audit) older than the retention period, for `allo purge`.

Least data: the caller's number travels (to the partner's space and its mailbox) only when the caller
agreed to be called back, and then as the number the caller gave for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from allo.partners.models import Liaison, LiaisonAudit, Partner

logger = logging.getLogger(__name__)

FIELDS = ("partner", "caller_name", "request", "file_number", "callback_number")  # the page's order
FILE_NUMBER = re.compile(r"^[\w\-/. ]+$")
ANSWER_MAX = 1000


@dataclass
class LiaisonForm:
    data: dict  # request.POST
    errors: dict[str, str] = field(default_factory=dict)
    cleaned: dict = field(default_factory=dict)

    def __post_init__(self):
        post = self.data
        self.values = {
            "partner": str(post.get("partner", "")).strip(),
            "caller_name": str(post.get("caller_name", "")).strip()[:120],
            "request": str(post.get("request", "")).strip()[:2000],
            "file_number": str(post.get("file_number", "")).strip()[:60],
            "callback_consent": bool(post.get("callback_consent")),
            "callback_number": str(post.get("callback_number", "")).strip()[:30],
        }

    @classmethod
    def initial(cls, partner_id: int | None) -> LiaisonForm:
        return cls({"partner": str(partner_id or "")})

    def is_valid(self) -> bool:
        v, e, c = self.values, {}, {}
        partner = None
        if v["partner"].isdigit():
            partner = Partner.objects.filter(pk=int(v["partner"]), active=True).first()
        if partner is None:
            e["partner"] = "Choisissez l'administration partenaire à qui transmettre la fiche."
        c["partner"] = partner
        if len(v["caller_name"]) < 2:
            e["caller_name"] = "Indiquez le nom de l'appelant (au moins 2 caractères)."
        c["caller_name"] = v["caller_name"]
        if len(v["request"]) < 10:
            e["request"] = ("Décrivez la demande en une phrase au moins (10 caractères) : "
                            "le partenaire doit pouvoir la traiter sans rappeler le 3939.")
        c["request"] = v["request"]
        if v["file_number"] and not FILE_NUMBER.match(v["file_number"]):
            e["file_number"] = ("Le numéro de dossier ne peut contenir que des lettres, des chiffres, des espaces "
                                "et les signes - / . (exemple : CAF-2026/004512).")
        c["file_number"] = v["file_number"]
        c["callback_consent"] = v["callback_consent"]
        c["callback_number"] = ""
        if v["callback_consent"]:
            if not v["callback_number"]:
                e["callback_number"] = ("L'appelant accepte d'être rappelé : indiquez le numéro auquel le "
                                        "partenaire peut le joindre.")
            else:
                from allo.partners.services import normalise_number

                try:
                    c["callback_number"] = normalise_number(v["callback_number"])
                except ValidationError as exc:
                    e["callback_number"] = " ".join(exc.messages)
        elif v["callback_number"]:
            e["callback_number"] = ("Le numéro n'est transmis qu'avec l'accord de l'appelant : cochez « L'appelant "
                                    "accepte d'être rappelé » ou effacez le numéro.")
        self.errors, self.cleaned = e, c
        return not e

    @property
    def first_error(self) -> str:
        return next((name for name in FIELDS if name in self.errors), "")


def audit(liaisons, user, action: str) -> None:
    """One audit entry per fiche seen or changed (`liaisons`: fiches or their ids)."""
    ids = [getattr(x, "pk", x) for x in liaisons]
    LiaisonAudit.objects.bulk_create(LiaisonAudit(liaison_id=i, user=user if user and user.pk else None,
                                                  action=action) for i in ids)


def create(form: LiaisonForm, *, contact, user, base_url: str = "") -> Liaison:
    """Store a checked form's fiche and send it to the partner's contacts once the transaction commits."""
    data = form.cleaned
    with transaction.atomic():
        liaison = Liaison.objects.create(
            partner=data["partner"], contact=contact, created_by=user, caller_name=data["caller_name"],
            request=data["request"], file_number=data["file_number"], callback_consent=data["callback_consent"],
            callback_number=data["callback_number"], site_url=base_url[:200])
        audit([liaison], user, LiaisonAudit.Action.CREATED)
        transaction.on_commit(lambda: send(liaison.pk))
    return liaison


def recipients(partner: Partner) -> list[str]:
    return list(partner.contacts.filter(receives_cases=True).order_by("email")
                .values_list("email", flat=True).distinct())


# Waits before each new try of a refused delivery: about two days in all, then the 3939 is told it
# gave up (the fiche is in the partner's space whatever happens).
RETRY_AFTER = [dt.timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720, 720, 720)]
MAX_ATTEMPTS = len(RETRY_AFTER) + 1
# A worker that claimed a fiche and died before sending leaves it to be claimed again after this.
CLAIM_LEASE = dt.timedelta(minutes=5)


def send(liaison_id: int) -> bool:
    """E-mail a fiche to its partner's contacts (Django's e-mail backend). What happened is stored on the
    fiche: the addresses it went to, or why it did not (no contact, the server refused) and when it will
    be tried again (`resend_due`), until MAX_ATTEMPTS."""
    from django.urls import reverse

    liaison = Liaison.objects.select_related("partner").get(pk=liaison_id)
    attempts = liaison.email_attempts + 1
    to = recipients(liaison.partner)
    if not to:
        _failed(liaison_id, attempts, "Aucun contact du partenaire ne reçoit les dossiers transmis.")
        return False
    base = liaison.site_url
    url = base.rstrip("/") + reverse("partner-liaison", args=[liaison.pk]) if base else ""
    body = render_to_string("partners/liaison_mail.txt", {"l": liaison, "url": url})
    message = EmailMessage(subject=f"Fiche de liaison n° {liaison.pk} transmise par le 3939 — {liaison.partner.name}",
                           body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=to)
    try:
        message.send()
    except Exception as exc:  # the fiche stays in the partner's space; the failure is shown to the 3939
        logger.warning("fiche de liaison: e-mail not sent", extra={"liaison": liaison_id, "error": str(exc)})
        _failed(liaison_id, attempts, f"Envoi refusé : {exc}")
        return False
    Liaison.objects.filter(pk=liaison_id).update(emailed_to=", ".join(to), email_error="",
                                                 email_attempts=attempts, email_retry_at=None)
    return True


def _failed(liaison_id: int, attempts: int, error: str) -> None:
    retry_at = timezone.now() + RETRY_AFTER[attempts - 1] if attempts < MAX_ATTEMPTS else None
    if retry_at is None:
        error = f"Abandonné après {attempts} essais. {error}"
    Liaison.objects.filter(pk=liaison_id).update(email_error=error[:300], email_attempts=attempts,
                                                 email_retry_at=retry_at)


def resend_due(now: dt.datetime | None = None) -> int:
    """Try again the deliveries whose time has come (a periodic job of every web process: allo.project.asgi).
    Each fiche is claimed by a conditional update first, so two processes never both send it."""
    now = now or timezone.now()
    sent = 0
    due = Liaison.objects.filter(email_retry_at__lte=now, emailed_to="").values_list("pk", "email_retry_at")
    for pk, retry_at in list(due[:50]):
        if Liaison.objects.filter(pk=pk, email_retry_at=retry_at).update(email_retry_at=now + CLAIM_LEASE):
            sent += send(pk)
    return sent


def mark_handled(liaison: Liaison, user, answer: str) -> str | None:
    """The partner's answer; None when done, else the French error to show beside the field."""
    answer = (answer or "").strip()
    if len(answer) < 3:
        return "Indiquez en quelques mots la suite donnée (par exemple : « rendez-vous fixé le 12/01 »)."
    if len(answer) > ANSWER_MAX:
        return f"La réponse est limitée à {ANSWER_MAX} caractères (elle en compte {len(answer)})."
    with transaction.atomic():
        Liaison.objects.filter(pk=liaison.pk).update(status=Liaison.Status.HANDLED, answer=answer,
                                                     handled_at=timezone.now(), handled_by=user)
        audit([liaison], user, LiaisonAudit.Action.HANDLED)
    liaison.refresh_from_db()
    return None


def purge(limit: dt.datetime) -> dict[str, int]:
    """Fiches de liaison created before `limit`, with their audit entries; audit entries older too."""
    audit_old = LiaisonAudit.objects.filter(created__lt=limit).delete()[0]
    deleted = Liaison.objects.filter(created__lt=limit).delete()[1]
    return {"liaisons": deleted.get("partners.Liaison", 0),
            "liaisons_audit": audit_old + deleted.get("partners.LiaisonAudit", 0)}
