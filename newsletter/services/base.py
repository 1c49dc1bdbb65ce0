"""The Service base class: settings lookup, the export template method, and safe HTTP calls.

Every mailing service runs the same fixed sequence, like anymail's ``AnymailBaseBackend``:
``export()`` calls ``build_payload`` (the email in the service's own shape) -> ``send`` (create or
update the draft, send tests) -> ``parse_result`` (what happened, for exports.json and the user).
``HttpService`` adds the draft bookkeeping shared by the API services (find by marker, create,
update, test) and one ``call()`` that every request goes through: a timeout on each read and a
deadline on the whole exchange, bounded retries on 429/5xx honouring Retry-After within a retry
budget for the whole export, the service's own error message on refusal, dry-run printing.
Every message a service produces, errors included, has its secrets redacted.

What a service declares, and what the base class holds it to:

- ``name``, ``label``, ``summary``, ``features``, ``docs_url`` and ``settings_spec`` (an HTTP
  service appends ``*HTTP_SETTINGS``: timeout, deadline, retries, retry_budget, delays). Each
  ``Setting`` has a kind (services/settings.py: seconds, ids, true/false, ...); the file's table
  and the environment are checked against it when the service is made, before anything is sent,
  so a service reads ``self.values`` (or ``number``, ``integer``, ``integers``, ``flag``) as valid.
- ``id_pattern`` and ``id_kind``: the format of the service's draft ids. An id read from
  exports.json or from an answer must match it in full before it goes into a URL; build
  Drafts with ``self.draft(id, url, marker)``, which checks the id and the link. Any other id
  taken from an answer into a URL (a template's, a version's) goes through
  ``self.answered_id(value, pattern, kind)``.
- For every request, ``call(method, path, expect=Expect(statuses, fields))``: the answer the
  API documents for success. A call succeeds only on one of those statuses with a JSON body
  holding those fields (dotted paths, with their JSON types; ``optional`` ones may be missing
  but have their type when there); anything else (a redirect, another status, HTML, JSON of
  another shape) is a ServiceError naming the service, the status and what to check. Without
  ``expect`` a call accepts any 2xx whose body, if any, is JSON.
- Diagnostics (a retry, a warning) go through ``self.warn`` (stderr, redacted), results through
  ``self.echo``; a draft's name carrying its marker is built with ``draft_name``.
- Optionally ``error_message`` (the service's error format), ``refusal_hint`` and
  ``auth_headers``; secrets it derives (an encoded token) go through ``add_secret``.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

import click
import httpx
from msgspec import Struct, field
from msgspec.structs import replace

from newsletter.config import Config, did_you_mean, env_setting, line_of
from newsletter.errors import ConfigError, ServiceError, SettingMissing, shown
from newsletter.manual import see
from newsletter.models import Links, RenderedEmail
from newsletter.services.deadline import Deadline, retry_after
from newsletter.services.redaction import (
    REDACTED,
    Secrets,
    describe_character,
    one_line,
    strip_credentials,
    unsafe_character,
    url_credentials,
    web_url,
)
from newsletter.services.settings import CHOICE, COUNT, SECONDS, Setting, env_value, file_value

Echo = Callable[[str], Any]
__all__ = ["REDACTED", "Deadline", "Draft", "Expect", "ExportJob", "Features", "HttpService", "Outcome", "Refused",
           "Response", "Service", "Setting", "DRY_ID", "HTTP_SETTINGS", "draft_name", "prepare_email", "split_list"]
DRY_ID = "<new id>"  # the id a dry run shows for a draft it would create
MAX_ANSWER = 32 * 1024 * 1024  # bytes: more is not an answer of an API this tool talks to
MARKER = re.compile(r"nl-[0-9A-Za-z][0-9A-Za-z_-]{0,63}-[0-9a-f]{8}")  # what export.py writes on a draft


class Refused(ServiceError):
    """The service answered with a refusal; ``status`` is its HTTP status."""

    def __init__(self, service: str, message: str, status: int):
        self.status = status
        super().__init__(service, message)


# Settings every HTTP service understands; tests shorten them, users rarely need to. With these
# defaults a service that never answers costs at most retry_budget (40 s), well under a minute.
HTTP_SETTINGS = (
    Setting("timeout", "seconds each connect or read may wait for the service", required=False, default="10",
            kind=SECONDS),
    Setting("deadline", "seconds one request may take in all, from connecting to the answer's last byte",
            required=False, default="20", kind=SECONDS),
    Setting("retries", "how many times one request is retried after a 429, a 5xx or a network error",
            required=False, default="3", kind=COUNT),
    Setting("retry_budget", "seconds an export may spend on failed tries and the waits between them, all "
            "requests together", required=False, default="40", kind=SECONDS),
    Setting("retry_base_delay", "first back-off delay in seconds (doubles each retry)", required=False, default="1",
            kind=SECONDS),
    Setting("retry_max_delay", "longest wait in seconds; a service asking (Retry-After) for longer ends the export",
            required=False, default="30", kind=SECONDS),
)

# Which "view online" link a service's drafts carry: the build's (the web archive's page, see
# docs/archive.md) or the service's own web version of the campaign (its merge tag).
VIEW_ONLINE = Setting(
    "view_online",
    '"archive": the footer\'s view-online link is the build\'s ([archive] url + <key>/, or [links] view_online); '
    '"service": the service\'s own web version (the default while [archive] url is not set)',
    required=False, kind=CHOICE, choices=("archive", "service"),
)


class Features(Struct, frozen=True):
    """What a service can do, shown by ``newsletter export --list``."""

    draft: bool
    test_send: bool
    text_part: bool
    preheader: str  # where the preheader goes
    merge_tags: str  # how the footer links are expressed


class Draft(Struct, frozen=True):
    """A draft as the service knows it."""

    remote_id: str
    url: str | None = None
    marker: str | None = None


class ExportJob(Struct):
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


class Outcome(Struct):
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
    # The service's draft ids; the default admits only letters, digits, "_" and "-": nothing
    # that could step out of a URL path. Services declare their own, exact format.
    id_pattern: ClassVar[re.Pattern[str]] = re.compile(r"[A-Za-z0-9_-]{1,64}")
    id_kind: ClassVar[str] = "draft id"

    def __init__(self, config: Config, *, echo: Echo = print, client: httpx.Client | None = None,
                 transport: httpx.BaseTransport | None = None, sleep: Callable[[float], None] = time.sleep,
                 warn: Echo | None = None):
        self.config = config
        self._secrets = Secrets()
        # Results go to ``echo``, diagnostics (retries, warnings) to ``warn`` (stderr by default);
        # both are redacted, whatever a service passes them.
        self.echo: Echo = lambda text: echo(self.redact(text))
        say = warn if warn is not None else (lambda text: click.echo(text, err=True))
        self.warn: Echo = lambda text: say(self.redact(text))
        self._client = client
        self._transport = transport
        self.sleep = sleep
        self.dry_run = False
        self._file = self.read_file_settings(config)  # [export.<name>], checked before anything else
        self.values = self._load_settings()

    # ---- settings -------------------------------------------------------------------------

    def env_name(self, key: str) -> str:
        return self.env_name_of(key)

    def _where(self, spec: Setting) -> str:
        env = self.env_name(spec.key)
        what = f"{spec.key} ({spec.help}): set the environment variable {env}"
        if spec.secret:
            return f"{what} (secrets are read only from the environment)"
        return f"{what}, or {spec.key} in [export.{self.name}] of {shown(self.config.path or 'newsletter.toml')}"

    @classmethod
    def read_file_settings(cls, config: Config) -> dict[str, str | None]:
        """``[export.<name>]`` of newsletter.toml, every key known and every value of its setting's kind.

        Each value comes back as the text the service reads (None: left empty). A problem is a
        ConfigError at the key's line saying what to write instead: an unknown key (with the
        nearest known one), a secret (those live in the environment only), a value of another
        kind. Checked before anything is sent, in a dry run as in a real export.
        """
        specs = {spec.key: spec for spec in cls.settings_spec}
        section = f"export.{cls.name}"
        values: dict[str, str | None] = {}
        for key, value in config.service_settings(cls.name).items():
            where = line_of(config.path, section, key)
            if config.path is not None and where == shown(config.path):  # inline: [export] name = { key = ... }
                where = line_of(config.path, "export", cls.name)
            spec = specs.get(key)
            if spec is None:
                known = (f"Known settings: {', '.join(sorted(specs))}.{did_you_mean(key, specs)}" if specs else
                         f"{cls.label} has no settings: delete the line (and the table if it is empty).")
                raise ConfigError(f"{where}: unknown setting '{key}' in [{section}]. {known}")
            if spec.secret:
                raise ConfigError(
                    f"{where}: [{section}] {key} is a secret and must not be in the settings file. Delete it there "
                    f"and set the environment variable {cls.env_name_of(key)} instead.")
            text = values[key] = file_value(spec, value, where, section)
            if text is not None:
                cls._check_text(f"{where}: [{section}] {key}", key, text, spec.secret, from_file=True)
        return values

    @classmethod
    def env_name_of(cls, key: str) -> str:
        return f"NEWSLETTER_{cls.name.upper()}_{key.upper()}"

    def _load_settings(self) -> dict[str, str | None]:
        """Resolve every declared setting now, so all missing ones are reported together."""
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

        Both are checked against the setting's kind (services/settings.py); a secret found in
        newsletter.toml is an error (read_file_settings): the file is shared and committed, so
        the value must move to the environment. A secret's value is never shown.
        """
        spec = next((s for s in self.settings_spec if s.key == key), Setting(key, key, secret=secret))
        value = env_setting(self.name, key)
        if value is not None:
            value = value.strip()
            if secret and value:
                self.add_secret(value)
            self._check_value(key, value, secret)
            value = env_value(spec, value, self.env_name(key))
        else:
            value = self._file.get(key)  # checked by read_file_settings
        if value is None and required:
            raise SettingMissing(self.name, f"{self.label} needs {self._where(spec)}.")
        return value

    def _check_value(self, key: str, value: str, secret: bool) -> None:
        """The environment's value: no control characters; a password written into a URL is kept secret."""
        credentials = self._check_text(f"The environment variable {self.env_name(key)}", key, value, secret,
                                       from_file=False)
        if credentials is None:
            return
        user, password = credentials
        for part in (password, unquote(password), f"{user}:{password}", f"{unquote(user)}:{unquote(password)}"):
            if len(part) > 1:
                self.add_secret(part)

    @classmethod
    def _check_text(cls, where: str, key: str, value: str, secret: bool, from_file: bool) -> tuple[str, str] | None:
        """No control characters in any setting, and no password written into a URL in the settings file.

        ``where`` names the value ("newsletter.toml:12: [export.x] key", or the environment
        variable); returns the (user, password) a URL from the environment carries, if any.
        """
        bad = unsafe_character(value)
        if bad is not None:
            shown_value = "" if secret else f" ({one_line(value, 80)!r})"
            raise ConfigError(f"{where}{shown_value} contains {describe_character(bad)}, which no {cls.label} "
                              "setting can hold (copied with the end of a line?). Set it again without it.")
        credentials = url_credentials(value)
        if credentials is not None and from_file:
            raise ConfigError(
                f"{where} holds a user name and password ({strip_credentials(value)} with \"...@\" before the "
                f"host). Credentials must not be in the settings file, which is shared: remove them there and set "
                f"the whole address in the environment variable {cls.env_name_of(key)} instead."
            )
        return credentials

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
        # Checked when the settings were read (VIEW_ONLINE is a CHOICE): "archive" or "service".
        choice = self.values.get("view_online") or ("archive" if job.config.archive.url else "service")
        return tags if choice == "service" else replace(tags, view_online=job.standalone_links.view_online)

    def integer(self, key: str) -> int:
        """A setting that is one whole number (a sender or template id); ConfigError naming it if not."""
        value = self.get(key)
        if not re.fullmatch(r"[0-9]{1,18}", value.strip()):
            raise ConfigError(f"{self.label} {key} must be a number ({self.env_name(key)} or [export.{self.name}] "
                              f"{key}), not {value!r}.")
        return int(value)

    def integers(self, key: str) -> list[int]:
        """A setting of comma-separated whole numbers (list ids, a template id); ConfigError naming it if not."""
        try:
            return [int(item) for item in split_list(self.values.get(key))]
        except ValueError:
            raise ConfigError(f"{self.label} {key} must be numbers separated by commas ({self.env_name(key)} or "
                              f"[export.{self.name}] {key}), not {self.values.get(key)!r}.") from None

    def number(self, key: str) -> float:
        """A numeric setting (0 when unset); not a finite number of zero or more is a ConfigError."""
        value = self.values.get(key) or "0"
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or number < 0:
            raise ConfigError(f"{self.label}: setting {key} ({self.env_name(key)}) must be a number of zero or "
                              f"more, not {one_line(value, 40)!r}.")
        return number

    def flag(self, key: str) -> bool:
        """A yes/no setting: true/false (also yes/no, on/off, 1/0); anything else is a ConfigError."""
        value = (self.values.get(key) or "false").lower()
        if value in ("true", "yes", "on", "1"):
            return True
        if value in ("false", "no", "off", "0"):
            return False
        raise ConfigError(f"{self.label}: setting {key} ({self.env_name(key)}) must be true or false, "
                          f"not {one_line(value, 40)!r}.")

    def check_id(self, value: object, pattern: re.Pattern[str] | None = None) -> str | None:
        """``value`` as an id string if it has the service's id format (``id_pattern``, or ``pattern``), else None."""
        if isinstance(value, bool) or not isinstance(value, (str, int)):
            return None
        text = str(value)
        return text if (pattern or self.id_pattern).fullmatch(text) else None

    # ---- secrets --------------------------------------------------------------------------

    def add_secret(self, value: str) -> None:
        """Keep ``value`` (in every form it can take, see redaction.py) out of every message."""
        self._secrets.add(value)

    def redact(self, text: str) -> str:
        """Replace every secret (and any Authorization header value) before text leaves the process."""
        return self._secrets.redact(text)

    # ---- the template method -------------------------------------------------------------

    def export(self, job: ExportJob) -> Outcome:
        self.dry_run = job.dry_run
        try:
            payload = self.build_payload(job)
            outcome = self.send(payload, job)
            return self.parse_result(outcome, job)
        except click.ClickException as error:
            # Whatever a step put in its message (a server's reply, a library's error), no secret leaves.
            # (``message`` is typed Final in click, hence vars(): the value is replaced, not the attribute.)
            vars(error)["message"] = self.redact(error.message)
            raise

    def build_payload(self, job: ExportJob) -> Any:
        raise NotImplementedError

    def send(self, payload: Any, job: ExportJob) -> Outcome:
        raise NotImplementedError

    def parse_result(self, outcome: Outcome, job: ExportJob) -> Outcome:
        return outcome

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class Response(Struct, frozen=True):
    """A parsed JSON answer (or the stand-in a dry run returns)."""

    status: int
    data: Any


JsonType = type | tuple[type, ...]


class Expect(Struct, frozen=True, eq=False):
    """The answer an API documents for a successful call: its statuses, and the JSON fields it holds.

    ``fields`` maps a dotted path (``"data.id"``) to the JSON type(s) there: ``str``, ``int``,
    ``float``, ``bool``, ``list``, ``dict`` or ``type(None)`` (an int is never taken for a
    bool). ``optional`` does the same for fields an API documents but may leave out (an
    empty list, say): missing is fine, present with another type is not. ``body`` is "json"
    (a JSON body must come), "maybe" (JSON if there is a body) or "ignored" (e.g. a 204, or
    an answer the API does not describe).
    """

    statuses: tuple[int, ...] = (200,)
    fields: Mapping[str, JsonType] = field(default_factory=dict)
    body: str = "json"
    what: str = ""  # what the answer is, for messages: "the new campaign"
    optional: Mapping[str, JsonType] = field(default_factory=dict)

    def problem(self, data: Any) -> str | None:
        """Why ``data`` is not the documented answer, or None when it is."""
        if (self.fields or self.optional) and not isinstance(data, dict):
            return f"it is {_json_kind(data)}, not an object"
        for paths, required in ((self.fields, True), (self.optional, False)):
            for path, kind in paths.items():
                value = data
                for key in path.split("."):
                    if not isinstance(value, dict) or key not in value:
                        value = _MISSING
                        break
                    value = value[key]
                if value is _MISSING:
                    if required:
                        return f"{path} is missing"
                    continue
                kinds = kind if isinstance(kind, tuple) else (kind,)
                if not any(_is(value, k) for k in kinds):
                    return f"{path} is {_json_kind(value)}, not {' or '.join(_json_kind_name(k) for k in kinds)}"
        return None


_MISSING = object()


ANY_SUCCESS = Expect(statuses=(200, 201, 202, 204), body="maybe")


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _json_kind_name(kind: type) -> str:
    return {bool: "true/false", int: "a whole number", float: "a number", str: "a string", list: "a list",
            dict: "an object", type(None): "null"}.get(kind, kind.__name__)


class _Unanswered(Exception):
    """No usable answer came: a timeout, the deadline, a dropped or refused connection."""

    def __init__(self, problem: str):
        self.problem = problem
        super().__init__(problem)


class HttpService(Service):
    """A service behind a JSON HTTP API; subclasses fill in the draft operations."""

    def __init__(self, config: Config, **options: Any):
        super().__init__(config, **options)
        self._spent = 0.0  # seconds of this export gone to failed tries and waits (the retry budget)
        self.clock: Callable[[], float] = time.monotonic  # tests replace it (and ``sleep``) to count time
        self._check_api_url()
        for spec in self.settings_spec:
            value = self.values.get(spec.key)
            bad = unsafe_character(value, ascii_only=True) if spec.secret and value else None
            if bad is not None:  # API keys and tokens are ASCII: this one was copied with something extra
                raise ConfigError(
                    f"The environment variable {self.env_name(spec.key)} contains {describe_character(bad)}, but "
                    f"{self.label}'s keys and tokens are plain ASCII: the value was probably copied with an extra "
                    f"character. Copy it again from {self.label}."
                )

    # ---- draft operations the subclasses implement -----------------------------------------

    def find_draft(self, marker: str) -> Draft | None:
        """The unsent draft carrying ``marker`` (left by an interrupted run), if there is one."""
        found = self._find(marker)
        return self._draft(found, marker) if found else None

    def _find(self, marker: str) -> dict[str, Any] | None:
        """The service's record of the draft marked ``marker``, searched the service's way."""
        raise NotImplementedError

    def _draft(self, data: Any, marker: str | None) -> Draft:
        """A Draft from the service's answer about one draft (build it with ``self.draft``)."""
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
            return describe_body(response.headers.get("Content-Type", ""), response.content)
        if isinstance(data, dict):
            for key in ("detail", "message", "error", "title"):
                if isinstance(data.get(key), str):
                    return one_line(str(data[key]))
            errors = data.get("errors")  # SendGrid's and Kit's shape: a list of messages
            if isinstance(errors, list) and errors:
                return one_line(field_errors(errors))
        return one_line(json.dumps(data, ensure_ascii=False))

    def draft(self, remote_id: Any, url: Any = None, marker: str | None = None) -> Draft:
        """A Draft from an answer, once its id has the service's format (it goes into URLs) and its link is safe."""
        return Draft(self.answered_id(remote_id), web_url(url), marker)

    def answered_id(self, value: Any, pattern: re.Pattern[str] | None = None, kind: str | None = None) -> str:
        """An id from an answer, checked before it goes into a URL; anything else is a ServiceError.

        By default the id of a draft (``id_pattern``, ``id_kind``); ``pattern`` and ``kind``
        check another id the same way (e.g. a SendGrid template's). A dry run's stand-in answers
        pass as they are (``DRY_ID`` when they hold none).
        """
        if self.dry_run:
            return str(value) if value is not None else DRY_ID
        checked = self.check_id(value, pattern)
        if checked is not None:
            return checked
        got = "no id" if value is None else f"{one_line(str(value), 80)!r}"
        what = kind or f"the draft's {self.id_kind}"
        raise ServiceError(self.name, (
            f"{self.label} answered with {got} where its API gives {what}, so the answer cannot be trusted and "
            f"nothing was recorded. Check api_url ({self.env_name('api_url')}) points at {self.label}'s API; if a "
            "draft was made, the next run finds it by its marker."))

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
            # No kept-alive connections: each request opens its own, which its deadline watches.
            # Redirects are never followed (httpx's default): credentials go only to api_url.
            self._client = httpx.Client(transport=self._transport, timeout=httpx.Timeout(self.number("timeout")),
                                        headers={"User-Agent": "newsletter-export"}, follow_redirects=False,
                                        limits=httpx.Limits(max_keepalive_connections=0))
        return self._client

    def call(self, method: str, path: str, *, json_body: Any = None, params: dict[str, Any] | None = None,
             dry: Any = None, ok_missing: bool = False, recheck: Callable[[], Response | None] | None = None,
             expect: Expect | None = None) -> Response:
        """One request: printed instead in a dry run; retried on 429/5xx; refusals become ServiceError.

        It succeeds only on ``expect`` (default: any 2xx, JSON if there is a body). Each try has
        ``timeout`` per read and ``deadline`` in all; tries stop after ``retries`` retries or
        once the export's ``retry_budget`` is spent. POSTs are not retried after a network
        error: the service may have acted before the connection dropped, and the next run's
        marker lookup finds what it made. Before a POST is retried after a 5xx, ``recheck``
        looks for what it may have made all the same.
        """
        expect = expect or ANY_SUCCESS
        url = self._url(path)
        if self.dry_run:
            self.echo(describe_request(method, strip_credentials(url), params, json_body, self.auth_headers()))
            return Response(0, dry)
        headers = self._checked_headers()
        retries = int(self.number("retries"))
        attempt = 0
        while True:
            attempt += 1
            started = self.clock()
            try:
                response, content = self._exchange(method, url, json_body, params, headers, self._time_for(attempt))
            except _Unanswered as failure:
                self._spent += self.clock() - started
                wait = self._retry_wait(attempt, retries, None) if method != "POST" else None
                if wait is not None:
                    self._wait(wait, failure.problem)
                    continue
                raise ServiceError(self.name, self._network_advice(method, url, failure.problem, attempt)) from None
            status = response.status_code
            if status == 429 or status >= 500:
                self._spent += self.clock() - started
                asked = retry_after(response.headers.get("Retry-After"))
                wait = self._retry_wait(attempt, retries, asked)
                if wait is not None:
                    self._wait(wait, f"answered {status}")
                    if recheck is not None and status >= 500:
                        found = recheck()
                        if found is not None:
                            return found
                    continue
                raise ServiceError(self.name, self._gave_up(method, url, response, content, attempt, asked))
            if status == 404 and ok_missing:
                return Response(404, None)
            return self._accept(method, url, response, content, expect)

    def refusal_hint(self, status: int) -> str:
        if status in (401, 403):
            return f". Check the credentials in the NEWSLETTER_{self.name.upper()}_* environment variables."
        return ""

    # ---- one try ---------------------------------------------------------------------------

    def _exchange(self, method: str, url: str, body: Any, params: dict[str, Any] | None,
                  headers: dict[str, str], limit: tuple[float, str]) -> tuple[httpx.Response, bytes]:
        """Send one request and read its whole answer, within ``limit`` (seconds, and what sets them)."""
        seconds, what = limit
        per_read = min(self.number("timeout") or seconds, seconds)
        with Deadline(seconds, what) as deadline:
            try:
                request = self.client.build_request(method, url, json=body, params=params, headers=headers,
                                                    timeout=httpx.Timeout(per_read),
                                                    extensions={"trace": deadline.trace})
                response = self.client.send(request, stream=True)
                try:
                    content = self._read_answer(method, url, response)
                finally:
                    response.close()
            except httpx.TimeoutException:
                if per_read < (self.number("timeout") or seconds):  # the read waited as long as the limit allowed
                    deadline.expired = True
                raise _Unanswered(deadline.problem() or f"did not answer within {per_read:g} s") from None
            except httpx.DecodingError as error:
                if deadline.expired:
                    raise _Unanswered(deadline.problem()) from None
                encoding = one_line(response.headers.get("Content-Encoding", "?"), 40)
                raise ServiceError(self.name, (
                    f"{self._said(method, url)} answered {response.status_code} with a body that cannot be decoded "
                    f"(Content-Encoding: {encoding}: {one_line(str(error), 200)}). Something between here and "
                    f"{self.label} (a proxy?) damages its answers: check api_url ({self.env_name('api_url')}) and your "
                    f"network{self._after_post(method)}.")) from None
            except httpx.TransportError as error:
                detail = one_line(str(error), 300) or "no detail"
                raise _Unanswered(deadline.problem() or f"connection failed ({type(error).__name__}: {detail})") \
                    from None
            if deadline.expired:  # a body ended by closing the connection may look complete
                raise _Unanswered(deadline.problem())
        return response, content

    def _read_answer(self, method: str, url: str, response: httpx.Response) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_ANSWER:
                raise ServiceError(self.name, (
                    f"{self._said(method, url)} answered {response.status_code} with more than "
                    f"{MAX_ANSWER // 2**20} MB, which is no answer of {self.label}'s API. Check api_url "
                    f"({self.env_name('api_url')}){self._after_post(method)}."))
            chunks.append(chunk)
        return b"".join(chunks)

    def _accept(self, method: str, url: str, response: httpx.Response, content: bytes, expect: Expect) -> Response:
        """The answer as a Response if it is the documented success; anything else is a ServiceError."""
        status = response.status_code
        where = self._said(method, url)
        check = f"Check api_url ({self.env_name('api_url')})"
        if 300 <= status < 400:
            raise ServiceError(self.name, self._redirected(where, url, status, response.headers.get("Location")))
        if status >= 400:
            settled = httpx.Response(status, headers=_plain_headers(response), content=content,
                                     request=response.request)
            raise Refused(self.name, f"{where} was refused ({status}): {_clause(self.error_message(settled))}"
                          + self.refusal_hint(status), status)
        if status not in expect.statuses:
            documented = " or ".join(str(s) for s in expect.statuses)
            raise ServiceError(self.name, (
                f"{where} answered {status}, where {self.label}'s API answers {documented}, so it is not taken as "
                f"done. {check} points at {self.label}'s API{self._after_post(method)}."))
        if expect.body == "ignored" or (expect.body == "maybe" and not content.strip()):
            return Response(status, None)
        try:
            data = json.loads(content)
        except ValueError:
            what = describe_body(response.headers.get("Content-Type", ""), content)
            raise ServiceError(self.name, (
                f"{where} answered {status} with {what}, not the JSON {self.label}'s API answers. {check}: it "
                f"must be the address of the API, not of a web page or a sign-in page{self._after_post(method)}."
            )) from None
        problem = expect.problem(data)
        if problem is not None:
            what = expect.what or f"an answer of {self.label}'s API"
            raise ServiceError(self.name, (
                f"{where} answered {status} with JSON that is not {what}: {problem}. {check} points at "
                f"{self.label}'s API{self._after_post(method)}."))
        return Response(status, data)

    def _redirected(self, where: str, url: str, status: int, location: str | None) -> str:
        target = one_line(strip_credentials(location or ""), 200)
        hint = f"Check api_url ({self.env_name('api_url')})"
        try:
            origin, moved = httpx.URL(url), httpx.URL(url).join(location or "")
        except (httpx.InvalidURL, ValueError, TypeError):
            moved = None
        if moved is not None and moved.host != origin.host:
            hint += f": its host should probably be {one_line(moved.host, 100)}, not {origin.host}"
            if moved.scheme != origin.scheme:
                hint += f", and its scheme {moved.scheme}://"
        elif moved is not None and moved.scheme != origin.scheme:
            hint += f": its scheme should probably be {moved.scheme}://, not {origin.scheme}://"
        elif moved is not None:
            hint += ": the service wants another path"
        return (f"{where} answered {status}, a redirect to {target or '(no address given)'}. Redirects are never "
                f"followed (your credentials go to api_url only), so nothing was done. {hint}.")

    def _gave_up(self, method: str, url: str, response: httpx.Response, content: bytes, attempts: int,
                 asked: float | None) -> str:
        settled = httpx.Response(response.status_code, headers=_plain_headers(response), content=content,
                                 request=response.request)
        said = _clause(self.error_message(settled))
        tries = f"{attempts} {'try' if attempts == 1 else 'tries'}"
        if asked is not None and asked > min(self.number("retry_max_delay"), self._budget_left()):
            return (f"{self._said(method, url)} failed with {response.status_code} ({said}) and {self.label} asks to "
                    f"wait {asked:g} s before trying again (Retry-After), longer than this export waits. "
                    "Try again later.")
        return (f"{self._said(method, url)} failed with {response.status_code} after {tries}: {said}. The service is "
                f"busy or failing; try again later.")

    def _network_advice(self, method: str, url: str, problem: str, attempts: int) -> str:
        advice = (f"{self._said(method, url)} {problem} (after {attempts} {'try' if attempts == 1 else 'tries'}). "
                  f"Check api_url ({self.env_name('api_url')}) and your network, then run the command again")
        if method == "POST":
            advice += ": the draft is looked up by its marker first, so it will not be created twice"
        return advice + "."

    # ---- retries ----------------------------------------------------------------------------

    def _budget_left(self) -> float:
        return self.number("retry_budget") - self._spent

    def _time_for(self, attempt: int) -> tuple[float, str]:
        """Seconds this try may take and what sets them: the deadline, or for a retry the budget left."""
        deadline = self.number("deadline") or 24 * 3600.0
        left = self._budget_left()
        if attempt > 1 and left < deadline:
            return max(0.1, left), f"retry budget ({self.number('retry_budget'):g} s, {self.env_name('retry_budget')})"
        return deadline, "deadline"

    def _retry_wait(self, attempt: int, retries: int, asked: float | None) -> float | None:
        """Seconds to wait before trying again, or None when the retries or the budget are spent."""
        if attempt > retries:
            return None
        max_delay = self.number("retry_max_delay")
        if asked is not None and asked > max_delay:
            return None
        wait = asked if asked is not None else self.number("retry_base_delay") * 2 ** (attempt - 1)
        wait = min(wait, max_delay)
        # Retry only if the budget leaves the next try a fair chance (a second, or a whole timeout).
        if self._spent + wait + min(1.0, self.number("timeout") or 1.0) > self.number("retry_budget"):
            return None
        return wait

    def _wait(self, seconds: float, why: str) -> None:
        self.warn(f"  {self.label} {why}; retrying in {seconds:g} s")
        self._spent += seconds
        self.sleep(seconds)

    # ---- checks -----------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        """The request's URL; a full URL from an answer (a next page) must be on api_url's own origin."""
        if not path.startswith(("http://", "https://")):
            return f"{self.api_url}{path}"
        try:
            base, there = httpx.URL(self.api_url), httpx.URL(path)
        except httpx.InvalidURL:
            there = None
        if there is None or (there.scheme, there.host, there.port) != (base.scheme, base.host, base.port):
            raise ServiceError(self.name, (
                f"{self.label} answered with a link to {one_line(strip_credentials(path), 120)} to follow, which is "
                f"not on its own address ({strip_credentials(self.api_url)}); it was not followed, so your "
                f"credentials stay with {self.label}. Check api_url ({self.env_name('api_url')})."))
        return path

    def _checked_headers(self) -> dict[str, str]:
        headers = self.auth_headers()
        for value in headers.values():
            bad = unsafe_character(value, ascii_only=True)
            if bad is not None:
                raise ConfigError(
                    f"{self.label}: the credentials (the NEWSLETTER_{self.name.upper()}_* settings) contain "
                    f"{describe_character(bad)}, which an HTTP header cannot carry: the value was probably copied with "
                    "an extra character. Copy it again from the service."
                )
        return headers

    def _check_api_url(self) -> None:
        value = self.values.get("api_url")
        if value is None:
            return
        try:
            url = httpx.URL(value)
        except httpx.InvalidURL:
            url = None
        if url is None or url.scheme not in ("http", "https") or not url.host:
            raise ConfigError(f"{self.label}: api_url ({self.env_name('api_url')}) must be a web address starting with "
                              f"https://, not {one_line(strip_credentials(value), 120)!r}.")
        if url.scheme == "http" and url.host not in ("localhost", "127.0.0.1", "::1", "[::1]"):
            self.warn(f"Warning: {self.label} api_url uses http://, so your credentials cross the network "
                      f"unencrypted to {url.host}. Use https:// if {self.label} offers it.")

    def _said(self, method: str, url: str) -> str:
        return f"{method} {one_line(strip_credentials(url), 300)}"

    @staticmethod
    def _after_post(method: str) -> str:
        return "; if a draft was made all the same, the next run finds it by its marker" if method == "POST" else ""


def describe_body(content_type: str, content: bytes) -> str:
    """What a non-JSON body is, in a few words: an HTML page (with its title), some text, or nothing."""
    kind = content_type.split(";")[0].strip().lower()
    if not content.strip():
        return "an empty body"
    if "html" in kind or content.lstrip()[:1] == b"<":
        title = re.search(rb"<title[^>]*>(.*?)</title", content[:65536], re.IGNORECASE | re.DOTALL)
        named = one_line(title.group(1).decode("utf-8", "replace"), 80) if title else ""
        return f"an HTML page{f' titled {named!r}' if named else ''}"
    text = one_line(content[:600].decode("utf-8", "replace"), 300)
    return f"{one_line(kind, 60) or 'a body'} that is not JSON ({text!r})"


def _clause(text: str) -> str:
    """A service's sentence ready to be followed by our own: without its final full stop."""
    return text.strip().rstrip(".").strip() or "no explanation given"


def _plain_headers(response: httpx.Response) -> list[tuple[str, str]]:
    """The answer's headers for a copy holding the decoded body (so it is not decoded twice)."""
    skip = {"content-encoding", "content-length", "transfer-encoding"}
    return [(k, v) for k, v in response.headers.items() if k.lower() not in skip]


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


_MARKER_IN_NAME = re.compile(r"\[(nl-[A-Za-z0-9_-]+)\]")


def named_marker(name: object) -> str | None:
    """The marker in a draft's name, title or note (``... [nl-2026-W48-1a2b3c4d]``), if it has one."""
    match = _MARKER_IN_NAME.search(name) if isinstance(name, str) else None
    return match.group(1) if match else None


def with_marker(name: str, marker: str) -> str:
    """``name`` with its bracketed marker replaced by ``marker`` (kept when a draft is updated)."""
    return _MARKER_IN_NAME.sub(f"[{marker}]", name)


def template_neutralisers(openers: tuple[str, ...]) -> tuple[Callable[[str], str], Callable[[str], str]]:
    """(for text, for HTML): article text made inert for a template language opened by ``openers``.

    In text an invisible WORD JOINER breaks each opener (``{{`` -> ``{⁠{``); in HTML the brace
    becomes its character reference (``&#123;{``), which no template engine reads as syntax.
    """

    def text(value: str) -> str:
        for opener in openers:
            value = value.replace(opener, opener[0] + "\u2060" + opener[1])
        return value

    def html(value: str) -> str:
        for opener in openers:
            value = value.replace(opener, "&#123;" + opener[1])
        return value

    return text, html


def field_errors(errors: list[Any]) -> str:
    """An API's list of errors as one text: ``"name: is too long; subject: is required"``.

    Each item is a message (Kit: ``["..."]``) or a ``{"field", "message"}`` object (SendGrid,
    Mailchimp's per-field errors).
    """
    parts = []
    for error in errors:
        if isinstance(error, dict):
            field = error.get("field")
            parts.append(f"{field}: {error.get('message')}" if field else str(error.get("message")))
        else:
            parts.append(str(error))
    return "; ".join(parts)


def draft_name(publication: str, key: str, marker: str, limit: int = 100) -> str:
    """'Saigon Sentinel 2026-W48 [nl-2026-W48-1a2b3c4d]', the publication's name cut to fit ``limit``.

    For services that find a draft by its name (Brevo, SendGrid) or note (Kit): the bracketed
    marker is how a later run finds a draft an interrupted run created. ``limit`` is the
    service's longest name in characters (SendGrid's single send name: 100).
    """
    tail = f" {key} [{marker}]"
    return publication[: max(0, limit - len(tail))].rstrip() + tail


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
