"""The back-office pages of the minutes over HTTP (`/animation/comptes-rendus`): create from a
meeting, edit (HTML and script shown as text, here and on the public meeting page), the PDF
form (its own CSRF check, a file that is not a PDF refused beside the field), publish and
"Envoyer une mise à jour" (one email more each, a double submit sends one), and another
council's facilitator refused. The rules are tested on the services in test_minutes.py."""

from __future__ import annotations

import re

import httpx
from litestar import Litestar

from minutes.tables import Minutes, StoredFile
from tests.minutes.documents_support import BAD, good_pdf, temporary_files
from tests.minutes.minutes_office_support import (
    minutes_mail,
    past_meeting,
    recipients,
    registrant,
    subscriber,
)
from tests.support.backoffice_support import csrf_token, post_form, signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.smtp_sink import SmtpSink

HOME = "/animation/comptes-rendus"
SCRIPT = "<script>alert('cr')</script>"
FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')
EXPECTED = re.compile(r'name="expected" value="(\d+)"')


async def created(client: httpx.AsyncClient, meeting: int) -> int:
    """Draft minutes of `meeting` through the "Rédiger le compte rendu" form; their id."""
    form = await client.get(f"{HOME}/nouveau", params={"reunion": meeting})
    assert form.status_code == 200, form.text
    key = FORM_KEY.search(form.text)
    assert key, form.text
    answer = await post_form(
        client, f"{HOME}/nouveau", {"meeting": str(meeting), "form_key": key.group(1)}
    )
    assert answer.status_code == 303, answer.text
    found = re.fullmatch(rf"{HOME}/(\d+)\?fait=cree", answer.headers["location"])
    assert found, answer.headers["location"]
    again = await post_form(
        client, f"{HOME}/nouveau", {"meeting": str(meeting), "form_key": key.group(1)}
    )  # a double submit of the same form finds the first
    assert again.headers["location"] == f"{HOME}/{found.group(1)}?fait=deja"
    assert await Minutes.count() == 1
    return int(found.group(1))


async def test_create_and_edit_show_html_and_script_as_text(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    meeting = await past_meeting()
    await signed_in(client, "anim.tamaris@ales.fr")
    minutes_id = await created(client, meeting)
    edit = await client.get(f"{HOME}/{minutes_id}")
    assert edit.status_code == 200 and "Compte rendu — Réunion plénière" in edit.text

    saved = await post_form(
        client,
        f"{HOME}/{minutes_id}",
        {
            "title": f"Compte rendu {SCRIPT}",
            "summary": "Trois <b>décisions</b>",
            "body": f"## Présents\n\n{SCRIPT}\n\n<img src=x onerror=alert(2)>",
            "decisions": "Une fête <i>en juin</i>",
            "attendance": "12",
        },
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("?fait=modif")
    edit = await client.get(f"{HOME}/{minutes_id}")
    assert "&lt;script&gt;alert(&#39;cr&#39;)&lt;/script&gt;" in edit.text
    assert SCRIPT not in edit.text and "<b>décisions" not in edit.text
    assert "<img src=x" not in edit.text

    bad = await post_form(client, f"{HOME}/{minutes_id}", {"title": "", "attendance": "-3"})
    assert bad.status_code == 400
    assert 'id="attendance-erreur"' in bad.text and 'aria-invalid="true"' in bad.text

    published = await post_form(client, f"{HOME}/{minutes_id}/publier")
    assert published.status_code == 303 and published.headers["location"].endswith("?fait=publie")
    public = await client.get(f"/reunions/{meeting}")
    assert public.status_code == 200 and "Trois &lt;b&gt;décisions&lt;/b&gt;" in public.text
    assert SCRIPT not in public.text and "<img src=x" not in public.text
    assert "<b>décisions" not in public.text and "<i>en juin" not in public.text


async def test_the_pdf_form_checks_its_token_and_the_file(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str]
) -> None:
    await signed_in(client, "anim.tamaris@ales.fr")
    minutes_id = await created(client, await past_meeting())
    url = f"{HOME}/{minutes_id}/pdf"
    pdf = {"file": ("compte rendu.pdf", good_pdf("Les jardins partagés"), "application/pdf")}
    for fields in ({"_csrf_token": "0" * 128}, {}):  # forged, then missing
        refused = await client.post(url, data=fields, files=pdf)
        assert refused.status_code == 403, refused.text
    assert await StoredFile.count() == 0 and temporary_files() == []

    token = await csrf_token(client)
    content, reason = BAD["html"]
    not_pdf = await client.post(
        url, data={"_csrf_token": token}, files={"file": ("cr.pdf", content, "application/pdf")}
    )
    assert not_pdf.status_code == 400
    beside = re.search(r'<p id="file-erreur" class="errors">([^<]*)</p>', not_pdf.text)
    assert beside and reason in beside.group(1).replace("&#39;", "'"), not_pdf.text
    assert 'name="_csrf_token"' in not_pdf.text  # the form shown again can be sent again
    assert await StoredFile.count() == 0 and temporary_files() == []

    attached = await client.post(url, data={"_csrf_token": token}, files=pdf)
    assert attached.status_code == 303 and attached.headers["location"].endswith("?fait=pdf")
    assert await StoredFile.count() == 1
    row = await Minutes.select(Minutes.file).where(Minutes.id == minutes_id).first()
    assert row["file"] is not None


async def test_publish_then_one_update_email_each_even_clicked_twice(
    client: httpx.AsyncClient, tamaris_auth: dict[str, str], smtp_sink: SmtpSink
) -> None:
    meeting = await past_meeting()
    await registrant(meeting, "inscrite@example.org")
    await registrant(meeting, "les-deux@example.org")
    await registrant(meeting, "annulee@example.org", status="cancelled")
    await subscriber("les-deux@example.org")
    await subscriber("abonne@example.org")
    expected = ["abonne@example.org", "inscrite@example.org", "les-deux@example.org"]
    await signed_in(client, "anim.tamaris@ales.fr")
    minutes_id = await created(client, meeting)
    await post_form(client, f"{HOME}/{minutes_id}", {"title": "CR", "summary": "Le résumé"})

    for _ in range(2):  # a double click publishes once
        published = await post_form(client, f"{HOME}/{minutes_id}/publier")
        assert published.status_code == 303
    assert recipients(await minutes_mail(smtp_sink)) == expected

    confirm = await client.get(f"{HOME}/{minutes_id}/mise-a-jour")
    assert confirm.status_code == 200
    number = EXPECTED.search(confirm.text)
    assert number and number.group(1) == "1"
    first = await post_form(client, f"{HOME}/{minutes_id}/mise-a-jour", {"expected": "1"})
    second = await post_form(client, f"{HOME}/{minutes_id}/mise-a-jour", {"expected": "1"})
    assert first.headers["location"].endswith("?fait=maj")
    assert second.headers["location"].endswith("?fait=maj-deja")
    done = await client.get(second.headers["location"])
    assert "rien de plus n&#39;est parti" in done.text
    everything = await minutes_mail(smtp_sink)
    updates = [m for m in everything if str(m["Subject"]).startswith("Compte rendu mis à jour")]
    assert recipients(updates) == expected and len(everything) == 2 * len(expected)


async def test_another_councils_facilitator_is_refused(
    client: httpx.AsyncClient, app: Litestar, tamaris_auth: dict[str, str]
) -> None:
    meeting = await past_meeting()
    await signed_in(client, "anim.tamaris@ales.fr")
    minutes_id = await created(client, meeting)
    await make_facilitator("anim.rive@ales.fr", "ales-rive-droite")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as rive:
        await signed_in(rive, "anim.rive@ales.fr")
        assert (await rive.get(f"{HOME}/nouveau", params={"reunion": meeting})).status_code == 403
        assert (await rive.get(f"{HOME}/{minutes_id}")).status_code == 403
        for path, fields in (
            ("", {"title": "Pris", "summary": "Pris"}),
            ("/publier", {}),
            ("/mise-a-jour", {"expected": "1"}),
            ("/supprimer", {}),
        ):
            answer = await post_form(rive, f"{HOME}/{minutes_id}{path}", fields)
            assert answer.status_code == 403, (path, answer.status_code)
        pdf = {"file": ("cr.pdf", good_pdf(), "application/pdf")}
        token = await csrf_token(rive)
        upload = await rive.post(f"{HOME}/{minutes_id}/pdf", data={"_csrf_token": token}, files=pdf)
        assert upload.status_code == 403
        listed = await rive.get(HOME)
        assert listed.status_code == 200 and f"{HOME}/{minutes_id}" not in listed.text
    row = await Minutes.select().where(Minutes.id == minutes_id).first()
    assert row["status"] == "draft" and row["title"] != "Pris" and row["file"] is None
    assert await StoredFile.count() == 0
