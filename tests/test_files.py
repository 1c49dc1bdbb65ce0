"""Files that are not articles, odd encodings, invisible and control characters, hostile names and folders.

Each case ends in a clear message naming the file (and line), exit 1, never a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from newsletter.cli import cli
from newsletter.config import Headings
from newsletter.content import (
    MAX_ARTICLE_BYTES,
    MAX_LINE_CHARS,
    find_articles,
    load_articles,
    read_article,
    read_text,
    strip_invisible,
)
from newsletter.errors import ContentError, shown
from newsletter.weeks import week_period

H = Headings(analysis=("Editors' Analysis", "Analysis"), impact=("Impact on Readers", "Impact"))
WEEK = week_period("2026-W48")
STORY = "Tram line reopens after repairs\nPORTLAND – The tram runs again.\nEditors' Analysis\nOverdue.\n" \
        "Impact on Readers\nShorter commutes.\n"


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def problem_of(path: Path) -> ContentError:
    with pytest.raises(ContentError) as caught:
        read_article(path, H)
    return caught.value


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


# ---- kinds of file -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("2026-11-24-tram.docx", b"PK\x03\x04 word", "a Word document"),
        ("2026-11-24-tram.doc", b"\xd0\xcf\x11\xe0", "a Word document"),
        ("2026-11-24-tram.rtf", b"{\\rtf1\\ansi Tram}", "a rich-text (RTF) document"),
        ("2026-11-24-tram.odt", b"PK\x03\x04", "an OpenDocument text document"),
        ("2026-11-24-tram.pages", b"PK\x03\x04", "a Pages document"),
        ("2026-11-24-tram.PDF", b"%PDF-1.7", "a PDF"),
        ("2026-11-24-tram.html", b"<html><body>Tram</body></html>", "a web page (HTML)"),
        ("2026-11-24-tram.htm", b"<p>Tram</p>", "a web page (HTML)"),
        # the right name, the wrong insides
        ("2026-11-24-renamed.txt", b"%PDF-1.4\n...", "a PDF with a text file's name"),
        ("2026-11-24-renamed.md", b"{\\rtf1 Tram}", "a rich-text (RTF) document with a text file's name"),
        ("2026-11-24-renamed2.txt", b"PK\x03\x04\x14\x00", "a Word, OpenDocument or other zipped document"),
    ],
)
def test_documents_are_reported_not_passed_over(tmp_path: Path, name: str, data: bytes, kind: str) -> None:
    path = write(tmp_path / name, data)
    articles, problems = load_articles(tmp_path, WEEK, H)
    assert articles == []
    [error] = problems
    assert error.path == path and kind in error.problem
    assert "Save it as plain text (.txt, UTF-8) or Markdown (.md)" in error.hint
    assert "start its name with _" in error.hint


def test_documents_outside_the_week_or_hidden_are_left_alone(tmp_path: Path) -> None:
    write(tmp_path / "2026-10-01-old.docx", b"PK")
    write(tmp_path / "_2026-11-24-draft.docx", b"PK")
    write(tmp_path / "2026-11-24-photo.jpg", b"\xff\xd8\xff")
    write(tmp_path / "2026-11-24-tram.txt", STORY)
    articles, problems = load_articles(tmp_path, WEEK, H)
    assert len(articles) == 1 and problems == []


def test_a_companion_in_word_is_reported(tmp_path: Path) -> None:
    write(tmp_path / "2026-11-24-tram.txt", STORY)
    write(tmp_path / "2026-11-24-tram.analysis.docx", b"PK\x03\x04")
    _, problems = load_articles(tmp_path, WEEK, H)
    assert [p.path.name for p in problems] == ["2026-11-24-tram.analysis.docx"]


def test_word_and_rtf_through_the_cli(workspace: Path) -> None:
    write(workspace / "content" / "2026-11-24-council.docx", b"PK\x03\x04")
    write(workspace / "content" / "2026-11-25-council.rtf", b"{\\rtf1}")
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 1 and result.stdout == "" and "Traceback" not in result.output
    assert "2 article files cannot be used" in result.stderr
    assert "content/2026-11-24-council.docx: is a Word document, not a text file. Save it as plain text" \
        in result.stderr
    assert "content/2026-11-25-council.rtf: is a rich-text (RTF) document" in result.stderr


# ---- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: b"\xff\xfe" + s.encode("utf-16-le"),  # Word's "Unicode text"
        lambda s: b"\xfe\xff" + s.encode("utf-16-be"),
        lambda s: s.encode("utf-16"),
        lambda s: s.encode("utf-32"),
        lambda s: b"\xff\xfe" + s.replace("\n", "\r\n").encode("utf-16-le"),
    ],
)
def test_utf16_and_utf32_with_a_bom_are_read(tmp_path: Path, encode: object) -> None:
    text = STORY.replace("The tram", "Xe điện")
    article = read_article(write(tmp_path / "2026-11-24-tram.txt", encode(text)), H)  # type: ignore[operator]
    assert article.headline == "Tram line reopens after repairs"
    assert article.body[0].text == "PORTLAND – Xe điện runs again."
    assert [p.text for p in article.impact] == ["Shorter commutes."]


@pytest.mark.parametrize(
    ("data", "seems", "line"),
    [
        ("Tram reopens\nThe café’s terrace – déjà vu, naïve.\n".encode("cp1252"), "Windows-1252 (Western European)", 2),
        ("Tram\nCafé crème au marché.\n".encode("mac_roman"), "Mac OS Roman", 2),
        # é and – are the same bytes in Windows-1250 and -1252: the commoner one is named
        ("Café news – opening\nTARAWA – The café opened.\n".encode("cp1252"), "Windows-1252 (Western European)", 1),
        ("Tram reopens after a long pause\nMore text here.\n".encode("utf-16-le"),
         "UTF-16 text without a byte-order mark", None),
    ],
)
def test_other_encodings_are_named(tmp_path: Path, data: bytes, seems: str, line: int | None) -> None:
    error = problem_of(write(tmp_path / "2026-11-24-tram.txt", data))
    assert seems in error.problem and error.line == line
    assert "UTF-8" in error.hint


# ---- invisible format characters -----------------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "\u200bEditors' Analysis",
        "Editors' Analysis\u200b",
        "Editors'\u200b Analysis",
        "Edi\u00adtors' Anal\u00adysis",
        "\u2060Editors' Analysis\u2060",
        "\ufeffEditors' Analysis",
        "Editors' Ana\u200dlysis",
        "Editors' Analysis\u200c:",
        "## \u200bEditors' Analysis",
    ],
)
def test_invisible_characters_never_stop_a_heading(tmp_path: Path, heading: str) -> None:
    text = STORY.replace("Editors' Analysis", heading)
    article = read_article(write(tmp_path / "2026-11-24-tram.txt", text), H)
    assert [p.text for p in article.analysis] == ["Overdue."]
    assert [p.text for p in article.body] == ["PORTLAND – The tram runs again."]


def test_invisible_characters_never_reach_a_headline(tmp_path: Path) -> None:
    dirty = "\ufeffTram\u00ad line\u200b re\u2060opens\u200d after repairs\u200c"
    article = read_article(write(tmp_path / "2026-11-24-tram.txt", STORY.replace("Tram line reopens after repairs",
                                                                                 dirty)), H)
    assert article.headline == "Tram line reopens after repairs"
    md = "---\ntitle: \"\u200bFerry\u00ad back\u2060\"\n---\nText.\n"
    assert read_article(write(tmp_path / "2026-11-24-ferry.md", md), H).headline == "Ferry back"


def test_joiners_that_do_a_job_are_kept() -> None:
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert strip_invisible(f"A {family} day") == f"A {family} day"
    assert strip_invisible("\u0915\u094d\u200d\u0937") == "\u0915\u094d\u200d\u0937"  # Devanagari half form
    assert strip_invisible("\u0e2a\u0e27\u0e31\u200b\u0e14\u0e35") == "\u0e2a\u0e27\u0e31\u200b\u0e14\u0e35"  # Thai
    assert strip_invisible("flag\u200d\U0001f3f3") == "flag\U0001f3f3"  # next to Latin: stray


def test_invisible_characters_never_reach_the_subject(workspace: Path) -> None:
    (workspace / "issues" / "2026-W48" / "issue.toml").unlink()
    write(workspace / "content" / "2026" / "11" / "2026-11-29-zz-lead.txt",
          "\u200bLibrary\u00ad opens\u2060 late\nCITY – Text.\nAnalysis\nA.\nImpact\nI.\n")
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 0, result.output
    manifest = (workspace / "issues" / "2026-W48" / "issue.toml").read_text("utf-8")
    subject = next(line for line in manifest.splitlines() if line.startswith("subject"))
    assert subject == 'subject = "Saigon Sentinel: Library opens late"'


# ---- control characters, sizes, names --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code", "line", "column"),
    [
        ("Tram\nPORTLAND – Bell\x07 rings.\n", "U+0007 (BEL)", 2, 16),
        ("Tram\nText.\n\x1b[31mRed\n", "U+001B (ESC)", 3, 1),
        ("Tram\fline\nText.\n", "U+000C (FORM FEED)", 1, 5),
        ("Tram\nA \x93quote\x94.\n", "U+0093", 2, 3),
        ("Tram\n" + "x" * 9000 + "\nMore \x00 text.\n", "U+0000 (NUL)", 3, 6),  # past the binary sniff
    ],
)
def test_control_characters_name_file_line_and_column(tmp_path: Path, body: str, code: str, line: int,
                                                      column: int) -> None:
    error = problem_of(write(tmp_path / "2026-11-24-tram.txt", body))
    assert code in error.problem and f"at column {column}" in error.problem
    assert error.line == line and error.hint


def test_an_article_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path / "2026-11-24-tram.txt", "Tram\n" + ("Word " * 200 + "\n") * (MAX_ARTICLE_BYTES // 1000))
    error = problem_of(path)
    assert f"over the limit of {MAX_ARTICLE_BYTES:,}" in error.problem


def test_a_huge_paragraph_is_refused_with_its_line(tmp_path: Path) -> None:
    line = "![map](data:image/png;base64," + "A" * MAX_LINE_CHARS + ")"
    path = write(tmp_path / "2026-11-24-tram.md", f"---\ntitle: T\n---\n\n{line}\n")
    error = problem_of(path)
    assert f"a line of {len(line):,} characters" in error.problem and error.line == 5
    assert "https://" in error.hint


def test_hostile_content_through_the_cli(workspace: Path) -> None:
    content = workspace / "content"
    write(content / "2026-11-24-bell.txt", "Bell\nCITY – Ding\x07.\n")
    write(content / "2026-11-24-huge.txt", "Huge\n" + "y" * 11_000_000 + "\n")
    write(content / "2026-11-24-bomb.md", "---\ntitle: &a Boom\nsummary: *a\n---\nText.\n")
    write(content / "2026-11-24-\x1b]0;pwned\x07.txt", STORY)
    write(content / os.fsdecode(b"2026-11-24-caf\xe9.txt"), STORY)
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 1 and result.exception is not None and isinstance(result.exception, SystemExit)
    err = result.stderr
    assert "5 article files cannot be used" in err and "Traceback" not in result.output
    assert "content/2026-11-24-bell.txt:2: has a control character, U+0007 (BEL)" in err
    assert "content/2026-11-24-huge.txt: is 11,000,006 bytes, over the limit" in err
    assert "content/2026-11-24-bomb.md:2: front matter uses a YAML anchor (&a)" in err
    assert "content/2026-11-24-\\x1b]0;pwned\\x07.txt: its name holds control characters" in err
    assert "content/2026-11-24-caf\\xe9.txt: its name is not UTF-8 text" in err
    assert "\x1b" not in result.output and "\x07" not in result.output


def test_names_are_shown_escaped() -> None:
    assert shown("a\x1b[2Jb\u202ec.txt") == "a\\x1b[2Jb\\u202ec.txt"
    assert shown(os.fsdecode(b"\xff\xfe.md")) == "\\xff\\xfe.md"


# ---- folders -------------------------------------------------------------------------------


def test_a_symlink_loop_is_an_error_naming_it(tmp_path: Path) -> None:
    write(tmp_path / "2026" / "2026-11-24-tram.txt", STORY)
    (tmp_path / "2026" / "again").symlink_to(tmp_path)
    (tmp_path / "2026-11-24-a.txt").symlink_to(tmp_path / "2026-11-24-b.txt")
    (tmp_path / "2026-11-24-b.txt").symlink_to(tmp_path / "2026-11-24-a.txt")
    articles, problems = load_articles(tmp_path, WEEK, H)
    assert [a.path.name for a in articles] == ["2026-11-24-tram.txt"]
    messages = {p.path.name: p.problem for p in problems}
    assert "a loop of symbolic links" in messages["again"]
    assert "cannot be read" in messages["2026-11-24-a.txt"]


def test_a_linked_folder_is_read_once(tmp_path: Path) -> None:
    shared = write(tmp_path / "shared" / "2026-11-24-tram.txt", STORY).parent
    content = tmp_path / "content"
    content.mkdir()
    (content / "wire").symlink_to(shared)
    articles, problems = load_articles(content, WEEK, H)
    assert [a.path for a in articles] == [content / "wire" / "2026-11-24-tram.txt"] and problems == []


def test_deep_folders_stop_with_an_error(tmp_path: Path) -> None:
    chain = [tmp_path]
    try:
        for _ in range(1000):  # one at a time: mkdir(parents=True) recurses
            chain.append(chain[-1] / "d")
            chain[-1].mkdir()
        write(chain[-1] / "2026-11-24-tram.txt", STORY)
        paths, problems = find_articles(tmp_path, WEEK)
        assert paths == []
        [error] = problems
        assert "more than 32 folders deep" in error.problem and len(error.path.parts) - len(tmp_path.parts) == 33
    finally:  # bottom up: shutil.rmtree, and so pytest's clean-up of old temporary folders, recurses
        (chain[-1] / "2026-11-24-tram.txt").unlink(missing_ok=True)
        for folder in reversed(chain[1:]):
            folder.rmdir()


def test_an_unreadable_folder_is_named(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import newsletter.content as content

    locked = workspace / "content" / "locked"
    write(locked / "2026-11-24-secret.txt", STORY)
    real = content.os.scandir

    def scandir(folder: object) -> object:  # the tests run as root, whom chmod does not stop
        if Path(str(folder)) == locked:
            raise PermissionError(13, "Permission denied", str(folder))
        return real(folder)  # type: ignore[arg-type]

    monkeypatch.setattr(content.os, "scandir", scandir)
    result = run("build", "--week", "2026-W48")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "content/locked: cannot be read (Permission denied). Give yourself read permission" in result.stderr


def test_an_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "2026-11-24-tram.txt", STORY)
    real_open = Path.open

    def fail(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", fail)
    error = problem_of(path)
    assert error.problem == "cannot be read (Permission denied)" and "chmod" in error.hint


def test_a_fifo_or_folder_named_like_an_article_is_not_opened(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "2026-11-24-pipe.txt")
    _, problems = load_articles(tmp_path, WEEK, H)
    assert [p.problem for p in problems] == ["is not a regular file"]
    with pytest.raises(ContentError, match="is a folder"):
        read_text(tmp_path)


def test_a_folder_with_a_garbled_name_is_named_not_entered(tmp_path: Path) -> None:
    write(tmp_path / os.fsdecode(b"caf\xe9") / "2026-11-24-tram.txt", STORY)
    write(tmp_path / "news\x1b[31m" / "2026-11-24-tram.txt", STORY)
    articles, problems = load_articles(tmp_path, WEEK, H)
    assert articles == []
    assert sorted(shown(p.path).rsplit("/", 1)[-1] + ": " + p.problem for p in problems) == [
        "caf\\xe9: its name is not UTF-8 text", "news\\x1b[31m: its name holds control characters"]
    assert all(p.hint.startswith("Rename the folder") for p in problems)


@pytest.mark.parametrize("name", ["²⁰²⁶", "2026/1²", "２０２６"])
def test_folders_named_with_other_digits_are_plain_folders(tmp_path: Path, name: str) -> None:
    """'²'.isdigit() is true but int() refuses it: such a folder is not a year, and no traceback."""
    from newsletter.config import Headings
    from newsletter.content import load_articles
    from newsletter.weeks import week_period

    folder = tmp_path / name
    folder.mkdir(parents=True)
    (folder / "2026-11-24-story.txt").write_text("A headline\nWESTMINSTER – A story.\n", "utf-8")
    articles, problems = load_articles(tmp_path, week_period("2026-W48"), Headings())
    assert [a.headline for a in articles] == ["A headline"] and problems == []


def test_paths_are_shown_the_same_wherever_the_workspace_lives(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative inside the current folder or its workspace (from content/: ../issues/...); absolute
    elsewhere, even when a relative form would be shorter (a checkout next to the temp folder)."""
    from newsletter.errors import shown

    workspace = tmp_path / "weekly"
    (workspace / "content" / "2026").mkdir(parents=True)
    (workspace / "newsletter.toml").write_text("", "utf-8")
    neighbour = tmp_path / "elsewhere" / "notes.txt"
    monkeypatch.chdir(workspace / "content")
    assert shown(workspace / "content" / "2026" / "a.txt") == "2026/a.txt"
    assert shown(workspace / "issues" / "2026-W48" / "message.eml") == "../issues/2026-W48/message.eml"
    assert shown(neighbour) == str(neighbour)  # not ../../elsewhere/notes.txt: outside the workspace
    monkeypatch.chdir(tmp_path / "weekly" / "content" / "..")
    (workspace / "newsletter.toml").unlink()  # no workspace at all: only what is below the folder is relative
    assert shown(workspace / "content" / "x.txt") == "content/x.txt" and shown(neighbour) == str(neighbour)
