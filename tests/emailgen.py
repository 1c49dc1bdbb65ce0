"""Issues built in memory for the email tests: a generated week of full-length articles."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from newsletter.document import Para
from newsletter.document import para as para
from newsletter.models import Issue, Links, Story

PLACEHOLDERS = Links(
    "https://placeholder.invalid/abc123/unsubscribe",
    "https://placeholder.invalid/abc123/preferences",
    "https://placeholder.invalid/abc123/view-online",
)

EN = [
    "Regional officials said on Tuesday that the new agreement would take effect next spring.",
    "Analysts cautioned that the details remain vague and that enforcement has been uneven in the past.",
    "The ministry did not respond to repeated requests for comment on the timing of the announcement.",
    "Community leaders in Orange County said families would watch closely how the change affects them.",
    "Trade between the two countries has grown by roughly a fifth over the past three years, figures show.",
    "Critics argue the measure favours large companies over the small firms that employ most workers.",
]
VI = [
    "Các quan chức địa phương cho biết thỏa thuận mới sẽ có hiệu lực vào mùa xuân tới.",
    "Giới phân tích cảnh báo rằng các chi tiết vẫn còn mơ hồ và việc thực thi trước đây không đồng đều.",
    "Bộ không trả lời nhiều yêu cầu bình luận về thời điểm công bố.",
    "Những người lãnh đạo cộng đồng ở Quận Cam nói các gia đình sẽ theo dõi sát sao thay đổi này.",
    "Ông Nguyễn Văn Được, chủ một tiệm phở ở Westminster, nói rằng chi phí đã tăng gấp đôi.",
    "Thương mại giữa hai nước đã tăng khoảng một phần năm trong ba năm qua, theo số liệu chính thức.",
]


def paragraphs(pool: list[str], count: int, sentences: int, seed: int, tag: str = "") -> tuple[Para, ...]:
    """``count`` paragraphs of ``sentences`` sentences; ``tag`` makes each one unique."""
    return tuple(
        para((f"{tag} {n + 1}. " if tag else "")
             + " ".join(pool[(seed + n * 3 + k) % len(pool)] for k in range(sentences)))
        for n in range(count)
    )


def make_story(n: int, *, vietnamese: bool = False, image: bool = False, **overrides: object) -> Story:
    pool = VI if vietnamese else EN
    body = paragraphs(pool, 8, 4, n, f"Đoạn tin {n}" if vietnamese else f"Story {n} paragraph")
    fields: dict[str, object] = dict(
        id=f"2026-11-{23 + n % 7:02d}-story-{n}",
        source=Path(f"content/2026/11/story-{n}.txt"),
        headline=(f"Người Việt ở hải ngoại và câu chuyện số {n} trong tuần" if vietnamese
                  else f"Story {n}: regional pact reshapes trade, security and family remittances"),
        url=f"https://news.example/2026/11/story-{n}/",
        date=date(2026, 11, 23) + timedelta(days=n % 7),
        lede=body[0],
        body=body,
        # ~400 words: longer than the email shows
        analysis=paragraphs(pool, 5, 5, n + 1, f"Phân tích {n}" if vietnamese else f"Analysis {n} paragraph"),
        impact=paragraphs(pool, 4, 4, n + 2),
        section=["world", "us", "vietnam", "community", "business"][n % 5],
        image=f"https://news.example/images/story-{n}.jpg" if image else None,
        image_alt=f"Photo for story {n}" if image else None,
        lang="vi" if vietnamese else None,
    )
    fields.update(overrides)
    return Story(**fields)  # type: ignore[arg-type]


def make_issue(count: int = 12, stories: tuple[Story, ...] | None = None, **overrides: object) -> Issue:
    if stories is None:
        stories = tuple(make_story(n, vietnamese=n % 4 == 3, image=n == 0) for n in range(count))
    fields: dict[str, object] = dict(
        key="2026-W48", start=date(2026, 11, 23), end=date(2026, 11, 29),
        subject="Saigon Sentinel: regional pact reshapes trade", preheader="Twelve stories this week, with analysis.",
        intro="A busy week in the region.\n\nThank you for reading.", stories=stories, number=48,
    )
    fields.update(overrides)
    return Issue(**fields)  # type: ignore[arg-type]
