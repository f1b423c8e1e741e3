"""`pip install .` (not editable) into a fresh virtual environment outside the repository,
then `conseils migrate`, `demo` and `serve`: every page with its stylesheet, nothing read
from the source tree, everything written under DATA_DIR."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

# What it proves does not depend on the engine: SQLite, once.
pytestmark = pytest.mark.engine_independent

ROOT = Path(__file__).resolve().parents[2]  # the repository


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment holding the project as a wheel would install it."""
    place = tmp_path_factory.mktemp("installed")
    venv = place / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    result = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "--no-input", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=place,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return venv


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    work = tmp_path / "elsewhere"  # not the repository: no source tree to lean on
    work.mkdir()
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "BASE_URL", "PICCOLO_CONF", "PYTHONPATH", "VIRTUAL_ENV"}
    }
    env.update(DEVELOPMENT="1", DATA_DIR=str(tmp_path / "donnees" / "conseils"), PORT=str(port))
    conseils = str(installed / "bin" / "conseils")
    for command in ("migrate", "demo"):
        done = subprocess.run(
            [conseils, command], env=env, cwd=work, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
    server = subprocess.Popen(
        [conseils, "serve", "--port", str(port)],
        env=env,
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            assert time.monotonic() < deadline, "the installed server did not answer"
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_an_installed_wheel_serves_every_page_with_its_stylesheet(
    served: str, tmp_path: Path, installed: Path
) -> None:
    home = httpx.get(f"{served}/")
    assert home.status_code == 200
    assert 'href="/static/site.css"' in home.text and "Conseils citoyens" in home.text
    css = httpx.get(f"{served}/static/site.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert len(css.content) > 500
    council = httpx.get(f"{served}/conseils/ales-tamaris")
    assert council.status_code == 200 and "Tamaris" in council.text
    meeting_link = home.text.split('href="/reunions/', 1)[1].split('"', 1)[0]
    meeting = httpx.get(f"{served}/reunions/{meeting_link}")
    assert meeting.status_code == 200 and "S'inscrire" in meeting.text
    feed = httpx.get(f"{served}/calendrier.ics")
    assert feed.status_code == 200 and feed.text.startswith("BEGIN:VCALENDAR")
    for path in ("/confidentialite", "/mentions-legales", "/declaration-accessibilite"):
        assert httpx.get(f"{served}{path}").status_code == 200, path
    for path in (
        "/static/favicon.svg",
        "/static/api-docs.js",
        "/static/swagger-ui/swagger-ui-bundle.js",
    ):
        assert httpx.get(f"{served}{path}").status_code == 200, path
    missing = httpx.get(f"{served}/reunions/999999")
    assert missing.status_code == 404 and "introuvable" in missing.text.lower()
    # Run-time data under DATA_DIR, none next to the installed code.
    assert (tmp_path / "donnees" / "conseils" / "conseils.sqlite").is_file()
    site_packages = next((installed / "lib").glob("python3*/site-packages"))
    assert not list(site_packages.rglob("var"))
    assert (site_packages / "conseils" / "templates" / "pages" / "base.html").is_file()
    # Every template, stylesheet, script and font of the checkout is in the wheel.
    for folder, packaged in (("templates", "templates"), ("static", "static")):
        shipped = {
            path.relative_to(ROOT / folder)
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and not path.name.startswith(".")
        }
        installed_files = {
            path.relative_to(site_packages / "conseils" / packaged)
            for path in (site_packages / "conseils" / packaged).rglob("*")
            if path.is_file()
        }
        assert shipped <= installed_files, sorted(map(str, shipped - installed_files))
    sign_in = httpx.get(f"{served}/animation/connexion")
    assert sign_in.status_code == 200 and 'name="_csrf_token"' in sign_in.text
    assert httpx.get(f"{served}/static/animation.css").status_code == 200
