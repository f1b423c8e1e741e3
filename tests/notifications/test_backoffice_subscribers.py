"""Subscribers in the back-office (/animation/abonnes): counts per council, confirmed and
pending, for the viewer's councils; addresses for admins only, each look audited."""

from __future__ import annotations

import httpx
import pytest

from conseils.tables import AuditEntry
from notifications import subscriptions
from tests.support.backoffice_support import signed_in
from tests.support.facilitator_support import make_facilitator
from tests.support.mail_support import active_subscriber, council_id, token_of

TAMARIS = "anim.tamaris@ales.fr"
ADDRESSES = ["une@example.org", "deux@example.org", "attente@example.org", "partie@example.org"]


@pytest.fixture
async def subscribers(demo: None) -> None:
    """Tamaris: two confirmed, one pending, one gone; Rive Droite: one pending."""
    await active_subscriber("une@example.org")
    await active_subscriber("deux@example.org")
    await subscriptions.subscribe("ales-tamaris", "attente@example.org")
    await active_subscriber("partie@example.org")
    await subscriptions.unsubscribe(await token_of("partie@example.org"))
    await subscriptions.subscribe("ales-rive-droite", "voisin@example.org")


def row_of(html: str, council: str) -> str:
    start = html.index(f'<th scope="row">{council}</th>')
    return html[start : html.index("</tr>", start)]


async def test_a_facilitator_sees_counts_of_their_councils_and_no_address(
    client: httpx.AsyncClient, subscribers: None
) -> None:
    await make_facilitator(TAMARIS, "ales-tamaris")
    await signed_in(client, TAMARIS)
    page = await client.get("/animation/abonnes")
    assert page.status_code == 200
    row = row_of(page.text, "Conseil citoyen Alès Tamaris")
    assert "<td>2</td>" in row and "<td>1</td>" in row  # confirmed, pending
    assert row.index("<td>2</td>") < row.index("<td>1</td>")
    assert "Rive Droite" not in page.text  # not theirs
    assert "@" not in page.text.split("<main", 1)[1].split("</main>", 1)[0]
    assert "Voir les adresses" not in page.text
    tamaris = await council_id("ales-tamaris")
    refused = await client.get(f"/animation/abonnes/{tamaris}/adresses")
    assert refused.status_code == 403
    assert not any(address in refused.text for address in ADDRESSES)
    assert not await AuditEntry.count()
    assert 'href="/animation/abonnes"' in (await client.get("/animation/")).text


async def test_a_facilitator_of_no_council_sees_none(
    client: httpx.AsyncClient, subscribers: None
) -> None:
    await make_facilitator("sans.conseil@ales.fr")
    await signed_in(client, "sans.conseil@ales.fr")
    page = await client.get("/animation/abonnes")
    assert page.status_code == 200
    assert "Vous n'animez aucun conseil." in page.text


async def test_an_admin_sees_every_council_and_the_addresses_audited(
    client: httpx.AsyncClient, subscribers: None
) -> None:
    await make_facilitator("admin@ales.fr", admin=True)
    await signed_in(client, "admin@ales.fr")
    page = await client.get("/animation/abonnes")
    tamaris = row_of(page.text, "Conseil citoyen Alès Tamaris")
    assert "<td>2</td>" in tamaris and "<td>1</td>" in tamaris
    rive_droite = row_of(page.text, "Conseil citoyen Alès Rive Droite")
    assert "<td>0</td>" in rive_droite and "<td>1</td>" in rive_droite
    assert "Conseil citoyen Anduze Centre-Ville" in page.text
    assert not any(address in page.text for address in ADDRESSES)  # on a page of their own
    tamaris_id = await council_id("ales-tamaris")
    assert f'href="/animation/abonnes/{tamaris_id}/adresses"' in page.text

    addresses = await client.get(f"/animation/abonnes/{tamaris_id}/adresses")
    assert addresses.status_code == 200
    html = addresses.text
    for address in ("une@example.org", "deux@example.org", "attente@example.org"):
        assert address in html
    assert "partie@example.org" not in html  # unsubscribed
    assert "voisin@example.org" not in html  # another council
    assert html.index("deux@example.org") < html.index("une@example.org")
    assert html.index("une@example.org") < html.index("attente@example.org")  # confirmed first
    lines = await AuditEntry.select()
    assert [
        (a["action"], a["object_kind"], a["object_id"], a["council_id"], a["detail"]) for a in lines
    ] == [("subscribers.view", "council", tamaris_id, tamaris_id, "3 adresses")]
    assert (await client.get("/animation/abonnes/999999/adresses")).status_code == 404
