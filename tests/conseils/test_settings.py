"""Settings: read and checked once, every bad value refused at start-up naming its variable."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import trustme

from conseils.settings import ConfigurationError, load_settings

VARIABLES = (
    "DATA_DIR", "DATABASE_URL", "BASE_URL", "SECRET_KEY", "DEVELOPMENT", "LOG_LEVEL",
    "TOKEN_TTL_HOURS", "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_TLS",
    "SMTP_STARTTLS", "SMTP_CA_FILE", "SMTP_TIMEOUT_SECONDS", "MAIL_FROM", "MAIL_REPLY_TO",
    "MAILDIR", "OUTBOX_IN_PROCESS", "OUTBOX_BATCH_SIZE", "OUTBOX_RETRY_BASE_SECONDS",
    "REMINDER_HOURS",
)  # fmt: skip


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean environment: only a secret key and a data directory of this test's own."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-secret-key-for-these-tests")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    return monkeypatch


def test_defaults_live_under_the_data_directory(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = load_settings()
    data = tmp_path / "data"
    assert settings.data_dir == data and data.is_dir()
    assert settings.database_url == f"sqlite:///{data / 'conseils.sqlite'}"
    assert settings.mail.maildir == data / "maildir"
    assert settings.mail.retry_base == timedelta(seconds=60)
    assert settings.mail.reminder_delay == timedelta(hours=24)
    assert settings.mail.smtp_host is None and settings.mail.relay_in_process


def test_the_data_directory_defaults_to_var_of_the_working_directory(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.delenv("DATA_DIR")
    env.chdir(tmp_path)
    assert load_settings().data_dir == tmp_path / "var"
    assert (tmp_path / "var").is_dir()


def test_the_data_directory_is_created_with_its_parents(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    deep = tmp_path / "a" / "b" / "c"
    env.setenv("DATA_DIR", str(deep))
    env.setenv("MAILDIR", "courrier/entrant")
    settings = load_settings()
    assert deep.is_dir()
    assert settings.mail.maildir == deep / "courrier" / "entrant"


def test_an_unusable_data_directory_is_refused_naming_it(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    env.setenv("DATA_DIR", str(blocker / "data"))
    with pytest.raises(ConfigurationError, match="DATA_DIR"):
        load_settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REMINDER_HOURS", "soon"),
        ("REMINDER_HOURS", "-1"),
        ("REMINDER_HOURS", "nan"),
        ("REMINDER_HOURS", "10000"),
        ("OUTBOX_RETRY_BASE_SECONDS", "0"),
        ("OUTBOX_RETRY_BASE_SECONDS", "a minute"),
        ("OUTBOX_BATCH_SIZE", "0"),
        ("SMTP_PORT", "70000"),
        ("SMTP_TIMEOUT_SECONDS", "-5"),
        ("TOKEN_TTL_HOURS", "0"),
        ("LOG_LEVEL", "CHATTY"),
        ("BASE_URL", "conseils.example.fr"),
        ("BASE_URL", "https://exemple.fr\r\nX-Injected: 1"),
        ("DATABASE_URL", "mysql://localhost/conseils"),
        ("MAIL_FROM", "pas une adresse"),
        ("MAIL_REPLY_TO", "nobody"),
        ("OUTBOX_IN_PROCESS", "peut-être"),
        ("SECRET_KEY", "court"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(
    env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(ConfigurationError, match=name):
        load_settings()


def test_both_tls_modes_at_once_are_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("SMTP_TLS", "1")
    env.setenv("SMTP_STARTTLS", "1")
    with pytest.raises(ConfigurationError, match="SMTP_TLS or SMTP_STARTTLS"):
        load_settings()


def test_no_secret_key_is_refused_outside_development(env: pytest.MonkeyPatch) -> None:
    env.delenv("SECRET_KEY")
    with pytest.raises(ConfigurationError, match="SECRET_KEY is required"):
        load_settings()
    env.setenv("DEVELOPMENT", "1")
    assert len(load_settings().secret_key) >= 32  # a throw-away key


def test_numbers_and_switches_are_read(env: pytest.MonkeyPatch) -> None:
    env.setenv("REMINDER_HOURS", "1.5")
    env.setenv("OUTBOX_RETRY_BASE_SECONDS", "0.05")
    env.setenv("SMTP_STARTTLS", "yes")
    env.setenv("OUTBOX_IN_PROCESS", "0")
    mail = load_settings().mail
    assert mail.reminder_delay == timedelta(minutes=90)
    assert mail.retry_base == timedelta(milliseconds=50)
    assert mail.smtp_starttls and mail.smtp_port == 587
    assert not mail.relay_in_process


def test_smtp_ca_file_is_loaded_at_start_up(env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SMTP_CA_FILE names PEM authorities to trust for the SMTP server; a missing or malformed
    file stops the start, naming the variable."""
    assert load_settings().mail.smtp_ca_file is None
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    env.setenv("SMTP_CA_FILE", str(ca_file))
    assert load_settings().mail.smtp_ca_file == ca_file
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----\n")
    for bad in (tmp_path / "missing.pem", broken):
        env.setenv("SMTP_CA_FILE", str(bad))
        with pytest.raises(ConfigurationError, match="SMTP_CA_FILE"):
            load_settings()
