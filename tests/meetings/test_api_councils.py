"""GET /api/v1/councils and /api/v1/councils/{slug}: the seven demo councils and their quartiers."""

from __future__ import annotations

from httpx import AsyncClient

BASE = "http://testserver.local"
DEMO_SLUGS = {
    "ales-agglo",
    "ales-rive-droite",
    "ales-tamaris",
    "ales-couronne-nord",
    "ales-pres-saint-jean",
    "ales-centre-ville",
    "anduze-centre-ville",
}


async def test_list_councils_empty_database(client: AsyncClient) -> None:
    response = await client.get("/api/v1/councils")
    assert response.status_code == 200
    assert response.json() == []


async def test_list_councils_returns_the_seven_demo_councils(
    client: AsyncClient, demo: None
) -> None:
    response = await client.get("/api/v1/councils")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    councils = response.json()
    assert len(councils) == 7
    assert {c["slug"] for c in councils} == DEMO_SLUGS
    # The agglomeration-wide council comes first, and is the only one without quartier.
    assert councils[0]["slug"] == "ales-agglo"
    assert councils[0]["agglomeration_wide"] is True
    assert councils[0]["quartiers"] == []
    for council in councils[1:]:
        assert council["agglomeration_wide"] is False
        assert council["quartiers"], council["slug"]


async def test_council_links_are_absolute(client: AsyncClient, demo: None) -> None:
    councils = (await client.get("/api/v1/councils")).json()
    for council in councils:
        slug = council["slug"]
        assert council["url"] == f"{BASE}/conseils/{slug}"
        assert council["calendar_url"] == f"{BASE}/conseils/{slug}/calendrier.ics"
        assert council["url"].startswith("http://testserver.local/")
        assert council["calendar_url"].startswith("http://testserver.local/")
        assert council["contact_email"] == f"conseil.{slug}@ville-ales.fr"
        assert set(council) == {
            "slug",
            "name",
            "description",
            "agglomeration_wide",
            "contact_email",
            "quartiers",
            "url",
            "calendar_url",
        }


async def test_council_quartiers(client: AsyncClient, demo: None) -> None:
    by_slug = {c["slug"]: c for c in (await client.get("/api/v1/councils")).json()}
    couronne = by_slug["ales-couronne-nord"]["quartiers"]
    assert sorted(q["slug"] for q in couronne) == [
        "ales-cevennes",
        "ales-moulinet",
        "ales-pierre-curie",
    ]
    assert {q["commune"] for q in couronne} == {"Alès"}
    assert {q["name"] for q in couronne} == {"Cévennes", "Moulinet", "Pierre-Curie"}
    # Two quartiers share a name in two communes: each council gets its own.
    assert by_slug["anduze-centre-ville"]["quartiers"] == [
        {"slug": "anduze-centre-ville", "name": "Centre-Ville", "commune": "Anduze"}
    ]
    assert by_slug["ales-centre-ville"]["quartiers"] == [
        {"slug": "ales-centre-ville", "name": "Centre-Ville", "commune": "Alès"}
    ]
    assert by_slug["ales-tamaris"]["quartiers"] == [
        {"slug": "ales-tamaris", "name": "Tamaris", "commune": "Alès"}
    ]


async def test_get_one_council(client: AsyncClient, demo: None) -> None:
    response = await client.get("/api/v1/councils/ales-tamaris")
    assert response.status_code == 200
    council = response.json()
    assert council["slug"] == "ales-tamaris"
    assert council["name"] == "Conseil citoyen Alès Tamaris"
    assert council["description"] == "Habitants et acteurs locaux du quartier Tamaris."
    assert council["url"] == f"{BASE}/conseils/ales-tamaris"
    assert council["calendar_url"] == f"{BASE}/conseils/ales-tamaris/calendrier.ics"
    assert council["quartiers"] == [{"slug": "ales-tamaris", "name": "Tamaris", "commune": "Alès"}]
    # The same shape as in the list.
    listed = {c["slug"]: c for c in (await client.get("/api/v1/councils")).json()}
    assert listed["ales-tamaris"] == council


async def test_get_agglomeration_council(client: AsyncClient, demo: None) -> None:
    council = (await client.get("/api/v1/councils/ales-agglo")).json()
    assert council["agglomeration_wide"] is True
    assert council["quartiers"] == []
    assert "agglomération" in council["description"]


async def test_unknown_council_is_404_json(client: AsyncClient, demo: None) -> None:
    for slug in ("nope", "ALES-TAMARIS", "ales-tamaris-x", "%00", "a" * 300):
        response = await client.get(f"/api/v1/councils/{slug}")
        assert response.status_code == 404, slug
        body = response.json()
        assert body["status_code"] == 404
        assert body["code"] == "council_not_found"
        assert "detail" in body
