"""EMBED_ALLOWED_ORIGINS: origins only (scheme, host, port), checked at start-up, since the
value goes as written into the embeddable agenda's Content-Security-Policy."""

from __future__ import annotations

from pathlib import Path

import pytest

from conseils.settings import ConfigurationError, load_settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    monkeypatch.delenv("EMBED_ALLOWED_ORIGINS", raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-secret-key-for-these-tests")
    monkeypatch.setenv("BASE_URL", "https://conseils.example.fr")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DEVELOPMENT", raising=False)
    monkeypatch.delenv("PASSWORD_HASHING", raising=False)  # the suite's, development only
    return monkeypatch


def test_none_by_default(env: pytest.MonkeyPatch) -> None:
    assert load_settings().embed_allowed_origins == ()
    env.setenv("EMBED_ALLOWED_ORIGINS", " , ")
    assert load_settings().embed_allowed_origins == ()


def test_origins_are_normalised(env: pytest.MonkeyPatch) -> None:
    env.setenv(
        "EMBED_ALLOWED_ORIGINS",
        "https://www.ales.fr, HTTPS://Anduze.FR/,http://localhost:8080,https://www.ales.fr,"
        "http://127.0.0.1:65535",
    )
    assert load_settings().embed_allowed_origins == (
        "https://www.ales.fr",
        "https://anduze.fr",
        "http://localhost:8080",
        "http://127.0.0.1:65535",
    )


@pytest.mark.parametrize(
    "value",
    [
        "www.ales.fr",  # no scheme
        "https://www.ales.fr/agenda",  # a path
        "https://www.ales.fr//",
        "https://www.ales.fr?x=1",
        "https://www.ales.fr#top",
        "https://*.ales.fr",  # wildcards: name each site
        "*",
        "'self'",
        "'none'",
        "ftp://www.ales.fr",
        "https://user@www.ales.fr",
        "https://www.ales.fr:0",
        "https://www.ales.fr:65536",
        "https://www.ales.fr:",
        "https://www.ales.fr; script-src *",  # what would change the header
        "https://www.ales.fr https://evil.example",  # space-separated, not comma
        "https://-ales.fr",
        "https://",
        "https://www.ales.fr,data:",
    ],
)
def test_anything_but_an_origin_stops_the_start(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("EMBED_ALLOWED_ORIGINS", value)
    with pytest.raises(ConfigurationError, match="EMBED_ALLOWED_ORIGINS"):
        load_settings()
