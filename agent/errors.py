"""The one exception hierarchy of civicwatch.

Foreign errors (Playwright, SQLAlchemy, HTTP, OS) are translated into these at the
boundary where they occur (``raise CaptureTimeout(...) from exc``), so the rest of
the code, the CLI and the findings only ever see this vocabulary.

    CivicwatchError
    ├── ConfigError              bad or unreadable civicwatch.toml / environment / secret
    ├── StorageError             database or blob store unusable
    │   ├── IntegrityError       a stored byte no longer matches its recorded hash
    │   └── DiskFull             less free space than [agent] min_free_space: runs are refused
    ├── BrowserUnavailable       Chromium cannot be found or launched
    ├── InternalError            a bug: an error nobody translated; its run fails, the log has the traceback
    └── CaptureError             one account could not be captured (a run fails)
        ├── LoginFailed          credentials refused, MFA refused
        │   ├── LoginRequired    not signed in, and no credentials were offered
        │   └── Blocked          CAPTCHA, checkpoint, lockout: a human must look
        ├── CaptureTimeout       the page or a step did not finish within its limit
        ├── SiteUnavailable      the site answered with an error or not at all
        └── SelectorMissing      the page loaded but the expected elements are absent
"""

from __future__ import annotations


class CivicwatchError(Exception):
    """Base class of every error civicwatch raises on purpose."""

    #: short machine-readable name used in JSON output and findings
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(CivicwatchError):
    """The configuration (file, environment or a secret reference) is invalid."""

    code = "config"

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {p}" for p in self.problems)


class StorageError(CivicwatchError):
    """The database or the blob store cannot be used."""

    code = "storage"


class IntegrityError(StorageError):
    """Stored bytes or records do not match the hash recorded for them."""

    code = "integrity"


class DiskFull(StorageError):
    """Less free disk space than ``[agent] min_free_space`` where evidence is written."""

    code = "disk_full"


class BrowserUnavailable(CivicwatchError):
    """No usable Chromium: not installed, not executable, or it crashed at launch."""

    code = "browser"


class InternalError(CivicwatchError):
    """An unexpected error inside civicwatch (a bug); the run fails and names it, the others go on."""

    code = "internal"


class CaptureError(CivicwatchError):
    """A capture of one account failed; the run is recorded as failed with this reason."""

    code = "capture_failed"


class LoginFailed(CaptureError):
    """The platform refused the login (wrong password, MFA refused, session unusable)."""

    code = "login_failed"


class LoginRequired(LoginFailed):
    """The saved session is not signed in and no credentials were given for this attempt."""

    code = "login_failed"


class Blocked(LoginFailed):
    """A CAPTCHA, checkpoint or lockout stands between civicwatch and the account."""

    code = "blocked"


class CaptureTimeout(CaptureError):
    """A navigation or a step did not complete within its time limit."""

    code = "timeout"


class SiteUnavailable(CaptureError):
    """The site answered with a server error, or could not be reached at all."""

    code = "site_unavailable"


class SelectorMissing(CaptureError):
    """The page loaded but the elements the adapter reads are not there."""

    code = "selector_missing"
