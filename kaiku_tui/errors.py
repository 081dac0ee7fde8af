"""The errors a person may see, each with the exit code of the command-line contract.

Every error here carries a message meant for a person: one line that names the
file, key, argument or record and says what is wrong. The CLI prints `str(err)`
and exits with `err.exit_code`; nothing else turns into a traceback.
"""

from __future__ import annotations

# Exit codes of the command-line contract (docs/ARCHITECTURE.md, README).
EXIT_OK = 0
EXIT_TAMPERED = 1
EXIT_USAGE = 2
EXIT_REJECTED_ROWS = 3
EXIT_DENIED = 4
# Not in the contract's list: an action stopped by an operational failure
# (audit store failing, index unreachable). Distinct from usage and denial.
EXIT_FAILED = 5


class KaikuError(Exception):
    """Base of every error meant for a person."""

    exit_code = EXIT_FAILED


class UsageError(KaikuError):
    """Unusable input, argument or configuration."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """The configuration file, or a key file it names, is unusable."""


class AccessDenied(KaikuError):
    """The access policy refused the action (the refusal is audited)."""

    exit_code = EXIT_DENIED


class AuditFailure(KaikuError):
    """The audit event could not be made durable, so nothing is revealed or changed."""

    exit_code = EXIT_FAILED


class TamperDetected(KaikuError):
    """The audit log or a checkpoint does not verify."""

    exit_code = EXIT_TAMPERED


class VaultError(KaikuError):
    """A key or ciphertext is unusable: wrong key, altered, truncated or reordered."""

    exit_code = EXIT_FAILED


class StoreError(KaikuError):
    """The index or blob store is unreachable, at an unknown migration, or refused a write."""

    exit_code = EXIT_FAILED


class IndexUnavailable(StoreError):
    """The network index cannot be reached, or the connection was lost mid-action.

    Its message says whether anything may have landed: an action and its audit
    event commit together, so it is all or nothing, never half."""


class NotFound(UsageError):
    """A record, person or organisation named by the person does not exist."""
