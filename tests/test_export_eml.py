"""The .eml export: a standards-following message file that SpamAssassin does not mind."""

from __future__ import annotations

import email
import shutil
import subprocess
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsletter.cli import cli
from newsletter.export import export_email
from newsletter.mime import build_message
from newsletter.services.eml import EmlService
from tests.conftest import SAMPLE_WEEK, need
from tests.exporting import HOSTILE, KEY, STANDALONE, make_config, make_email, read_exports


def parse(data: bytes) -> EmailMessage:
    message = email.message_from_bytes(data, policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_message_structure_and_headers(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    raw = build_message(make_email().with_links(STANDALONE), config, KEY).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    assert head.isascii(), "headers must be 7-bit: non-ASCII goes RFC 2047-encoded"
    assert b"=?utf-8?" in head  # the Vietnamese in the subject
    message = parse(raw)
    assert message.get_content_type() == "multipart/alternative"
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]  # text first: clients prefer the last
    assert all(p.get_content_charset() == "utf-8" for p in parts)
    assert "Người Việt ở Quận Cam" in parts[0].get_content()
    assert str(message["Subject"]) == f"Saigon Sentinel: {HOSTILE}"
    assert message["From"].addresses[0].addr_spec == "newsletter@sentinel.example"
    assert message["From"].addresses[0].display_name == "Saigon Sentinel"
    assert str(message["Reply-To"]) == "editor@sentinel.example"
    assert message["Date"].datetime is not None
    assert message["Message-ID"].endswith("@sentinel.example>")
    assert str(message["List-Id"]) == "Saigon Sentinel <saigon-sentinel.sentinel.example>"
    assert str(message["List-Unsubscribe"]) == ("<https://sentinel.example/newsletter/unsubscribe>, "
                                                "<mailto:unsubscribe@sentinel.example>")
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
    html = parts[1].get_content()
    assert "placeholder.invalid" not in html + parts[0].get_content()
    assert 'href="https://sentinel.example/newsletter/preferences"' in html


def test_export_writes_message_eml_and_records_it(tmp_path: Path) -> None:
    folder = tmp_path / "issues" / KEY
    output: list[str] = []
    result = export_email(EmlService(make_config(tmp_path)), KEY, folder, make_email(), STANDALONE, echo=output.append)
    assert result.action == "written"
    assert parse((folder / "message.eml").read_bytes())["List-Unsubscribe-Post"]
    state = read_exports(folder)
    assert state["history"][0]["service"] == "eml" and state["history"][0]["files"] == ["message.eml"]
    assert state["history"][0]["content_hash"].startswith("sha256:")
    assert "Wrote" in output[-1] and "message.eml" in output[-1]
    assert not list(folder.glob(".*.tmp"))  # the atomic write left no temporary file


def spam_score(path: Path) -> tuple[float, str]:
    # -L: local tests only (no DNS or network), as CI has none.
    report = subprocess.run(["spamassassin", "-t", "-L"], stdin=path.open("rb"), capture_output=True, timeout=120,
                            check=False).stdout.decode("utf-8", "replace")
    for line in report.splitlines():
        if line.startswith("X-Spam-Status:"):
            score = float(line.split("score=", 1)[1].split()[0])
            return score, report
    raise AssertionError(f"no X-Spam-Status in SpamAssassin's report:\n{report[-2000:]}")


@pytest.mark.timeout(180)
def test_spamassassin_scores_the_sample_issue_below_one(workspace: Path) -> None:
    need(shutil.which("spamassassin") is not None, "spamassassin is not installed (apt install spamassassin)")
    result = CliRunner().invoke(cli, ["export", "--to", "eml", "--week", SAMPLE_WEEK])
    assert result.exit_code == 0, result.output
    path = workspace / "issues" / SAMPLE_WEEK / "message.eml"
    score, report = spam_score(path)
    assert score < 1.0, report


@pytest.mark.parametrize(
    "subject",
    [
        "New rules on money transfers to Vietnam, and a new home for the Tết fair",  # folds right before "Tết"
        "Hội chợ Tết Little Saigon năm nay dời về công viên Mile Square ở Fountain Valley, California",
        "A plain ASCII subject that is long enough to be folded by the generator at some point, surely",
    ],
)
def test_long_subjects_round_trip_exactly(tmp_path: Path, subject: str) -> None:
    from msgspec.structs import replace

    rendered = replace(make_email(), subject=subject).with_links(STANDALONE)
    raw = build_message(rendered, make_config(tmp_path), KEY).as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"))
    assert str(parse(raw)["Subject"]) == subject
