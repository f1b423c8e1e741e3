"""Facilitators for the tests: created through the accounts service, with a fresh API token."""

from __future__ import annotations

from accounts.services import create_facilitator, issue_token

PASSWORD = "un mot de passe solide"


async def make_facilitator(email: str, *councils: str, admin: bool = False) -> dict[str, str]:
    """Create a facilitator and return the Authorization header of a fresh token."""
    await create_facilitator(
        email=email,
        name=email.split("@")[0],
        password=PASSWORD,
        admin=admin,
        council_slugs=list(councils),
    )
    token = await issue_token(email, PASSWORD)
    return {"Authorization": f"Bearer {token.token}"}
