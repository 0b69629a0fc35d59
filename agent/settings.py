"""Settings: read in this one place, from civicwatch.toml, then CIVICWATCH_* variables.

Precedence, lowest to highest: defaults, the TOML file, environment variables
(``CIVICWATCH_AGENT__CONCURRENCY=4``; ``__`` separates nested keys). Secret values are
references resolved here: ``env:NAME`` reads an environment variable, ``file:PATH`` reads
a file (systemd credentials, Docker secrets), ``cred:NAME`` reads
``$CREDENTIALS_DIRECTORY/NAME`` (systemd ``LoadCredential=``). Relative paths are relative
to the directory of the config file.
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

import agent
from agent import redact
from agent.detect.config import Kind, PolicySettings, RulesSettings
from agent.detect.content.hits import Severity
from agent.errors import ConfigError
from agent.units import ByteSize, DailyTime, Duration, ScheduleSpec, parse_daily, parse_schedule
from flows.base import CaptureLimits, Credentials
from flows.linkcheck import LinkPolicy
from flows.proxy import Proxy, parse_proxy
from flows.webscope import WebsiteScope
from flows.selectors import LoginSteps, SelectorMap

ENV_PREFIX = "CIVICWATCH_"
CONFIG_ENV = "CIVICWATCH_CONFIG"
DEFAULT_CONFIG = Path("civicwatch.toml")

#: the directory relative paths and file: secrets are resolved against during a load
_base_dir: contextvars.ContextVar[Path] = contextvars.ContextVar("base_dir", default=Path.cwd())


# -- secrets ------------------------------------------------------------------------------


class SecretValue(SecretStr):
    """A resolved secret that remembers where it came from (never what it is)."""

    source: str = "literal"
    #: why a channel reference could not be resolved (channels only; secrets raise instead)
    problem: str | None = None

    @property
    def is_reference(self) -> bool:
        return self.source != "literal"


def resolve_secret(value: object) -> SecretValue:
    """Turn ``env:NAME`` / ``file:PATH`` / ``cred:NAME`` / a literal into a SecretValue."""
    if isinstance(value, SecretValue):
        return value
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise ValueError("a secret must be text: a literal, 'env:NAME' or 'file:PATH'")
    source = "literal"
    if value.startswith("env:"):
        source, value = value, _read_env_secret(value[4:])
    elif value.startswith("file:"):
        source, value = value, _read_file_secret(_base_dir.get() / Path(value[5:]).expanduser())
    elif value.startswith("cred:"):
        source, value = value, _read_credential(value[5:])
    secret = SecretValue(value)
    secret.source = source
    redact.remember(value)
    return secret


def _read_env_secret(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise ValueError(f"'env:{name}' does not name an environment variable")
    if name not in os.environ:
        raise ValueError(f"environment variable {name} is not set")
    return os.environ[name]


def _read_file_secret(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"secret file {path} does not exist") from None
    except PermissionError:
        raise ValueError(f"secret file {path} is not readable by this user") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"secret file {path} cannot be read: {exc.__class__.__name__}") from None
    value = text.rstrip("\r\n")
    if not value:
        raise ValueError(f"secret file {path} is empty")
    return value


def _read_credential(name: str) -> str:
    directory = os.environ.get("CREDENTIALS_DIRECTORY")
    if not directory:
        raise ValueError(
            f"'cred:{name}' needs systemd's CREDENTIALS_DIRECTORY (LoadCredential=), which is not set"
        )
    return _read_file_secret(Path(directory) / name)


Secret = Annotated[SecretValue, BeforeValidator(resolve_secret)]


def resolve_channel(value: object) -> SecretValue:
    """Like a secret, but a reference that cannot be resolved disables the channel instead.

    The returned value is empty and carries ``problem``; the alert code skips it with one
    log line, so one missing webhook URL does not stop the daemon.
    """
    try:
        return resolve_secret(value)
    except ValueError as exc:
        disabled = SecretValue("")
        disabled.source = str(value) if isinstance(value, str) and ":" in value[:6] else "literal"
        disabled.problem = str(exc)
        return disabled


ChannelRef = Annotated[SecretValue, BeforeValidator(resolve_channel)]


def _relative_to_config(path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (_base_dir.get() / path)


ConfigPath = Annotated[Path, AfterValidator(_relative_to_config)]


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name like 'America/Chicago'") from None
    return name


# -- the settings tree --------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentSettings(_Strict):
    """``[agent]``: where data lives and how the process behaves."""

    data_dir: ConfigPath = Path("var")
    database_url: Secret | None = None
    concurrency: int = Field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)), ge=1, le=32)
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    #: key that encrypts saved browser sessions; default: a key file generated in data_dir/keys
    session_key: Secret | None = None
    #: the person or office that operates this installation (written into evidence)
    operator: str = ""
    #: hard wall-clock limit of one account's run (login, capture, storage)
    run_timeout: Duration = timedelta(minutes=10)
    #: credentials are submitted at most this often per account (a locked account is worse than a missed capture)
    login_attempts_per_hour: int = Field(2, ge=1)
    #: after a site refused a password, do not submit it again for this long
    login_pause_after_refusal: Duration = timedelta(hours=6)
    #: on SIGTERM, running captures get this long to finish before they are interrupted
    shutdown_grace: Duration = timedelta(seconds=60)
    #: runs are refused (and recorded as failed, which alerts) while less than this is free
    #: where evidence is written; 0 turns the check off
    min_free_space: ByteSize = 1024**3

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def sqlalchemy_url(self) -> str:
        """The database URL: the configured one, else SQLite in data_dir."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'civicwatch.db'}"


class BrowserSettings(_Strict):
    """``[browser]``: which Chromium, and how long to wait for it."""

    #: default: Playwright's own Chromium if installed, else the distribution's
    executable_path: ConfigPath | None = None
    headless: bool = True
    args: list[str] = []
    #: hosts the browser may contact (exact names or IPs); empty = any host
    allowed_hosts: list[str] = []
    viewport_width: int = Field(1280, ge=320, le=3840)
    viewport_height: int = Field(900, ge=320, le=4320)
    user_agent: str | None = None
    navigation_timeout: Duration = timedelta(seconds=30)
    step_timeout: Duration = timedelta(seconds=10)
    scroll_idle_timeout: Duration = timedelta(seconds=4)
    #: restart Chromium after this many runs, to bound its memory
    recycle_after: int = Field(50, ge=1)
    #: keep Chromium running between runs (faster start, more memory while idle)
    keep_warm: bool = False
    #: with keep_warm off, close Chromium this long after the last capture ends
    idle_close_after: Duration = timedelta(seconds=30)
    #: Chromiums to spread captures over; 0 = one per concurrent capture ([agent] concurrency).
    #: One per capture is fastest (screenshots do not queue in one browser process);
    #: 1 saves about 100 MB while captures run.
    instances: int = Field(0, ge=0, le=32)
    #: "fast": Chromium's speed-optimised PNG encoder (~3x faster, ~1.5x larger); "compact": smaller, slower
    screenshot_encoding: Literal["fast", "compact"] = "fast"
    #: full-page screenshots stop after this many pixels of height (at the viewport's width):
    #: a hostile or broken page can be millions of pixels tall, and Chromium cannot capture 2 GiB
    max_screenshot_height: int = Field(200_000, ge=1_000, le=300_000)

    def limits(self) -> CaptureLimits:
        """The capture time limits in the form adapters take."""
        ms = lambda d: int(d.total_seconds() * 1000)  # noqa: E731
        return CaptureLimits(
            navigation_ms=ms(self.navigation_timeout),
            step_ms=ms(self.step_timeout),
            scroll_idle_ms=ms(self.scroll_idle_timeout),
            screenshot_encoding=self.screenshot_encoding,
            max_screenshot_height=self.max_screenshot_height,
        )


def _retention(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == "permanent":
        return "permanent"
    return value


Retain = Annotated[Literal["permanent"] | Duration, BeforeValidator(_retention)]


class RetentionSettings(_Strict):
    """``[retention]``: how long records are kept after they stop being current."""

    #: "permanent" or a duration such as "3y"
    default: Retain = "permanent"
    #: per department, e.g. { Police = "7y" }
    departments: dict[str, Retain] = {}
    #: when the daemon runs the disposition job ("daily HH:MM", city time)
    schedule: DailyTime = parse_daily("daily 03:30")

    def for_account(self, account: Account) -> Literal["permanent"] | timedelta:
        """The account's own ``retain``, else its department's, else the default."""
        if account.retain is not None:
            return account.retain
        return self.departments.get(account.department, self.default)


def _check_listen(value: str) -> str:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{value!r} is not HOST:PORT, e.g. '127.0.0.1:8470'")
    return value


class WebSettings(_Strict):
    """``[web]``: where `civicwatch run` serves the portal, /healthz and /metrics."""

    listen: Annotated[str, AfterValidator(_check_listen)] = "127.0.0.1:8470"
    enabled: bool = True
    #: a portal session ends after this long without a request
    idle_timeout: Duration = timedelta(minutes=30)
    #: and after this long in any case
    session_lifetime: Duration = timedelta(hours=12)
    #: failed sign-ins before an account is locked for ``lockout``
    max_login_failures: int = Field(5, ge=1)
    lockout: Duration = timedelta(minutes=15)
    #: send cookies only over HTTPS (turn on behind a TLS proxy)
    secure_cookies: bool = False

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class EvidenceSettings(_Strict):
    """``[evidence]``: how captures are sealed."""

    #: an RFC 3161 Time Stamping Authority: every manifest hash is stamped (later, if it is down)
    tsa_url: str | None = None
    tsa_timeout: Duration = timedelta(seconds=20)
    #: the TSA's CA certificate (PEM): `civicwatch verify` then checks every token's signature
    tsa_ca_file: ConfigPath | None = None
    #: record each capture's network traffic as a WARC file (ISO 28500)
    warc: bool = True


def _check_network(value: str) -> str:
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ValueError(f"{value!r} is not an address range like '10.0.0.0/8' or '127.0.0.1'") from None
    return value


class LinkSettings(_Strict):
    """``[links]``: checking every link the city publishes."""

    enabled: bool = True
    #: requests in flight at once, over all hosts
    concurrency: int = Field(64, ge=1, le=512)
    #: requests in flight at once to one host (politeness)
    per_host: int = Field(4, ge=1, le=64)
    timeout: Duration = timedelta(seconds=15)
    #: extra attempts after a connect error, a timeout or a 502/503/504
    retries: int = Field(2, ge=0, le=10)
    max_redirects: int = Field(10, ge=1, le=50)
    #: the longest Retry-After civicwatch honours before asking again
    max_retry_after: Duration = timedelta(minutes=2)
    #: reuse a working link's result for this long (failures are re-checked every run)
    cache_for: Duration = timedelta(hours=1)
    #: a link is reported broken only after failing in this many consecutive runs
    failures_before_broken: int = Field(2, ge=1)
    #: detect 200 pages that really say "not found"
    soft_404: bool = True
    #: check that a link's #fragment names an element of the target page
    check_fragments: bool = True
    #: check links in comments written by the page itself
    page_comments: bool = True
    #: address ranges civicwatch may fetch although they are private or loopback
    allow_private: list[Annotated[str, AfterValidator(_check_network)]] = []
    #: hosts whose answers to HEAD are not trusted (always asked with GET)
    head_unreliable_hosts: list[str] = []
    user_agent: str | None = None
    #: the HTTP proxy for link checks: "http://[user:password@]host:port" (or an env:/file:/cred:
    #: reference holding one), or "none"; unset: the https_proxy/http_proxy variables Chromium uses
    proxy: Secret | None = None
    #: hosts reached directly although a proxy is set; unset: the no_proxy variable
    no_proxy: list[str] | None = None

    #: the proxies for http and https links, and the hosts that bypass them, found once
    #: when the settings are read
    _proxies: tuple[Proxy | None, Proxy | None] = PrivateAttr((None, None))
    _bypass: tuple[str, ...] = PrivateAttr(())

    @model_validator(mode="after")
    def _find_proxies(self) -> LinkSettings:
        if self.proxy is not None:
            value = self.proxy.get_secret_value().strip()
            proxy = None if value.lower() in ("", "none") else _proxy(value, "[links] proxy")
            self._proxies = (proxy, proxy)
        else:
            self._proxies = (_proxy(_environment("http_proxy"), "the environment variable http_proxy"),
                             _proxy(_environment("https_proxy"), "the environment variable https_proxy"))
        rules = self.no_proxy if self.no_proxy is not None else (_environment("no_proxy") or "").split(",")
        self._bypass = tuple(rule.strip() for rule in rules if rule.strip())
        return self

    def proxies(self) -> tuple[Proxy | None, Proxy | None]:
        """The proxy for http links and the one for https links (None: direct)."""
        return self._proxies

    def bypass(self) -> tuple[str, ...]:
        """Hosts reached directly although a proxy is set."""
        return self._bypass

    def policy(self) -> LinkPolicy:
        """The checker's view of these settings."""
        return LinkPolicy(
            concurrency=self.concurrency, per_host=self.per_host, timeout_s=self.timeout.total_seconds(),
            retries=self.retries, max_redirects=self.max_redirects,
            max_retry_after_s=self.max_retry_after.total_seconds(), soft_404=self.soft_404,
            check_fragments=self.check_fragments, allow_private=tuple(self.allow_private),
            head_unreliable_hosts=tuple(h.lower() for h in self.head_unreliable_hosts),
            user_agent=self.user_agent or f"civicwatch/{agent.__version__} (link check)",
            http_proxy=self._proxies[0], https_proxy=self._proxies[1], no_proxy=self._bypass,
        )


def _environment(name: str) -> str | None:
    """A proxy variable, lower case first as curl and Python read them."""
    return os.environ.get(name) or os.environ.get(name.upper()) or None


def _proxy(url: str | None, where: str) -> Proxy | None:
    """The proxy a URL names (its password remembered for redaction), or a ValueError naming ``where``."""
    if not url:
        return None
    try:
        proxy = parse_proxy(url)
    except ValueError as exc:
        fix = "" if where.startswith("[links]") else \
            '; set [links] proxy to an http:// proxy, or to "none" to check links without one'
        raise ValueError(f"{where}: {exc}{fix}") from None
    password = urlsplit(url if "://" in url else f"http://{url}").password
    if password:
        redact.remember(unquote(password))
    if proxy.authorization:
        redact.remember(proxy.authorization.decode("ascii").removeprefix("Basic "))
    return proxy


def totp_seed(text: str) -> str:
    """The TOTP seed as the one-time code generator takes it (base32, upper case, no spaces); pure.

    Sites show the seed grouped (``jbsw y3dp ehpk 3pxp``); that form is accepted too.
    Raises ValueError, without the seed in the message, when it is not base32.
    """
    seed = re.sub(r"[\s-]", "", text).upper().rstrip("=")
    try:
        decoded = base64.b32decode(seed + "=" * (-len(seed) % 8))
    except binascii.Error:
        decoded = b""
    if not decoded:
        raise ValueError("is not a TOTP seed: expected the base32 text the site showed when two-step "
                         "sign-in was set up (letters A-Z and digits 2-7)")
    return seed


class CredentialSettings(_Strict):
    """``[accounts.credentials]``: secrets are references (env:, file:, cred:)."""

    username: str
    password: Secret
    totp_secret: Secret | None = None

    @field_validator("totp_secret")
    @classmethod
    def _totp_seed(cls, value: SecretValue | None) -> SecretValue | None:
        if value is None:
            return None
        try:
            seed = SecretValue(totp_seed(value.get_secret_value()))
        except ValueError as exc:
            raise ValueError(f"{value.source if value.is_reference else 'the value'} {exc}") from None
        seed.source = value.source
        redact.remember(seed.get_secret_value())
        return seed

    def resolved(self) -> Credentials:
        """The credentials in the plain form adapters take."""
        return Credentials(self.username, self.password, self.totp_secret)


class RouteSettings(_Strict):
    """One ``[[alerts.routes]]``: which findings go to which channels."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    #: Apprise URLs, or env:/file:/cred: references holding one
    channels: list[ChannelRef] = []
    kinds: list[Kind] = []
    departments: list[str] = []
    accounts: list[str] = []
    min_severity: Severity = "low"
    #: this route gets the findings no other route matched
    default: bool = False
    #: unacknowledged for this long: sent again to escalate_to (one duration, or per severity)
    escalate_after: Duration | dict[Severity, Duration] | None = None
    escalate_to: str | None = None
    #: "daily HH:MM" (city time): a summary of the open findings this route covers
    digest: DailyTime | None = None
    attach_screenshot: bool = True

    def escalation_delay(self, severity: str) -> timedelta | None:
        """How long an open finding of this severity may wait before escalation."""
        if isinstance(self.escalate_after, dict):
            return self.escalate_after.get(severity)  # type: ignore[call-overload]
        return self.escalate_after


class AlertSettings(_Strict):
    """``[alerts]``: where supervisors hear about findings."""

    #: base URL of the clerk portal, for links in messages
    portal_url: str | None = None
    routes: list[RouteSettings] = []
    #: operational failures alert only after this many consecutive failed runs
    failures_before_alert: int = Field(2, ge=1)
    retry_initial: Duration = timedelta(seconds=30)
    retry_max: Duration = timedelta(minutes=30)
    #: a message still undelivered after this long is marked failed (`alerts flush --retry-failed`)
    give_up_after: Duration = timedelta(days=3)
    #: how long `civicwatch check` waits for its alerts to go out before leaving them queued
    check_wait: Duration = timedelta(seconds=30)

    @model_validator(mode="after")
    def _routes_consistent(self) -> AlertSettings:
        names = [r.name for r in self.routes]
        if len(set(names)) != len(names):
            raise ValueError("alert route names must be unique")
        for route in self.routes:
            if route.escalate_to and route.escalate_to not in names:
                raise ValueError(f"route {route.name!r}: escalate_to {route.escalate_to!r} is not a route")
            if route.escalate_to and route.escalate_after is None:
                raise ValueError(f"route {route.name!r}: escalate_to needs escalate_after")
        return self

    def route(self, name: str) -> RouteSettings | None:
        return next((r for r in self.routes if r.name == name), None)


AccountId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]


class Account(_Strict):
    """One ``[[accounts]]`` entry: a watched account and its policy."""

    id: AccountId
    name: str = Field(min_length=1)
    platform: str = "generic"
    url: str
    department: str = ""
    authorized_authors: list[str] = []
    public_posting: bool = False
    public_comments: bool = True
    schedule: ScheduleSpec = parse_schedule("every 1h")
    max_posts: int = Field(50, ge=1, le=2000)
    enabled: bool = True
    #: records retention for this account: "permanent" or e.g. "3y" (default: [retention])
    retain: Retain | None = None
    credentials: CredentialSettings | None = None
    login: LoginSteps | None = None
    selectors: SelectorMap | None = None
    #: platform "website": which pages to watch
    website: WebsiteScope | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError(f"{value!r} is not an http(s) URL")
        return value

    @model_validator(mode="after")
    def _platform_can_read_it(self) -> Account:
        from flows import registry

        try:
            adapter = registry.get(self.platform)
        except ConfigError as exc:
            raise ValueError(exc.message) from None
        problems = adapter.check_account(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    agent: AgentSettings = AgentSettings()
    browser: BrowserSettings = BrowserSettings()
    policy: PolicySettings = PolicySettings()
    rules: RulesSettings = RulesSettings()
    alerts: AlertSettings = AlertSettings()
    web: WebSettings = WebSettings()
    retention: RetentionSettings = RetentionSettings()
    evidence: EvidenceSettings = EvidenceSettings()
    links: LinkSettings = Field(default_factory=LinkSettings)  # reads the proxy variables: not at import
    accounts: list[Account] = []

    #: where these settings were read from (None: defaults and environment only)
    source: Path | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init values; the environment must win over it.
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _unique_ids(self) -> Settings:
        seen: set[str] = set()
        for account in self.accounts:
            if account.id in seen:
                raise ValueError(f"account id {account.id!r} is used twice")
            seen.add(account.id)
        return self

    def browser_instances(self) -> int:
        """How many Chromiums captures are spread over (``[browser] instances``, 0 = one per worker)."""
        return self.browser.instances or self.agent.concurrency

    def account(self, account_id: str) -> Account:
        """The account with this id, or a ConfigError naming the known ones."""
        for account in self.accounts:
            if account.id == account_id:
                return account
        known = ", ".join(a.id for a in self.accounts) or "none"
        raise ConfigError(f"no account {account_id!r} in {self.source or 'the configuration'} (known: {known})")


# -- loading ------------------------------------------------------------------------------


def config_path(explicit: Path | str | None) -> Path:
    """The config file to read: --config, else $CIVICWATCH_CONFIG, else ./civicwatch.toml."""
    if explicit:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    return Path(from_env) if from_env else DEFAULT_CONFIG


def load_settings(explicit: Path | str | None = None, *, require_file: bool = True) -> Settings:
    """Read and validate the settings; every problem is a ConfigError naming file and key."""
    path = config_path(explicit)
    data: dict[str, Any] = {}
    if path.exists() or require_file:
        data = read_toml(path)
    base = path.resolve().parent if path.exists() else Path.cwd()
    token = _base_dir.set(base)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        problems = [format_error(err, data) for err in exc.errors(include_url=False)]
        raise ConfigError(f"{path}: {len(problems)} problem(s) in the configuration", problems) from None
    finally:
        _base_dir.reset(token)
    settings.source = path.resolve() if path.exists() else None
    return settings


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, with errors that name the file and the line."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(
            f"configuration file {path} does not exist "
            f"(give one with --config or {CONFIG_ENV}; `civicwatch demo` writes an example)"
        ) from None
    except PermissionError:
        raise ConfigError(f"configuration file {path} is not readable by this user") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except IsADirectoryError:
        raise ConfigError(f"configuration path {path} is a directory, not a file") from None


_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required key is missing",
}


def format_error(err: Mapping[str, Any], data: Mapping[str, Any]) -> str:
    """One readable line for a validation error: key path, source and problem; pure.

    The offending value is never printed: it may be a secret.
    """
    loc = tuple(err["loc"])
    key = key_path(loc, data)
    message = _MESSAGES.get(err["type"], err["msg"])
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if err["type"] == "extra_forbidden":
        hint = suggest(loc)
        if hint:
            message += f" (did you mean {hint!r}?)"
    env = env_name(loc)
    where = f" (from environment variable {env})" if env and env in os.environ else ""
    return f"{key}{where}: {message}"


def key_path(loc: tuple[Any, ...], data: Mapping[str, Any]) -> str:
    """``('accounts', 0, 'selectors', 'psot')`` -> ``accounts[0] (id "parks").selectors.psot``."""
    out = ""
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f' (id "{node["id"]}")'
        else:
            out += f".{part}" if out else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def env_name(loc: tuple[Any, ...]) -> str | None:
    """The environment variable that would set this key, if it can be set by one."""
    if any(isinstance(p, int) for p in loc) or not loc:
        return None
    return ENV_PREFIX + "__".join(str(p).upper() for p in loc)


def suggest(loc: tuple[Any, ...]) -> str | None:
    """The closest known key name to an unknown one at this location."""
    import difflib

    model: Any = Settings
    for part in loc[:-1]:
        model = _child_model(model, part)
        if model is None:
            return None
    fields = list(getattr(model, "model_fields", {}))
    close = difflib.get_close_matches(str(loc[-1]), fields, n=1, cutoff=0.6)
    return close[0] if close else None


def _child_model(model: Any, part: Any) -> Any:
    import typing

    if isinstance(part, int):
        return model
    field = getattr(model, "model_fields", {}).get(part)
    if field is None:
        return None
    annotation = field.annotation
    for _ in range(3):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return annotation
        if not args:
            return None
        annotation = args[0]
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def systemd_environment() -> tuple[str | None, float | None]:
    """systemd's notify socket and watchdog interval (seconds), when run as a Type=notify unit."""
    socket_path = os.environ.get("NOTIFY_SOCKET")
    usec = os.environ.get("WATCHDOG_USEC")
    return socket_path, (int(usec) / 1_000_000 if usec and usec.isdigit() else None)
