"""`kaiku-tui doctor`: every check of a register's health, the register opened for it.

The checks that need no register run first (doctor.py) and do not stop at the
first failure; the register is opened only when they allow, and then the
upkeep facet adds the checks that need it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from kaiku_tui.config import Config, load
from kaiku_tui.domain.access import Identity
from kaiku_tui.errors import AccessDenied, KaikuError
from kaiku_tui.maintenance.checks import Check, Status, fail, ok
from kaiku_tui.register.door import Register
from kaiku_tui.register.upkeep.doctor import audio, index_file, key_file, open_fix, ssh


async def diagnose(
    config_file: Path,
    identity: Identity,
    environ: Mapping[str, str] = os.environ,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> list[Check]:
    """All of the doctor's checks. Raises AccessDenied for a non-admin (audited)."""
    try:
        config = load(config_file)
    except KaikuError as err:
        return [fail("configuration", str(err), f"fix {config_file}; config.example.toml")]
    checks = [ok("configuration", f"{config_file} is valid")]
    key = key_file(config, environ)
    checks += [key, *index_file(config), ssh(environ), audio(config, environ)]
    if any(c.status is Status.FAIL for c in checks):
        return checks
    return checks + await _register_checks(config, identity, environ, now)


async def _register_checks(
    config: Config,
    identity: Identity,
    environ: Mapping[str, str],
    now: Callable[[], datetime],
) -> list[Check]:
    try:
        register = await Register.open(config, identity, environ)
    except AccessDenied:
        raise
    except KaikuError as err:
        return [fail("register opens", str(err), open_fix(str(err)))]
    checks = [ok("register opens", f"as {identity.login} at {register.location}")]
    try:
        checks += await register.upkeep.health(now)
    finally:
        try:  # closing signs a checkpoint: a file that cannot take it fails here too
            await register.close()
        except KaikuError as err:
            checks.append(fail("register closes", str(err), "fix what fails above first"))
        else:  # a session that refused to sign (its verify failed) closes without one
            why = register.checkpoint_refusal
            if why is not None:
                detail = f"no audit checkpoint was signed at close: {why}"
                checks.append(fail("register closes", detail, "fix what fails above first"))
    return checks
