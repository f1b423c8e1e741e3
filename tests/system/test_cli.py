"""The `conseils` command, run as a real process: demo, facilitator create, serve."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.support.live_server import (
    ROOT,
    SUITE_DATABASE,
    LiveServer,
    _run_async,
    drop_database,
    free_port,
    fresh_database,
    run_cli,
    server_env,
    start_server,
    stop,
    wait_until_healthy,
)

PASSWORD = "un mot de passe vraiment solide"
SNAPSHOT_QUERIES = (
    "SELECT id, slug, name FROM quartier ORDER BY id",
    "SELECT id, slug, name, description FROM council ORDER BY id",
    "SELECT council, quartier FROM council_quartier ORDER BY id",
    "SELECT id, council, title, starts_at, ends_at, status, sequence FROM meeting ORDER BY id",
)


async def _postgres_snapshot(url: str) -> list[list[tuple]]:
    conn = await asyncpg.connect(url)
    try:
        return [[tuple(row) for row in await conn.fetch(query)] for query in SNAPSHOT_QUERIES]
    finally:
        await conn.close()


def snapshot(url: str) -> list[list[tuple]]:
    """Every demo row, read straight from the database."""
    if url.startswith("postgresql://"):
        return _run_async(_postgres_snapshot(url))
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return [list(conn.execute(query)) for query in SNAPSHOT_QUERIES]


def test_demo_loads_once_then_leaves_the_data_alone(tmp_path: Path) -> None:
    url = fresh_database(f"{SUITE_DATABASE}_demo", tmp_path)
    try:
        env = server_env(url, 8000)
        first = run_cli("demo", env=env)
        assert first.returncode == 0, first.stderr
        lines = first.stdout.strip().splitlines()
        assert lines[-1] == "demo data loaded"
        # One line per migration applied, and nothing else (no Piccolo banners).
        migrations = sorted(ROOT.glob("*/piccolo_migrations/*_20*.py"))
        assert len(lines[:-1]) == len(migrations) > 0
        assert all(line.startswith("migration applied: ") for line in lines[:-1])
        before = snapshot(url)
        quartiers, councils, links, meetings = before
        assert len(quartiers) == 8
        assert len(councils) == 7
        assert len(links) == 8
        assert len(meetings) == 7 + 13  # one past meeting per council, thirteen upcoming

        second = run_cli("demo", env=env)
        assert second.returncode == 0, second.stderr
        assert second.stdout == "database not empty: demo data left out\n"  # quiet
        assert "demo data loaded" not in second.stdout
        assert snapshot(url) == before
    finally:
        drop_database(url)


def test_migrate_is_idempotent_and_quiet_unless_asked(live_server: LiveServer) -> None:
    result = run_cli("migrate", env=live_server.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    verbose = run_cli("-v", "migrate", env=live_server.env)
    assert verbose.returncode == 0, verbose.stderr
    assert "No migrations need to be run" in verbose.stdout


def test_facilitator_create_then_the_token_endpoint_accepts_the_password(
    live_server: LiveServer,
) -> None:
    email = "Animatrice.Tamaris@Ales.fr"
    result = run_cli(
        "facilitator", "create",
        "--email", email,
        "--name", "Animatrice de Tamaris",
        "--council", "ales-tamaris",
        env=live_server.env,
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"facilitator {email} created" in result.stdout

    token_url = f"{live_server.url}/api/v1/auth/token"
    response = httpx.post(token_url, json={"email": email.lower(), "password": PASSWORD})
    assert response.status_code == 201, response.text
    token = response.json()["token"]
    assert token
    assert response.json()["expires_at"]

    # The token works: the facilitator sees their own councils' meetings (drafts included).
    listed = httpx.get(
        f"{live_server.url}/api/v1/meetings",
        params={"council": "ales-tamaris"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert listed.status_code == 200

    wrong = httpx.post(token_url, json={"email": email.lower(), "password": PASSWORD + "!"})
    assert wrong.status_code == 401

    again = run_cli(
        "facilitator", "create",
        "--email", email,
        "--name", "Quelqu'un d'autre",
        env=live_server.env,
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert again.returncode == 2
    assert again.stderr.startswith("error: ")
    assert "existe déjà" in again.stderr


def test_facilitator_create_with_a_bad_email_exits_2(live_server: LiveServer) -> None:
    result = run_cli(
        "facilitator", "create",
        "--email", "pas-une-adresse",
        "--name", "Personne",
        env=live_server.env,
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 2
    assert "error: email: adresse électronique invalide" in result.stderr
    assert "Traceback" not in result.stderr
    assert "created" not in result.stdout
    token = httpx.post(
        f"{live_server.url}/api/v1/auth/token",
        json={"email": "pas-une-adresse", "password": PASSWORD},
    )
    assert token.status_code in (400, 401)


def test_facilitator_create_reports_every_bad_field(live_server: LiveServer) -> None:
    result = run_cli(
        "facilitator", "create",
        "--email", "x@ales.fr",
        "--name", "X",
        "--council", "nulle-part",
        env=live_server.env,
        input="court\n",
    )  # fmt: skip
    assert result.returncode == 2
    assert "error: password:" in result.stderr
    assert "error: council: conseil inconnu : nulle-part" in result.stderr


def test_facilitator_create_requires_its_options(live_server: LiveServer) -> None:
    result = run_cli("facilitator", "create", "--email", "x@ales.fr", env=live_server.env)
    assert result.returncode == 2  # argparse
    assert "--name" in result.stderr


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A server's environment in production mode (DEVELOPMENT unset), https BASE_URL."""
    env = server_env(
        f"sqlite:///{tmp_path / 'prod.sqlite'}", free_port(), BASE_URL="https://conseils.example.fr"
    )
    del env["DEVELOPMENT"]
    del env["PASSWORD_HASHING"]  # the suite's cheap hashing is refused in production
    env.update(extra)
    return env


@pytest.mark.engine_independent
def test_serve_refuses_to_start_without_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    try:
        result = run_cli("serve", "--port", str(free_port()), env=env, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("`conseils serve` started without a SECRET_KEY")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr
    assert "DEVELOPMENT=1" in result.stderr


@pytest.mark.engine_independent
def test_serve_refuses_an_empty_secret_key(tmp_path: Path) -> None:
    env = production_env(tmp_path, SECRET_KEY="")
    result = run_cli("serve", "--port", str(free_port()), env=env, timeout=30)
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


@pytest.mark.engine_independent
def test_serve_in_production_refuses_a_missing_or_plain_http_base_url(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    del env["BASE_URL"]
    result = run_cli("serve", "--port", str(free_port()), env=env, timeout=30)
    assert result.returncode == 2
    assert "BASE_URL is required" in result.stderr
    env["BASE_URL"] = "http://conseils.example.fr"
    result = run_cli("serve", "--port", str(free_port()), env=env, timeout=30)
    assert result.returncode == 2
    assert "BASE_URL must start with https://" in result.stderr
    result = run_cli("worker", env=env, timeout=30)
    assert result.returncode == 2
    assert "BASE_URL must start with https://" in result.stderr


@pytest.mark.engine_independent
def test_serve_reads_the_port_from_the_environment(live_server: LiveServer) -> None:
    port = free_port()
    env = {**live_server.env, "PORT": str(port)}
    log = live_server.directory / f"port-{port}.log"
    process = start_server(env, log)  # no --port
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
        response = httpx.get(f"http://127.0.0.1:{port}/")
        assert response.status_code == 200
        assert "Prochaines réunions" in response.text
    finally:
        stop(process)
    # SIGTERM stopped it in time, not the SIGKILL stop() falls back on (uvicorn exits by
    # re-raising the signal it handled once shut down).
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()


@pytest.mark.engine_independent
def test_serve_in_development_needs_no_secret_key(live_server: LiveServer) -> None:
    port = free_port()
    env = {key: value for key, value in live_server.env.items() if key != "SECRET_KEY"}
    env["DEVELOPMENT"] = "1"
    log = live_server.directory / f"dev-{port}.log"
    process = start_server(env, log, "--port", str(port))
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, log)
    finally:
        stop(process)


def test_live_server_serves_the_demo(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/")
    assert response.status_code == 200
    assert "Café citoyen : les jeux pour enfants" in response.text
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert httpx.get(f"{live_server.url}/healthz").json() == {"status": "ok", "database": "ok"}


def test_a_password_is_never_taken_from_the_command_line(live_server: LiveServer) -> None:
    """The command line of a process is visible to every user of the host (`ps`)."""
    result = run_cli(
        "facilitator", "create",
        "--email", "visible@ales.fr",
        "--name", "Visible",
        "--password", PASSWORD,
        env=live_server.env,
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.returncode == 2  # argparse: no such option
    assert "unrecognized arguments: --password" in result.stderr
    token = httpx.post(
        f"{live_server.url}/api/v1/auth/token",
        json={"email": "visible@ales.fr", "password": PASSWORD},
    )
    assert token.status_code == 401  # nobody was created


def test_an_empty_password_on_standard_input_is_refused(live_server: LiveServer) -> None:
    result = run_cli(
        "facilitator", "create", "--email", "vide@ales.fr", "--name", "Vide",
        env=live_server.env, input="",
    )  # fmt: skip
    assert result.returncode == 2
    assert "error: password:" in result.stderr


def _demo_password(live_server: LiveServer) -> str:
    result = run_cli("facilitator", "demo", env=live_server.env)  # DEVELOPMENT=1
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[-2] == "demo facilitator: animation@demo.local"
    return lines[-1].removeprefix("password (shown once): ")


def test_demo_facilitator_prints_a_password_that_signs_in(live_server: LiveServer) -> None:
    def sign_in(password: str) -> int:
        return httpx.post(
            f"{live_server.url}/api/v1/auth/token",
            json={"email": "animation@demo.local", "password": password},
            headers={"X-Forwarded-For": "192.0.2.201"},
        ).status_code

    first = _demo_password(live_server)
    assert len(first) >= 12
    assert sign_in(first) == 201
    second = _demo_password(live_server)  # asked again: a new password, the old one is gone
    assert second != first
    assert sign_in(second) == 201
    assert sign_in(first) == 401


def test_demo_facilitator_is_refused_outside_development(live_server: LiveServer) -> None:
    env = {**live_server.env, "BASE_URL": "https://conseils.example.fr"}
    env.pop("DEVELOPMENT")
    env.pop("PASSWORD_HASHING")  # else its own refusal, which names DEVELOPMENT too
    result = run_cli("facilitator", "demo", env=env)
    assert result.returncode == 2
    assert "DEVELOPMENT" in result.stderr
    assert "password" not in result.stdout
