"""Examples of the meetings app's API bodies, as its OpenAPI document shows them (a test
decodes each against its schema, so they stay true)."""

from __future__ import annotations

from conseils.web.api_spec import JsonExample

SITE = "https://conseils.example.org"

MEETING_IN = JsonExample(
    id="cafe",
    summary="A café citoyen, 30 seats, sign-ups closing the evening before",
    value={
        "council": "ales-tamaris",
        "kind": "cafe",
        "title": "Café citoyen : le jardin partagé",
        "starts_at": "2026-12-12T10:00:00+01:00",
        "ends_at": "2026-12-12T12:00:00+01:00",
        "description": "Où planter, qui arrose, quand se retrouver.",
        "venue": "Maison de quartier de Tamaris",
        "address": "Rue de la Lozère, 30100 Alès",
        "capacity": 30,
        "registration_closes_at": "2026-12-11T18:00:00+01:00",
    },
)
MEETING_PATCH = JsonExample(
    id="moved",
    summary="Moved an hour later, in a bigger room",
    value={
        "starts_at": "2026-12-12T11:00:00+01:00",
        "ends_at": "2026-12-12T13:00:00+01:00",
        "venue": "Salle polyvalente",
        "capacity": 60,
    },
)
MEETING_OUT = JsonExample(
    id="draft",
    summary="A draft (moments are shown in Europe/Paris)",
    value={
        "id": 42,
        "council": "ales-tamaris",
        "kind": "cafe",
        "title": "Café citoyen : le jardin partagé",
        "description": "Où planter, qui arrose, quand se retrouver.",
        "starts_at": "2026-12-12T10:00:00+01:00",
        "ends_at": "2026-12-12T12:00:00+01:00",
        "venue": "Maison de quartier de Tamaris",
        "address": "Rue de la Lozère, 30100 Alès",
        "online_url": None,
        "capacity": 30,
        "registration_opens_at": None,
        "registration_closes_at": "2026-12-11T18:00:00+01:00",
        "status": "draft",
        "sequence": 0,
        "url": f"{SITE}/reunions/42",
        "calendar_url": f"{SITE}/reunions/42/calendrier.ics",
        "seats_left": 30,
        "waitlist_length": 0,
        "cancellation_reason": "",
    },
)
MEETING_CANCEL = JsonExample(
    id="with-reason",
    summary="With a reason, shown on the meeting's page and in the email",
    value={"reason": "La salle est indisponible ; nous vous proposerons une autre date."},
)
REGISTRATION_IN = JsonExample(
    id="resident",
    summary="A resident signs up",
    value={
        "name": "Camille Martin",
        "email": "camille.martin@example.org",
        "attending_as": "resident",
        "consent": True,
        "phone": "06 12 34 56 78",
        "needs": "Accès en fauteuil roulant",
    },
)
REGISTRATION_RECEIVED = JsonExample(
    id="received",
    summary="The one answer, whatever the address",
    value={
        "status": "received",
        "detail": "Votre demande est enregistrée : un courriel vous confirme votre place ou "
        "votre rang sur la liste d'attente, avec le lien pour gérer votre inscription.",
    },
)
