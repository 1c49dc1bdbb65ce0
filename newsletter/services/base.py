"""The Service base class: settings lookup, the export template method, and safe HTTP calls.

Every mailing service runs the same fixed sequence, like anymail's ``AnymailBaseBackend``:
``export()`` calls ``build_payload`` (the email in the service's own shape) -> ``send`` (create or
update the draft, send tests) -> ``parse_result`` (what happened, for exports.json and the user).
``HttpService`` adds the draft bookkeeping shared by the API services (find by marker, create,
update, test) and one ``call()`` that every request goes through: timeouts, bounded retries on
429/5xx honouring Retry-After, the service's own error message on refusal, dry-run printing with
secrets redacted.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx

from newsletter.config import Config, env_setting, line_of
from newsletter.errors import ConfigError, ServiceError, SettingMissing, shown
from newsletter.manual import see
from newsletter.models import Links, RenderedEmail

Echo = Callable[[str], Any]
REDACTED = "***"


class Refused(ServiceError):
    """The service answered with a refusal; ``status`` is its HTTP status."""

    def __init__(self, service: str, message: str, status: int):
        self.status = status
        super().__init__(service, message)


@dataclass(frozen=True)
class Setting:
    """One setting a service reads: ``[export.<service>] key`` or ``NEWSLETTER_<SERVICE>_<KEY>``."""

    key: str
    help: str
    required: bool = True
    secret: bool = False
    default: str | None = None


# Settings every HTTP service understands; tests shorten them, users rarely need to.
HTTP_SETTINGS = (
    Setting("timeout", "seconds to wait for each request", required=False, default="30"),
    Setting("retries", "how many times to retry after a 429, a 5xx or a network error", required=False, default="3"),
    Setting("retry_base_delay", "first back-off delay in seconds (doubles each retry)", required=False, default="1"),
    Setting("retry_max_delay", "longest wait in seconds, also caps Retry-After", required=False, default="60"),
)

# Which "view online" link a service's drafts carry: the build's (the web archive's page, see
# docs/archive.md) or the service's own web version of the campaign (its merge tag).
VIEW_ONLINE = Setting(
    "view_online",
    '"archive": the footer\'s view-online link is the build\'s ([archive] url + <key>/, or [links] view_online); '
    '"service": the service\'s own web version (the default while [archive] url is not set)',
    required=False,
)
VIEW_ONLINE_CHOICES = ("archive", "service")


@dataclass(frozen=True)
class Features:
    """What a service can do, shown by ``newsletter export --list``."""

    draft: bool
    test_send: bool
    text_part: bool
    preheader: str  # where the preheader goes
    merge_tags: str  # how the footer links are expressed


@dataclass(frozen=True)
class Draft:
    """A draft as the service knows it."""

    remote_id: str
    url: str | None = None
    marker: str | None = None


@dataclass
class ExportJob:
    """Everything one export needs; ``export.py`` builds it from the build and exports.json."""

    config: Config
    issue_key: str
    email: RenderedEmail  # links still placeholder tokens
    standalone_links: Links  # the real footer URLs, for services that send the message themselves
    folder: Path
    dry_run: bool = False
    test_to: tuple[str, ...] = ()
    force_new: bool = False
    draft: Draft | None = None  # the draft exports.json records for this service (None with --new)
    marker: str = ""  # identifies the draft this export creates, stable across a crashed run
    begin_create: Callable[[str], None] = lambda marker: None  # persists the marker before creating
    content_hash: str = ""


@dataclass
class Outcome:
    """What ``send`` did, before ``parse_result`` turns it into an ExportResult."""

    action: str  # "created", "updated", "adopted", "written", "sent", "dry-run"
    draft: Draft | None = None
    detail: str = ""
    test_recipients: tuple[str, ...] = ()
    files: dict[str, Path] = field(default_factory=dict)


class Service:
    """One mailing service. Subclasses set the class attributes and fill in the three steps."""

    name: ClassVar[str]
    label: ClassVar[str]
    summary: ClassVar[str]
    features: ClassVar[Features]
    settings_spec: ClassVar[tuple[Setting, ...]] = ()
    docs_url: ClassVar[str] = ""

    def __init__(self, config: Config, *, echo: Echo = print, client: httpx.Client | None = None,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.echo = echo
        self._client = client
        self._transport = transport
        self.sleep = sleep
        self._secrets: set[str] = set()
        self.dry_run = False
        self.echo_error: Echo = echo  # progress and retries; export sends them to stderr
        self.values = self._load_settings()

    # ---- settings -------------------------------------------------------------------------

    def env_name(self, key: str) -> str:
        return f"NEWSLETTER_{self.name.upper()}_{key.upper()}"

    def _where(self, spec: Setting) -> str:
        env = self.env_name(spec.key)
        what = f"{spec.key} ({spec.help}): set the environment variable {env}"
        if spec.secret:
            return f"{what} (secrets are read only from the environment)"
        return f"{what}, or {spec.key} in [export.{self.name}] of {shown(self.config.path or 'newsletter.toml')}"

    def _load_settings(self) -> dict[str, str | None]:
        """Resolve every declared setting now, so all missing ones are reported together."""
        known = {spec.key for spec in self.settings_spec}
        for key in self.config.service_settings(self.name):
            if key not in known:
                raise ConfigError(
                    f"{line_of(self.config.path, f'export.{self.name}', key)}: unknown setting '{key}' in "
                    f"[export.{self.name}]. Known settings: {', '.join(sorted(known))}."
                )
        values: dict[str, str | None] = {}
        missing: list[Setting] = []
        for spec in self.settings_spec:
            value = self.setting(spec.key, required=False, secret=spec.secret)
            if value is None:
                value = self.default_for(spec.key, values) or spec.default
            if value is None and spec.required:
                missing.append(spec)
            values[spec.key] = value
        if missing:
            many = len(missing) != 1
            lines = [f"{self.label} needs {len(missing)} setting{'s' if many else ''} that {'are' if many else 'is'} "
                     "set nowhere:"]
            lines += [f"  {self._where(spec)}" for spec in missing]
            lines.append(see("services", self.label))
            raise SettingMissing(self.name, "\n".join(lines))
        return values

    def default_for(self, key: str, values: dict[str, str | None]) -> str | None:
        """A default computed from other settings (e.g. Mailchimp's data centre); none by default."""
        return None

    def setting(self, key: str, required: bool = True, secret: bool = False) -> str | None:
        """The environment's NEWSLETTER_<SERVICE>_<KEY> if set (it wins), else [export.<service>] key.

        A secret found in newsletter.toml is an error: the file is shared and committed, so the
        value must move to the environment. Its value is never shown.
        """
        table = self.config.service_settings(self.name)
        settings_file = shown(self.config.path or "newsletter.toml")
        if secret and key in table:
            raise ConfigError(
                f"{settings_file}: [export.{self.name}] {key} is a secret and must not be in "
                f"the settings file. Delete it there and set the environment variable {self.env_name(key)} instead."
            )
        value = env_setting(self.name, key)
        if value is None and key in table:
            raw = table[key]
            if isinstance(raw, list):
                value = ",".join(str(item) for item in raw)
            elif isinstance(raw, bool):
                value = "true" if raw else "false"
            elif isinstance(raw, (str, int, float)):
                value = str(raw)
            else:
                raise ConfigError(f"{settings_file}: [export.{self.name}] {key} must be a string, number or list.")
        if value is not None:
            value = value.strip()
            if secret and value:
                self._secrets.add(value)
        if not value:
            value = None
        if value is None and required:
            spec = next((s for s in self.settings_spec if s.key == key), Setting(key, key, secret=secret))
            raise SettingMissing(self.name, f"{self.label} needs {self._where(spec)}.")
        return value

    def get(self, key: str) -> str:
        value = self.values.get(key)
        if value is None:  # a bug: required settings were checked in _load_settings
            raise KeyError(key)
        return value

    def footer_tags(self, job: ExportJob, tags: Links) -> Links:
        """The service's footer merge tags, with ``view_online`` the build's link unless the service's own is chosen.

        ``view_online`` (VIEW_ONLINE) defaults to "archive" when ``[archive] url`` is set: the
        email then links to the same page in every export as in the standalone build.
        """
        choice = self.values.get("view_online") or ("archive" if job.config.archive.url else "service")
        if choice not in VIEW_ONLINE_CHOICES:
            where = line_of(self.config.path, f"export.{self.name}", "view_online")
            raise ConfigError(f"{where}: view_online for {self.label} ({self.env_name('view_online')} or "
                              f"[export.{self.name}] view_online) must be \"archive\" or \"service\", not {choice!r}.")
        return tags if choice == "service" else replace(tags, view_online=job.standalone_links.view_online)

    def number(self, key: str) -> float:
        value = self.values.get(key) or "0"
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"{self.label}: setting {key} ({self.env_name(key)}) must be a number, "
                              f"not {value!r}.") from None

    # ---- secrets --------------------------------------------------------------------------

    def add_secret(self, value: str) -> None:
        if value:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        """Replace every secret value (and any Authorization header) before text leaves the process."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return re.sub(r"(?i)(authorization:\s*\w+\s+)\S+", rf"\g<1>{REDACTED}", text)

    # ---- the template method -------------------------------------------------------------

    def export(self, job: ExportJob) -> Outcome:
        self.dry_run = job.dry_run
        payload = self.build_payload(job)
        outcome = self.send(payload, job)
        return self.parse_result(outcome, job)

    def build_payload(self, job: ExportJob) -> Any:
        raise NotImplementedError

    def send(self, payload: Any, job: ExportJob) -> Outcome:
        raise NotImplementedError

    def parse_result(self, outcome: Outcome, job: ExportJob) -> Outcome:
        return outcome

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


@dataclass(frozen=True)
class Response:
    """A parsed JSON answer (or the stand-in a dry run returns)."""

    status: int
    data: Any


class HttpService(Service):
    """A service behind a JSON HTTP API; subclasses fill in the draft operations."""

    # ---- draft operations the subclasses implement -----------------------------------------

    def find_draft(self, marker: str) -> Draft | None:
        """The unsent draft carrying ``marker`` (left by an interrupted run), if there is one."""
        found = self._find(marker)
        return self._draft(found, marker) if found else None

    def _find(self, marker: str) -> dict[str, Any] | None:
        """The service's record of the draft marked ``marker``, searched the service's way."""
        raise NotImplementedError

    def _draft(self, data: Any, marker: str | None) -> Draft:
        """A Draft from the service's answer about one draft."""
        raise NotImplementedError

    def create_draft(self, payload: Any, job: ExportJob) -> Draft:
        raise NotImplementedError

    def update_draft(self, draft: Draft, payload: Any, job: ExportJob) -> Draft:
        raise NotImplementedError

    def send_test(self, draft: Draft, payload: Any, recipients: tuple[str, ...]) -> None:
        raise NotImplementedError

    def error_message(self, response: httpx.Response) -> str:
        """The service's own words for a refusal; subclasses know their error format."""
        try:
            data = response.json()
        except ValueError:
            return response.text.strip()[:500] or response.reason_phrase
        if isinstance(data, dict):
            for key in ("detail", "message", "error", "title"):
                if isinstance(data.get(key), str):
                    return str(data[key])
        return json.dumps(data)[:500]

    # ---- the shared flow -------------------------------------------------------------------

    def send(self, payload: Any, job: ExportJob) -> Outcome:
        """Update the recorded draft, or adopt a draft an interrupted run created, or create one."""
        if job.draft is not None:
            try:
                draft = self.update_draft(job.draft, payload, job)
            except Refused as error:
                if error.status not in (404, 410):
                    raise
                raise ServiceError(self.name, (
                    f"the draft {job.draft.remote_id} recorded in exports.json is gone from {self.label} (deleted, or "
                    "already sent). Run the export again with --new to create a fresh draft.")) from None
            action = "updated"
        else:
            found = None if job.dry_run else self.find_draft(job.marker)
            if job.dry_run:
                self.echo(f"(would first look for a draft marked {job.marker} left by an interrupted run)")
            if found is not None:
                draft = self.update_draft(found, payload, job)
                action = "adopted"
            else:
                if not job.dry_run:
                    job.begin_create(job.marker)
                draft = self.create_draft(payload, job)
                action = "created"
        if job.test_to:
            self.send_test(draft, payload, job.test_to)
        return Outcome("dry-run" if job.dry_run else action, draft, test_recipients=job.test_to)

    # ---- HTTP ----------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        return self.get("api_url").rstrip("/")

    def auth_headers(self) -> dict[str, str]:
        return {}

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(transport=self._transport, timeout=httpx.Timeout(self.number("timeout")),
                                        headers={"User-Agent": "newsletter-export"})
        return self._client

    def call(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
             dry: Any = None, ok_missing: bool = False,
             recheck: Callable[[], Response | None] | None = None) -> Response:
        """One request: printed instead in a dry run; retried on 429/5xx; refusals become ServiceError.

        POSTs are not retried after a network error: the service may have acted before the
        connection dropped, and the next run's marker lookup finds what it made. Before a POST is
        retried after a 5xx, ``recheck`` looks for what it may have made all the same.
        """
        url = path if path.startswith("http") else f"{self.api_url}{path}"
        if self.dry_run:
            self.echo(self.redact(describe_request(method, url, params, json_body, self.auth_headers())))
            return Response(0, dry)
        retries = int(self.number("retries"))
        delay = self.number("retry_base_delay")
        max_delay = self.number("retry_max_delay")
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.client.request(method, url, json=json_body, params=params, headers=self.auth_headers())
            except httpx.TimeoutException:
                problem = f"did not answer within {self.number('timeout'):g} s"
                if method != "POST" and attempt <= retries:
                    self._wait(delay * 2 ** (attempt - 1), max_delay, problem)
                    continue
                raise ServiceError(self.name, self._network_advice(method, url, problem, attempt)) from None
            except httpx.TransportError as error:
                problem = f"connection failed ({type(error).__name__}: {self.redact(str(error)) or 'no detail'})"
                if method != "POST" and attempt <= retries:
                    self._wait(delay * 2 ** (attempt - 1), max_delay, problem)
                    continue
                raise ServiceError(self.name, self._network_advice(method, url, problem, attempt)) from None
            if response.status_code == 429 or response.status_code >= 500:
                if attempt <= retries:
                    wait = retry_after(response.headers.get("Retry-After"))
                    self._wait(wait if wait is not None else delay * 2 ** (attempt - 1), max_delay,
                               f"answered {response.status_code}")
                    if recheck is not None and response.status_code >= 500:
                        found = recheck()
                        if found is not None:
                            return found
                    continue
                raise ServiceError(self.name, self.redact(
                    f"{method} {url} failed with {response.status_code} after {attempt} tries: "
                    f"{self.error_message(response)}. The service is busy or failing; try again later."))
            if response.status_code == 404 and ok_missing:
                return Response(404, None)
            if response.status_code >= 400:
                raise Refused(self.name, self.redact(
                    f"{method} {url} was refused ({response.status_code}): {self.error_message(response)}"
                    + self.refusal_hint(response.status_code)), response.status_code)
            try:
                data = response.json() if response.content else None
            except ValueError:
                data = None
            return Response(response.status_code, data)

    def refusal_hint(self, status: int) -> str:
        if status in (401, 403):
            return f". Check the credentials in the NEWSLETTER_{self.name.upper()}_* environment variables."
        return ""

    def _network_advice(self, method: str, url: str, problem: str, attempts: int) -> str:
        advice = (f"{method} {url} {problem} (after {attempts} {'try' if attempts == 1 else 'tries'}). "
                  f"Check api_url ({self.env_name('api_url')}) and your network, then run the command again")
        if method == "POST":
            advice += ": the draft is looked up by its marker first, so it will not be created twice"
        return self.redact(advice + ".")

    def _wait(self, seconds: float, max_delay: float, why: str) -> None:
        seconds = max(0.0, min(seconds, max_delay))
        self.echo_error(f"  {self.label} {why}; retrying in {seconds:g} s")
        self.sleep(seconds)


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def describe_request(method: str, url: str, params: dict[str, Any] | None, body: Any,
                     headers: dict[str, str]) -> str:
    """A dry run's view of a request: method, URL, headers and a body with long texts shortened."""
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    lines = [f"{method} {url}{'?' + query if query else ''}"]
    lines += [f"  {name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines += ["  " + line for line in json.dumps(shorten(body), indent=2, ensure_ascii=False).splitlines()]
    return "\n".join(lines)


def shorten(value: Any, limit: int = 120) -> Any:
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}… ({len(value):,} characters)"
    if isinstance(value, dict):
        return {k: shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten(v, limit) for v in value]
    return value


def split_list(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def prepare_email(email: RenderedEmail, tags: Links, neutralise: Callable[[str], str],
                  neutralise_html: Callable[[str], str] | None = None) -> RenderedEmail:
    """Make article-derived text inert for the service's template language, then add its merge tags.

    The order matters: neutralising first means only the footer placeholders, swapped in
    afterwards, can become merge tags; nothing an article says can.
    """
    html_rule = neutralise_html or neutralise
    safe = RenderedEmail(neutralise(email.subject), neutralise(email.preheader), html_rule(email.html),
                         neutralise(email.text), email.lang, email.placeholders)
    return safe.with_links(tags, html_escape=False)
