"""The files of deploy/ say what the code does: the systemd units start commands that
`conseils` accepts, and the environment file they read is one the settings accept in
production. (The nginx site is run for real by test_proxy.py.)"""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from conseils.cli import build_parser
from conseils.settings import load_settings

pytestmark = pytest.mark.engine_independent

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
README = (DEPLOY.parent / "README.md").read_text()
CONFIGURATION = README.partition("\n## Configuration\n")[2].partition("\n## ")[0]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys keep their case
    parser.read(DEPLOY / "systemd" / name)
    return parser


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("conseils-serve@.service", "serve"),
        ("conseils-worker@.service", "worker"),
        ("conseils-migrate.service", "migrate"),
    ],
)
def test_each_unit_starts_a_command_conseils_accepts(name: str, command: str) -> None:
    service = unit(name)["Service"]
    argv = shlex.split(service["ExecStart"].replace("%i", "8000"))
    assert argv[0].endswith("/bin/conseils")
    args = build_parser().parse_args(argv[1:])  # exits on an unknown option
    assert args.command == command
    assert service["EnvironmentFile"] == "/etc/conseils/conseils.env"
    assert f"`deploy/systemd/{name}`" in README


def test_web_processes_listen_on_loopback_and_leave_mail_to_the_workers() -> None:
    serve = unit("conseils-serve@.service")
    argv = shlex.split(serve["Service"]["ExecStart"])
    assert argv[argv.index("--host") + 1] == "127.0.0.1"
    assert serve["Service"]["Environment"] == "OUTBOX_IN_PROCESS=0"
    assert serve["Unit"]["Requires"] == "conseils-migrate.service"
    site = (DEPLOY / "nginx" / "conseils.conf").read_text()
    assert "server 127.0.0.1:8000;" in site and "server 127.0.0.1:8001;" in site
    assert "conseils-serve@8000 conseils-serve@8001" in README


def test_the_environment_file_is_accepted_in_production(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    values = {}
    for line in (DEPLOY / "conseils.env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    for key, value in values.items():
        monkeypatch.setenv(key, value)
        assert f"`{key}`" in CONFIGURATION, f"{key} is not in README's Configuration"
    monkeypatch.setenv("DEVELOPMENT", "0")
    monkeypatch.delenv("PASSWORD_HASHING", raising=False)  # the suite's, development only
    monkeypatch.setenv("DATA_DIR", str(tmp_path))  # /var/lib/conseils is not here
    settings = load_settings()
    assert settings.base_url.startswith("https://")
    assert not settings.mail.relay_in_process or "OUTBOX_IN_PROCESS" not in values
    assert [str(n) for n in settings.limits.trusted_proxies] == ["127.0.0.1/32", "::1/128"]
    assert settings.limits.redis_url == "redis://127.0.0.1:6379/0"
