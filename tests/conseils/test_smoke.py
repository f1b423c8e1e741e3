from httpx import AsyncClient


async def test_home_lists_demo_meetings(client: AsyncClient, demo: None) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert "Café citoyen : les jeux pour enfants" in response.text


async def test_healthz(client: AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok", "database": "ok"}
