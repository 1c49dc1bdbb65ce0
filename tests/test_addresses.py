"""Display names quoted per RFC 5322 wherever they go; Mailchimp's preheader and key handled whatever they hold."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.headerregistry import Address
from email.utils import getaddresses
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.mime import display_address
from newsletter.services.mailchimp import strip_preheader
from tests.servers import FakeListmonk, FakeMailchimp, serve

WEEK = ["--week", "2026-W48"]


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def set_sender_name(workspace: Path, name: str) -> None:
    path = workspace / "newsletter.toml"
    text = path.read_text("utf-8").replace('[sender]\nname = "Saigon Sentinel"', f"[sender]\nname = {name}")
    assert f"name = {name}" in text
    path.write_text(text, "utf-8")


NAMES = [
    ("Harbor Gazette, Inc.", '"Harbor Gazette, Inc." <news@gazette.example>'),
    ("Gazette: Weekly", '"Gazette: Weekly" <news@gazette.example>'),
    ('The "Harbor" Gazette', '"The \\"Harbor\\" Gazette" <news@gazette.example>'),
    ("O'Neil Weekly", "O'Neil Weekly <news@gazette.example>"),
    ("Back\\slash News", '"Back\\\\slash News" <news@gazette.example>'),
    ("Báo Người Việt", "Báo Người Việt <news@gazette.example>"),
    ("Plain Gazette", "Plain Gazette <news@gazette.example>"),
]


@pytest.mark.parametrize(("name", "expected"), NAMES)
def test_display_names_are_quoted_per_rfc_5322(name: str, expected: str) -> None:
    value = display_address(name, "news@gazette.example")
    assert value == expected
    [(parsed_name, parsed_address)] = getaddresses([value])  # a mail parser gets the same name back
    assert (parsed_name, parsed_address) == (name, "news@gazette.example")


def test_no_name_is_just_the_address() -> None:
    assert display_address("  ", "news@gazette.example") == "news@gazette.example"


def toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize(("name", "expected"), NAMES[:3] + NAMES[5:6])
def test_the_eml_from_header_keeps_the_name_whole(workspace: Path, name: str, expected: str) -> None:
    set_sender_name(workspace, toml_string(name))
    result = run("export", "--to", "eml", *WEEK)
    assert result.exit_code == 0, result.output
    raw = (workspace / "issues" / "2026-W48" / "message.eml").read_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    [address] = message["From"].addresses
    assert isinstance(address, Address)
    assert (address.display_name, address.addr_spec) == (name, "newsletter@saigonsentinel.example")
    assert not message.defects


def test_listmonk_from_email_is_quoted(workspace: Path, listmonk: FakeListmonk) -> None:
    set_sender_name(workspace, '"Saigon Sentinel, Inc."')
    result = run("export", "--to", "listmonk", *WEEK)
    assert result.exit_code == 0, result.output
    assert listmonk.errors == []
    [campaign] = listmonk.drafts.values()
    assert campaign["from_email"] == '"Saigon Sentinel, Inc." <newsletter@saigonsentinel.example>'

    result = run("export", "--to", "listmonk", *WEEK, "--dry-run")
    assert result.exit_code == 0, result.output
    assert '"from_email": "\\"Saigon Sentinel, Inc.\\" <newsletter@saigonsentinel.example>"' in result.stdout


# ---- Mailchimp -------------------------------------------------------------------------------


@pytest.fixture
def mailchimp(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeMailchimp]:
    fake = FakeMailchimp()
    with serve(fake) as url:
        for key, value in {"API_URL": url + "/3.0", "API_KEY": fake.api_key, "LIST_ID": fake.list_id}.items():
            monkeypatch.setenv(f"NEWSLETTER_MAILCHIMP_{key}", value)
        yield fake


PREHEADERS = [
    "Ferry schedule | fares | what changes",
    "Budget {draft} & the {{ council }} vote",
    'The "night market" opens – it\'s official',
    "Chợ đêm mở cửa | Tết 2027",
    "Fees *|cut|* for <everyone> & more",
    "A ‘smart’ quote… and a tab\there",
]


@pytest.mark.parametrize("preheader", PREHEADERS)
def test_mailchimp_gets_no_hidden_preheader_whatever_it_holds(workspace: Path, mailchimp: FakeMailchimp,
                                                              preheader: str) -> None:
    manifest = workspace / "issues" / "2026-W48" / "issue.toml"
    text = manifest.read_text("utf-8")
    line = next(item for item in text.splitlines() if item.startswith("preheader"))
    manifest.write_text(text.replace(line, f"preheader = {toml_string(preheader)}"), "utf-8")
    result = run("export", "--to", "mailchimp", *WEEK, "--force")  # template syntax on purpose: the check refuses it
    assert result.exit_code == 0, result.output
    assert mailchimp.errors == []
    [campaign] = mailchimp.drafts.values()
    html = campaign["content"]["html"]
    built = (workspace / "issues" / "2026-W48" / "email.html").read_text("utf-8")
    assert "mso-hide:all" in built  # the standalone email keeps its hidden preheader
    assert "mso-hide:all" not in html and "&#847;&zwnj;" not in html and "\u034f\u200c" not in html
    assert campaign["settings"]["preview_text"].replace("\u200d", "") == " ".join(preheader.split())


def test_strip_preheader_leaves_other_markup_alone() -> None:
    html = '<body><div style="display:none">Something else</div><p>Story</p></body>'
    assert strip_preheader(html, "The preheader") == html
    assert strip_preheader(html, "") == html
    hidden = '<body>\n<div style="display: none">A &amp; B &#124; C&#847;&zwnj;&nbsp;</div><p>Story</p></body>'
    assert strip_preheader(hidden, "A & B | C") == "<body>\n<p>Story</p></body>"


@pytest.mark.parametrize("key", ["0123456789abcdef0123456789abcdef", "0123456789abcdef-", "abc-us21/../evil",
                                 "abc-evil.example#"])
def test_a_mailchimp_key_without_its_data_centre_says_so(workspace: Path, monkeypatch: pytest.MonkeyPatch,
                                                        key: str) -> None:
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_API_KEY", key)
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_LIST_ID", "a1b2c3")
    monkeypatch.delenv("NEWSLETTER_MAILCHIMP_API_URL", raising=False)
    result = run("export", "--to", "mailchimp", *WEEK, "--dry-run")
    assert result.exit_code == 1 and result.stdout == "" and "Traceback" not in result.output
    assert "NEWSLETTER_MAILCHIMP_API_KEY has no data-centre suffix" in result.stderr
    assert "like ...-us21" in result.stderr and "NEWSLETTER_MAILCHIMP_API_URL" in result.stderr
    assert key not in result.output


def test_a_mailchimp_key_with_its_data_centre_picks_the_host(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_API_KEY", "0123456789abcdef0123456789abcdef-US14")
    monkeypatch.setenv("NEWSLETTER_MAILCHIMP_LIST_ID", "a1b2c3")
    monkeypatch.delenv("NEWSLETTER_MAILCHIMP_API_URL", raising=False)
    result = run("export", "--to", "mailchimp", *WEEK, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "https://us14.api.mailchimp.com/3.0/campaigns" in result.stdout


def test_service_errors_end_sentences_once(workspace: Path, listmonk: FakeListmonk) -> None:
    from tests.servers import Fault

    listmonk.faults.append(Fault("POST", "/api/campaigns", times=10, status=500, body={"message": "Database is down."}))
    result = run("export", "--to", "listmonk", *WEEK)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Database is down. The service is busy" in result.stderr
    assert ".." not in result.stderr.replace("...", "")
    assert "retrying in" in result.stderr and "retrying" not in result.stdout
