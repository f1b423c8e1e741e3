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
    "REMINDER_HOURS", "OUTBOX_RETENTION_DAYS", "RATE_LIMIT_PER_MINUTE", "REDIS_URL",
    "REDIS_PREFIX", "TRUSTED_PROXIES",
    "OPERATOR_NAME", "OPERATOR_ADDRESS", "OPERATOR_EMAIL", "OPERATOR_PHONE",
    "PUBLICATION_DIRECTOR", "HOSTING_PROVIDER", "SITE_LOGO_URL", "ACCENT_COLOUR",
    "PASSWORD_HASHING",
)  # fmt: skip


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A clean production environment: only a secret key, an https public address and a
    data directory of this test's own."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "a-secret-key-for-these-tests")
    monkeypatch.setenv("BASE_URL", "https://conseils.example.fr")
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
        ("OUTBOX_RETENTION_DAYS", "0"),
        ("OUTBOX_RETENTION_DAYS", "3651"),
        ("OUTBOX_RETENTION_DAYS", "a month"),
        ("LOG_LEVEL", "CHATTY"),
        ("BASE_URL", "conseils.example.fr"),
        ("BASE_URL", "https://exemple.fr\r\nX-Injected: 1"),
        ("DATABASE_URL", "mysql://localhost/conseils"),
        ("MAIL_FROM", "pas une adresse"),
        ("MAIL_REPLY_TO", "nobody"),
        ("OUTBOX_IN_PROCESS", "peut-être"),
        ("SECRET_KEY", "court"),
        ("PASSWORD_HASHING", "md5"),
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


def test_cheap_password_hashing_is_for_development_only(env: pytest.MonkeyPatch) -> None:
    assert load_settings().password_hashing == "rfc9106-low-memory"
    env.setenv("PASSWORD_HASHING", "cheapest")
    with pytest.raises(ConfigurationError, match="PASSWORD_HASHING=cheapest is for test suites"):
        load_settings()
    env.setenv("DEVELOPMENT", "1")
    assert load_settings().password_hashing == "cheapest"


def test_production_refuses_a_missing_base_url(env: pytest.MonkeyPatch) -> None:
    env.delenv("BASE_URL")
    with pytest.raises(ConfigurationError, match="BASE_URL is required"):
        load_settings()
    env.setenv("DEVELOPMENT", "1")
    assert load_settings().base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("url", ["http://conseils.example.fr", "http://127.0.0.1:8000"])
def test_production_refuses_a_base_url_without_https(env: pytest.MonkeyPatch, url: str) -> None:
    env.setenv("BASE_URL", url)
    with pytest.raises(ConfigurationError, match="BASE_URL must start with https://"):
        load_settings()
    env.setenv("DEVELOPMENT", "1")
    assert load_settings().base_url == url


def test_outbox_retention_defaults_to_thirty_days(env: pytest.MonkeyPatch) -> None:
    assert load_settings().outbox_retention_days == 30
    env.setenv("OUTBOX_RETENTION_DAYS", "7")
    assert load_settings().outbox_retention_days == 7


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


# ---------------------------------------------------------------- the site's identity


def test_the_site_defaults_name_the_agglomeration_and_make_up_nothing(
    env: pytest.MonkeyPatch,
) -> None:
    site = load_settings().site
    assert site.operator_name == "Alès Agglomération"
    assert site.accent_colour == "#00558c"
    assert site.operator_address is None and site.operator_email is None
    assert site.publication_director is None and site.hosting_provider is None
    assert site.logo_url is None and site.operator_phone is None


def test_the_site_is_read_from_the_environment(env: pytest.MonkeyPatch) -> None:
    env.setenv("OPERATOR_NAME", "Ville d'Anduze")
    env.setenv("OPERATOR_ADDRESS", "Place de la mairie, 30140 Anduze")
    env.setenv("OPERATOR_EMAIL", "contact@anduze.example")
    env.setenv("OPERATOR_PHONE", "04 00 00 00 00")
    env.setenv("PUBLICATION_DIRECTOR", "Le maire")
    env.setenv("HOSTING_PROVIDER", "Hébergeur, 1 rue X, 75000 Paris")
    env.setenv("SITE_LOGO_URL", "/static/logo.svg")
    env.setenv("ACCENT_COLOUR", "#6A1B9A")
    site = load_settings().site
    assert site.operator_name == "Ville d'Anduze"
    assert site.operator_email == "contact@anduze.example"
    assert site.accent_colour == "#6a1b9a"
    assert site.logo_url == "/static/logo.svg"


@pytest.mark.parametrize("value", ["blue", "#12345", "#1234567", "00558c", "#00558g", "red;}"])
def test_a_malformed_accent_colour_is_refused_naming_the_variable(
    env: pytest.MonkeyPatch, value: str
) -> None:
    env.setenv("ACCENT_COLOUR", value)
    with pytest.raises(ConfigurationError, match="ACCENT_COLOUR"):
        load_settings()


def test_an_accent_too_light_for_white_text_is_refused(env: pytest.MonkeyPatch) -> None:
    env.setenv("ACCENT_COLOUR", "#ffbf47")
    with pytest.raises(ConfigurationError, match=r"ACCENT_COLOUR .*4\.5:1"):
        load_settings()


@pytest.mark.parametrize(
    "value",
    ["http://example.org/logo.png", "javascript:alert(1)", "/etc/passwd", "/static/../x",
     'https://x.example/a"onload=1', "logo.svg"],
)  # fmt: skip
def test_a_logo_elsewhere_than_static_or_https_is_refused(
    env: pytest.MonkeyPatch, value: str
) -> None:
    env.setenv("SITE_LOGO_URL", value)
    with pytest.raises(ConfigurationError, match="SITE_LOGO_URL"):
        load_settings()


@pytest.mark.parametrize("value", ["pas-une-adresse", "a b@c.fr", "<x@y.fr>"])
def test_a_malformed_operator_email_is_refused(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("OPERATOR_EMAIL", value)
    with pytest.raises(ConfigurationError, match="OPERATOR_EMAIL"):
        load_settings()


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
