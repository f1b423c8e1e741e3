"""Registrations over HTTP: the public sign-up API, the facilitators' list, CSV and attendance,
and the French pages (sign-up form result, manage link, private calendar feed)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import (
    Body,
    FromPath,
    JSONBody,
    PathParameter,
    QueryParameter,
    URLEncodedBody,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED, HTTP_204_NO_CONTENT
from msgspec import Struct

from conseils import spreadsheet, urls
from conseils.errors import Conflict, InvalidInput
from conseils.spreadsheet import cell
from conseils.timefmt import to_paris
from conseils.viewer import FacilitatorView
from conseils.web.api_spec import BEARER, INVALID, JSON_BODY, PUBLIC_WRITE, operation
from conseils.web.headers import NO_STORE
from conseils.web.shapes import present, shape_of
from meetings.controllers import api_examples as examples
from meetings.controllers.feeds import calendar_response
from meetings.controllers.reasons import (
    MEETING_NOT_FOUND,
    NOT_YOUR_COUNCIL,
    REGISTRATION_NOT_FOUND,
    REGISTRATION_REFUSED,
)
from meetings.services import (
    address_feeds,
    calendar,
    councils,
    meetings,
    registrants,
    registrations,
)

HONEYPOT = "site_web"


class RegistrationIn(Struct, forbid_unknown_fields=True):
    name: str
    email: str
    attending_as: str
    consent: bool
    phone: str | None = None
    needs: str = ""
    # Left empty by people (the form hides it); a robot that fills it in is answered like
    # everyone else, and nothing is stored.
    site_web: str = ""


class RegistrationReceived(Struct):
    """The one answer to every sign-up, new or repeated: nothing about the address."""

    status: Literal["received"]
    detail: str


RECEIVED = (
    "Votre demande est enregistrée : un courriel vous confirme votre place ou votre rang sur "
    "la liste d'attente, avec le lien pour gérer votre inscription."
)
# A registration as its council's facilitators see it.
RegistrantOut = shape_of(registrants.RegistrationView, "RegistrantOut", omit=("meeting_id",))


class AttendanceIn(Struct, forbid_unknown_fields=True):
    attended: bool | None


class RegistrationCancelIn(Struct, forbid_unknown_fields=True):
    spam: bool = False  # true: the address is not told (it was typed by someone else)


CSV_COLUMNS = (
    ("Nom", "name"), ("Courriel", "email"), ("Téléphone", "phone"), ("Vient en tant que", None),
    ("Besoins", "needs"), ("Statut", None), ("Position d'attente", "position"),
    ("Présent·e", None), ("Inscrit·e le", None),
)  # fmt: skip
STATUS_LABELS = {
    "confirmed": "Confirmé·e", "waitlisted": "Liste d'attente", "cancelled": "Annulé·e",
}  # fmt: skip
WALK_IN_LABEL = "Venu·e sans inscription"


def registrations_csv(items: list[registrants.RegistrationView]) -> bytes:
    """CSV as Excel opens it in French (`conseils.spreadsheet`)."""
    return spreadsheet.csv_bytes(
        [title for title, _ in CSV_COLUMNS],
        (
            [
                cell(item.name),
                cell(item.email),
                cell(item.phone),
                registrations.ATTENDING_AS.get(item.attending_as, item.attending_as),
                cell(item.needs),
                WALK_IN_LABEL
                if item.walk_in and item.status == "confirmed"
                else STATUS_LABELS.get(item.status, item.status),
                item.position or "",
                {True: "oui", False: "non", None: ""}[item.attended],
                to_paris(item.created_at).strftime("%d/%m/%Y %H:%M"),
            ]
            for item in items
        ),
    )


MeetingId = Annotated[int, PathParameter(description="Meeting id")]
RegistrationId = Annotated[int, PathParameter(description="Registration id")]
BEARER_SECURITY = [{"bearer": []}]
# Who may see a meeting's registrations: its council's facilitators and administrators.
MEETING_REGISTRANTS = (*BEARER, NOT_YOUR_COUNCIL, MEETING_NOT_FOUND)
# A registration, likewise (its meeting's council's).
ONE_REGISTRANT = (*BEARER, NOT_YOUR_COUNCIL, REGISTRATION_NOT_FOUND)


class RegistrationApi(Controller):
    tags = ["registrations"]

    @post(
        "/meetings/{meeting_id:int}/registrations",
        status_code=HTTP_202_ACCEPTED,
        **operation(
            "registerForMeeting",
            "Sign up for a meeting",
            *JSON_BODY,
            *PUBLIC_WRITE,
            MEETING_NOT_FOUND,
            *REGISTRATION_REFUSED,
            answers={
                HTTP_202_ACCEPTED: ResponseSpec(
                    RegistrationReceived,
                    description="Received: the rest goes by email to the address",
                    examples=[examples.REGISTRATION_RECEIVED],
                    generate_examples=False,
                )
            },
        ),
    )
    async def register(
        self,
        meeting_id: MeetingId,
        data: Annotated[RegistrationIn, Body(examples=[examples.REGISTRATION_IN])],
    ) -> RegistrationReceived:
        """Sign up for a published meeting (anyone may call; no token). Always 202
        `received`, whether the address was new or had signed up already: the seat or the
        rank on the waiting list, and the link to manage the registration, go by email to
        the address only (a confirmation with a calendar invitation, or a waiting-list
        email; an address already signed up gets its manage link again). `consent` must be
        true. 409 with a reason code outside the registration window."""
        if not data.site_web:
            await registrations.register(meeting_id, _fields(data))
        return RegistrationReceived("received", RECEIVED)

    @get(
        "/meetings/{meeting_id:int}/registrations",
        security=BEARER_SECURITY,
        cache_control=NO_STORE,
        **operation("listRegistrations", "List a meeting's registrations", *MEETING_REGISTRANTS),
    )
    async def list_registrations(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: MeetingId
    ) -> list[RegistrantOut]:
        """A meeting's registrations in arrival order, cancelled ones included, with
        contact details, needs, waiting-list positions and attendance. Facilitators of the
        meeting's council and administrators (personal data: never cached)."""
        items = await registrants.list_registrations(viewer, meeting_id)
        return [present(RegistrantOut, item) for item in items]

    @get(
        "/meetings/{meeting_id:int}/registrations.csv",
        security=BEARER_SECURITY,
        cache_control=NO_STORE,
        media_type="text/csv; charset=utf-8",
        **operation(
            "exportRegistrationsCsv",
            "Export a meeting's registrations as CSV",
            *MEETING_REGISTRANTS,
        ),
    )
    async def export_csv(
        self, viewer: NamedDependency[FacilitatorView], meeting_id: MeetingId
    ) -> Response[bytes]:
        """The same list as a spreadsheet opens it in French: UTF-8 with a BOM, `;` between
        fields, French column titles; a cell a spreadsheet would read as a formula is
        quoted. Facilitators of the meeting's council and administrators."""
        items = await registrants.list_registrations(viewer, meeting_id)
        return Response(
            registrations_csv(items),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="inscriptions-{meeting_id}.csv"'
            },
        )

    @post(
        "/registrations/{registration_id:int}/attendance",
        status_code=HTTP_200_OK,
        cache_control=NO_STORE,
        security=BEARER_SECURITY,
        **operation("recordAttendance", "Record whether someone came", *JSON_BODY, *ONE_REGISTRANT),
    )
    async def attendance(
        self,
        viewer: NamedDependency[FacilitatorView],
        registration_id: RegistrationId,
        data: JSONBody[AttendanceIn],
    ) -> RegistrantOut:
        """Mark who came (`{"attended": true}`), who did not (false), or clear it (null).
        Facilitators of the meeting's council and administrators. No email is sent."""
        return present(
            RegistrantOut,
            await registrants.mark_attendance(viewer, registration_id, data.attended),
        )

    @post(
        "/registrations/{registration_id:int}/cancel",
        status_code=HTTP_200_OK,
        security=BEARER_SECURITY,
        cache_control=NO_STORE,
        **operation("cancelRegistration", "Cancel a registration", *JSON_BODY, *ONE_REGISTRANT),
    )
    async def cancel(
        self,
        viewer: NamedDependency[FacilitatorView],
        registration_id: RegistrationId,
        data: JSONBody[RegistrationCancelIn | None] = None,
    ) -> RegistrantOut:
        """Cancel a registration of your council (facilitators of the meeting's council,
        administrators): a resident who called, a robot's sign-ups. The freed seat goes to
        the first on the waiting list, who gets a confirmation email; the person gets a
        cancellation email with the calendar CANCEL, unless `{"spam": true}` (the address
        was typed by someone else: it hears nothing). Cancelling twice changes nothing."""
        spam = data.spam if data is not None else False
        return present(
            RegistrantOut, await registrants.cancel_for(viewer, registration_id, spam=spam)
        )

    @delete(
        "/registrations/{registration_id:int}",
        status_code=HTTP_204_NO_CONTENT,
        security=BEARER_SECURITY,
        **operation("deleteRegistration", "Delete a registration", INVALID, *ONE_REGISTRANT),
    )
    async def delete_registration(
        self,
        viewer: NamedDependency[FacilitatorView],
        registration_id: RegistrationId,
        spam: Annotated[
            bool, QueryParameter(description="true: the address is told nothing")
        ] = False,
    ) -> None:
        """Cancel (as `cancelRegistration`, emails included unless `spam=true`), then delete
        the registration and the personal data it held. Facilitators of the meeting's
        council and administrators."""
        await registrants.delete_for(viewer, registration_id, spam=spam)


def _fields(data: RegistrationIn | dict[str, Any]) -> dict[str, Any]:
    if isinstance(data, RegistrationIn):
        return {
            "name": data.name,
            "email": data.email,
            "phone": data.phone,
            "attending_as": data.attending_as,
            "needs": data.needs,
            "consent": data.consent,
        }
    return {
        "name": data.get("name", ""),
        "email": data.get("email", ""),
        "phone": data.get("phone", ""),
        "attending_as": data.get("attending_as"),
        "needs": data.get("needs", ""),
        "consent": data.get("consent") == "oui",
    }


Form = URLEncodedBody[dict[str, str]]


class RegistrationPages(Controller):
    include_in_schema = False

    @post("/reunions/{meeting_id:int}/inscription", status_code=HTTP_200_OK)
    async def register(self, meeting_id: FromPath[int], data: Form) -> Template | Redirect:
        meeting = await meetings.get_meeting(meeting_id)
        context: dict[str, Any] = {
            "meeting": meeting,
            "form": data,
            "errors": {},
            "attending_as": registrations.ATTENDING_AS,
        }
        received = Redirect(f"/reunions/{meeting_id}/inscription/enregistree", status_code=303)
        if data.get(HONEYPOT):
            return received  # a robot learns nothing: the answer everyone gets
        try:
            await registrations.register(meeting_id, _fields(data))
        except InvalidInput as exc:
            context["errors"] = exc.errors
            return Template("pages/registration_form.html", context=context, status_code=400)
        except Conflict as exc:
            context["refusal"] = exc.message
            return Template("pages/registration_form.html", context=context, status_code=409)
        # Redirect after POST: the result page survives a reload, and says the same to all.
        return received

    @get("/reunions/{meeting_id:int}/inscription/enregistree")
    async def received(self, meeting_id: FromPath[int]) -> Template:
        meeting = await meetings.get_meeting(meeting_id)
        return Template("pages/registration.html", context={"meeting": meeting})

    @get("/inscriptions/{token:str}", cache_control=NO_STORE)
    async def manage(self, token: FromPath[str]) -> Template:
        return await _manage_page(token)

    @get("/inscriptions/{token:str}/annuler", cache_control=NO_STORE)
    async def confirm_cancel(self, token: FromPath[str]) -> Template:
        """Cancelling asks first: a second click, on purpose."""
        return await _manage_page(token, confirm_cancel=True)

    @post("/inscriptions/{token:str}/annuler", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def cancel(self, token: FromPath[str]) -> Template:
        await registrations.cancel(token)
        return await _manage_page(token, just_cancelled=True)

    @post("/inscriptions/{token:str}/agenda", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def renew_feed(self, token: FromPath[str]) -> Template:
        """A new address for this registration's calendar feed; the old one stops working."""
        await registrations.renew_feed_token(token)
        return await _manage_page(token, feed_renewed=True)

    @get("/agenda/{feed_token:str}/calendrier.ics")
    async def feed(self, request: Request, feed_token: FromPath[str]) -> Response:
        """This registration's meeting while it holds a seat: read-only, its own token."""
        meeting_ids = await registrations.feed_of(feed_token)
        document = await calendar.personal_document(
            meeting_ids, urls.registration_feed_url(feed_token)
        )
        response = await calendar_response(request, document, cache_control="no-store")
        return response

    @get("/agenda/adresse/{token:str}/calendrier.ics")
    async def address_feed(self, request: Request, token: FromPath[str]) -> Response:
        """Every meeting the address holds a seat at, in every council: read-only, its own
        token (given only on the page reached from the address's inbox)."""
        meeting_ids = await address_feeds.meetings_of(token)
        document = await calendar.personal_document(
            meeting_ids,
            urls.address_feed_url(token),
            "Toutes les réunions où une place vous attend. Mis à jour automatiquement.",
        )
        response = await calendar_response(request, document, cache_control="no-store")
        return response

    @get("/inscriptions/{token:str}/supprimer", cache_control=NO_STORE)
    async def confirm_erase(self, token: FromPath[str]) -> Template:
        """Erasing asks first: a second click, on purpose."""
        return await _manage_page(token, confirm_erase=True)

    @post("/inscriptions/{token:str}/supprimer", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def erase(self, token: FromPath[str]) -> Template:
        """Erase this registration's personal data (cancelled first if still to come); the
        manage link dies with it."""
        meeting_id = await registrations.erase(token)
        meeting = await meetings.get_meeting(meeting_id)
        return Template("pages/registration_erased.html", context={"meeting": meeting})

    @post("/inscriptions/{token:str}/mes-donnees", status_code=HTTP_200_OK, cache_control=NO_STORE)
    async def data_link(self, token: FromPath[str]) -> Template:
        """Send the personal-data link (with the address-level calendar) to the address of
        this registration, by email: never in this answer."""
        await registrations.request_data_link(token)
        return await _manage_page(token, data_link_sent=True)


async def _manage_page(
    token: str,
    *,
    just_cancelled: bool = False,
    feed_renewed: bool = False,
    confirm_cancel: bool = False,
    confirm_erase: bool = False,
    data_link_sent: bool = False,
) -> Template:
    sign_up = await registrations.sign_up_for_token(token)
    meeting = await meetings.get_meeting(sign_up.meeting_id)
    council = await councils.get_council(meeting.council_slug)
    return Template(
        "pages/registration_manage.html",
        context={
            "meeting": meeting,
            "council": council,
            "sign_up": sign_up,
            "name": sign_up.name,
            "just_cancelled": just_cancelled,
            "feed_renewed": feed_renewed,
            "confirm_cancel": confirm_cancel,
            "confirm_erase": confirm_erase,
            "data_link_sent": data_link_sent,
            "feed_url": urls.registration_feed_url(sign_up.feed_token)
            if sign_up.feed_token
            else None,
        },
    )
