"""[export.<service>] settings are checked before anything is sent, in a dry run as in a real export:
each value of its kind (TOML's true is not a number), at its line in newsletter.toml, with what to
write instead. One check in the settings layer covers every service."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import load_config
from newsletter.errors import ConfigError
from newsletter.services import SERVICES
from tests.conftest import SAMPLE_WEEK

# What each service needs from the environment so that only the setting under test is wrong.
NEEDS = {
    "eml": {},
    "smtp": {"HOST": "127.0.0.1"},
    "mailchimp": {"API_KEY": "0123abcd-us21", "LIST_ID": "a1b2c3d4e5"},
    "buttondown": {"API_KEY": "bd-key"},
    "listmonk": {"API_URL": "http://127.0.0.1:9", "USERNAME": "api", "TOKEN": "t0ken", "LIST_IDS": "3"},
    "brevo": {"API_KEY": "xkeysib-abc", "LIST_IDS": "2"},
    "sendgrid": {"API_KEY": "SG.abc", "SENDER_ID": "1", "SUPPRESSION_GROUP_ID": "5"},
    "kit": {"API_KEY": "kit-key"},
}

# (service, line written in [export.<service>], words the message must hold)
BAD = [
    ("listmonk", "timeout = true", ["[export.listmonk] timeout", "not true", "write timeout = 10"]),
    ("mailchimp", "timeout = -1", ["[export.mailchimp] timeout", "0 or more", "not -1", "write timeout = 10"]),
    ("buttondown", "timeout = nan", ["[export.buttondown] timeout", "not nan", "write timeout = 10"]),
    ("kit", "retry_budget = inf", ["[export.kit] retry_budget", "not inf", "write retry_budget = 40"]),
    ("sendgrid", "deadline = false", ["[export.sendgrid] deadline", "not false", "write deadline = 20"]),
    ("brevo", 'retries = "3"', ["[export.brevo] retries", 'not "3"', "write retries = 3, without quotes"]),
    ("listmonk", "retries = 2.5", ["[export.listmonk] retries", "whole number", "not 2.5"]),
    ("smtp", "port = true", ["[export.smtp] port", "not true", "write port = 587"]),
    ("smtp", "port = 70000", ["[export.smtp] port", "1 to 65535", "not 70000"]),
    ("smtp", "timeout = -5", ["[export.smtp] timeout", "not -5", "write timeout = 20"]),
    ("smtp", 'plaintext_login = "yes"', ["[export.smtp] plaintext_login", "true or false", 'not "yes"']),
    ("smtp", 'security = "ssl"', ["[export.smtp] security", '"none", "starttls" or "tls"', 'not "ssl"']),
    ("smtp", "host = 10", ["[export.smtp] host", "a string", "not 10", 'write host = "10"']),
    ("mailchimp", "list_id = 123", ["[export.mailchimp] list_id", "a string", "not 123", 'write list_id = "123"']),
    ("mailchimp", 'list_id = ["a", "b"]', ["[export.mailchimp] list_id", "a string", 'not ["a", "b"]']),
    ("listmonk", 'list_ids = "3,5"', ["[export.listmonk] list_ids", 'not "3,5"', "write list_ids = [3, 5]"]),
    ("listmonk", "list_ids = [true]", ["[export.listmonk] list_ids", "not [true]", "whole numbers"]),
    ("listmonk", "template_id = -2", ["[export.listmonk] template_id", "above 0", "not -2"]),
    ("brevo", "sender_id = 1.5", ["[export.brevo] sender_id", "whole number", "not 1.5"]),
    ("sendgrid", 'list_ids = ["my-list"]', ["[export.sendgrid] list_ids", "f2fe66a1-43f3-4e3a-87b1-c6a600d805f0",
                                             '"my-list"']),
    ("sendgrid", 'suppression_group_id = "5"', ["[export.sendgrid] suppression_group_id",
                                                "write suppression_group_id = 5, without quotes"]),
    ("sendgrid", 'custom_unsubscribe_url = "http://x.example/u"', ["[export.sendgrid] custom_unsubscribe_url",
                                                                   "https://"]),
    ("kit", "tag_ids = [0]", ["[export.kit] tag_ids", "above 0", "not [0]"]),
    ("kit", "email_template_id = true", ["[export.kit] email_template_id", "not true"]),
    ("buttondown", 'view_online = "web"', ["[export.buttondown] view_online", '"archive" or "service"', 'not "web"']),
    ("listmonk", 'api_url = "ftp://lists.example"', ["[export.listmonk] api_url", "https://"]),
    ("listmonk", 'api_url = "https://admin:hunter2@lists.example"', ["[export.listmonk] api_url holds a user name",
                                                                     "NEWSLETTER_LISTMONK_API_URL"]),
    ("smtp", 'host = "mail.example\\u0007"', ["[export.smtp] host", "U+0007"]),
    ("kit", "tag_id = [3]", ["unknown setting 'tag_id' in [export.kit]", "Did you mean 'tag_ids'?"]),
    ("eml", "timeout = 10", ["unknown setting 'timeout' in [export.eml]", "eml has no settings"]),
    ("brevo", 'api_key = "xkeysib-in-the-file"', ["[export.brevo] api_key is a secret", "NEWSLETTER_BREVO_API_KEY"]),
]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def configure(workspace: Path, monkeypatch: pytest.MonkeyPatch, service: str, line: str) -> int:
    """The sample settings with ``line`` in [export.<service>]; the environment holds the rest. Returns its line."""
    for name, needs in NEEDS.items():
        for key, value in needs.items():
            monkeypatch.setenv(f"NEWSLETTER_{name.upper()}_{key}", value)
    for written in line.splitlines():  # the file's value is the one in force
        key = written.split("=", 1)[0].strip()
        monkeypatch.delenv(f"NEWSLETTER_{service.upper()}_{key.upper()}", raising=False)
    settings = workspace / "newsletter.toml"
    text = settings.read_text("utf-8").rstrip("\n") + f"\n\n[export.{service}]\n{line}\n"
    settings.write_text(text, "utf-8")
    return len(text.splitlines())


@pytest.mark.parametrize(("service", "line", "words"), BAD, ids=[f"{s}-{line}" for s, line, _ in BAD])
@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "real"])
def test_a_bad_service_setting_stops_the_export_at_its_line(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                            service: str, line: str, words: list[str],
                                                            dry_run: bool) -> None:
    number = configure(workspace, monkeypatch, service, line)
    args = ["export", "--to", service, "--week", SAMPLE_WEEK, "--no-links"]
    args += ["--dry-run"] if dry_run else ["--test-to", "editor@example.org"] if service == "smtp" else []
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert f"newsletter.toml:{number}: " in result.stderr, result.stderr
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.output and "xkeysib-in-the-file" not in result.output
    assert "hunter2" not in result.output
    assert result.stdout == ""  # nothing was sent, and a dry run printed no request
    assert not (workspace / "issues" / SAMPLE_WEEK / "email.html").exists()  # refused before the build


def test_another_services_bad_table_is_refused_too(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    number = configure(workspace, monkeypatch, "mailchimp", "retries = -1")
    result = run("export", "--to", "eml", "--week", SAMPLE_WEEK, "--dry-run", "--no-links")
    assert result.exit_code == 1 and f"newsletter.toml:{number}: [export.mailchimp] retries" in result.stderr


@pytest.mark.parametrize(("service", "key", "value", "words"), [
    ("listmonk", "TIMEOUT", "true", ["NEWSLETTER_LISTMONK_TIMEOUT", "'true'", "number of seconds"]),
    ("mailchimp", "RETRIES", "-1", ["NEWSLETTER_MAILCHIMP_RETRIES", "'-1'", "whole number"]),
    ("smtp", "DEADLINE", "nan", ["NEWSLETTER_SMTP_DEADLINE", "'nan'"]),
    ("brevo", "LIST_IDS", "two", ["NEWSLETTER_BREVO_LIST_IDS", "'two'", "2,7"]),
    ("smtp", "PLAINTEXT_LOGIN", "maybe", ["NEWSLETTER_SMTP_PLAINTEXT_LOGIN", "true or false"]),
])
def test_a_bad_environment_setting_names_the_variable(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                      service: str, key: str, value: str, words: list[str]) -> None:
    configure(workspace, monkeypatch, service, "# nothing in the file")
    monkeypatch.setenv(f"NEWSLETTER_{service.upper()}_{key}", value)
    result = run("export", "--to", service, "--week", SAMPLE_WEEK, "--dry-run", "--no-links")
    assert result.exit_code == 1 and result.stdout == "", result.output
    for word in words:
        assert word in result.stderr, result.stderr


@pytest.mark.parametrize(("service", "lines"), [
    ("listmonk", 'timeout = 2.5\nretries = 0\nlist_ids = [3, 5]\ntemplate_id = 4\nview_online = "Service"'),
    ("sendgrid", 'list_ids = ["F2FE66A1-43f3-4e3a-87b1-c6a600d805f0"]\nsuppression_group_id = 5\ntimeout = 0'),
    ("smtp", 'port = 2525\nsecurity = "TLS"\nplaintext_login = false\ndeadline = 30'),
    ("kit", "tag_ids = 7\nemail_template_id = 6\nretry_max_delay = 0.5"),
    ("mailchimp", 'list_id = "a1b2c3d4e5"\nretry_budget = 0'),
])
def test_good_settings_still_export(workspace: Path, monkeypatch: pytest.MonkeyPatch, service: str,
                                    lines: str) -> None:
    """Numbers of either TOML kind, a single id for a list, choices in any case, 0 where 0 means something."""
    configure(workspace, monkeypatch, service, lines)
    cls = SERVICES[service]
    config = load_config(workspace / "newsletter.toml")
    instance = cls(config, echo=lambda _: None, warn=lambda _: None)
    table = tomllib.loads((workspace / "newsletter.toml").read_text("utf-8"))["export"][service]
    for key in table:
        assert instance.values[key] is not None, key
    if service == "listmonk":
        assert instance.number("timeout") == 2.5 and instance.integers("list_ids") == [3, 5]
        assert instance.values["view_online"] == "service"
    if service == "smtp":
        assert instance.values["security"] == "tls" and not instance.flag("plaintext_login")


def test_the_init_files_examples_are_valid_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Uncommenting a service's block of the file `newsletter init` writes gives settings that load."""
    from newsletter.export import check_export_settings
    from newsletter.scaffold import init_workspace

    init_workspace(tmp_path, timezone="UTC")
    settings = tmp_path / "newsletter.toml"
    lines = settings.read_text("utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# [export."))
    # Everything from the first service block on, uncommented (the notes about secrets stay comments).
    body = [line[2:] if line.startswith("# ") and ("[export." in line or " = " in line) else line
            for line in lines[start:]]
    settings.write_text("\n".join(lines[:start] + body) + "\n", "utf-8")
    config = load_config(settings)
    assert set(config.export) >= set(SERVICES) - {"eml"}
    check_export_settings(config)  # raises ConfigError on any example of the wrong kind
    for name, cls in SERVICES.items():
        for key, value in config.service_settings(name).items():
            spec = next(spec for spec in cls.settings_spec if spec.key == key)
            if spec.default is not None:
                assert value not in ("", []), (name, key)  # a default is shown as the value it is


def test_a_wrong_setting_is_refused_when_the_service_is_made(tmp_path: Path) -> None:
    """Services made in code (tests, scripts) get the same check as the CLI."""
    from tests.exporting import make_config

    cls = SERVICES["eml"]
    cls(make_config(tmp_path))
    with pytest.raises(ConfigError) as caught:
        SERVICES["smtp"](make_config(tmp_path, {"smtp": {"host": "mail.example", "timeout": True}}))
    assert "[export.smtp] timeout" in caught.value.message and "not true" in caught.value.message


def test_a_table_written_inline_is_named_at_its_line(workspace: Path) -> None:
    settings = workspace / "newsletter.toml"
    lines = settings.read_text("utf-8").splitlines()
    at = lines.index("[export]") + 1  # the sample's own [export] table
    lines.insert(at, 'smtp = { host = "mail.example", port = "25" }')
    settings.write_text("\n".join(lines) + "\n", "utf-8")
    result = run("export", "--to", "eml", "--week", SAMPLE_WEEK, "--dry-run", "--no-links")
    assert result.exit_code == 1
    assert f"newsletter.toml:{at + 1}: [export.smtp] port must be" in result.stderr, result.stderr
    assert "write port = 25, without quotes" in result.stderr


@pytest.mark.parametrize(("where", "value", "advice", "never"), [
    ("file", 'security = "ssl"', 'write security = "starttls"', 'security = "none"'),
    ("environment", "ssl", "NEWSLETTER_SMTP_SECURITY=starttls", "NEWSLETTER_SMTP_SECURITY=none"),
])
def test_a_mistyped_choice_is_answered_with_its_default_not_the_least_safe_choice(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, where: str, value: str, advice: str, never: str) -> None:
    """A typo in [export.smtp] security must not be "fixed" by advice to send in the clear."""
    configure(workspace, monkeypatch, "smtp", value if where == "file" else "# nothing in the file")
    if where == "environment":
        monkeypatch.setenv("NEWSLETTER_SMTP_SECURITY", value)
    result = run("export", "--to", "smtp", "--week", SAMPLE_WEEK, "--dry-run", "--no-links",
                 "--test-to", "editor@example.org")
    assert result.exit_code == 1, result.output
    assert advice in result.stderr and never not in result.stderr, result.stderr


@pytest.mark.parametrize("header", ["[export.listmonk]   # our list server", "[ export.listmonk ]"])
def test_a_table_header_with_a_comment_or_spaces_still_names_the_line(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                                       header: str) -> None:
    number = configure(workspace, monkeypatch, "listmonk", "timeout = true")
    settings = workspace / "newsletter.toml"
    settings.write_text(settings.read_text("utf-8").replace("[export.listmonk]", header), "utf-8")
    result = run("export", "--to", "listmonk", "--week", SAMPLE_WEEK, "--dry-run", "--no-links")
    assert result.exit_code == 1, result.output
    assert f"newsletter.toml:{number}: [export.listmonk] timeout" in result.stderr, result.stderr


@pytest.mark.parametrize(("written", "at", "said"), [
    ('default = "eml"\nlistmonk.timeout = true', "listmonk.timeout = true",  # a dotted key in [export]
     "[export.listmonk] timeout must be"),
    ('default = "eml"\n\n[export.listmonk.headers]\nx = 1', "[export.listmonk.headers]",  # a table under it
     "unknown setting 'headers' in [export.listmonk]"),
])
def test_a_setting_written_as_a_dotted_key_or_a_sub_table_is_named_at_its_line(
        workspace: Path, monkeypatch: pytest.MonkeyPatch, written: str, at: str, said: str) -> None:
    configure(workspace, monkeypatch, "listmonk", "# nothing in the file")
    settings = workspace / "newsletter.toml"
    text = settings.read_text("utf-8").replace("\n\n[export.listmonk]\n# nothing in the file\n", "\n")
    text = text.replace('[export]\ndefault = "eml"\n', f"[export]\n{written}\n")
    settings.write_text(text, "utf-8")
    number = text.splitlines().index(at) + 1
    result = run("export", "--to", "listmonk", "--week", SAMPLE_WEEK, "--dry-run", "--no-links")
    assert result.exit_code == 1, result.output
    assert f"newsletter.toml:{number}: " in result.stderr and said in result.stderr, result.stderr


@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_newsletter_check_finds_a_bad_service_setting_before_export_does(workspace: Path,
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         as_json: bool) -> None:
    """`newsletter check` is what stands between the edition and export: it must not pass what export refuses."""
    number = configure(workspace, monkeypatch, "listmonk", "timeout = true")
    result = run("check", "--week", SAMPLE_WEEK, "--no-links", *(["--json"] if as_json else []))
    assert result.exit_code == 1, result.output
    assert f"newsletter.toml:{number}: [export.listmonk] timeout" in result.stderr, result.stderr
    if as_json:
        import json

        report = json.loads(result.stdout)
        assert not report["ok"] and report["errors"][0]["location"]["line"] == number
