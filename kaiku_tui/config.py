"""Configuration: a validated, documented dataclass read from TOML.

Found via `--config`, then `KAIKU_CONFIG`, then the platform config path. Every
key is documented in config.example.toml. A bad file gets one line naming the
file and the key; an unknown key is an error, because a misspelt key silently
ignored is a setting silently not in force.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import platformdirs

from kaiku_tui.domain.description import RegisterDescription
from kaiku_tui.errors import ConfigError

APP = "kaiku-tui"


@dataclass(frozen=True)
class Config:
    """Where the register lives and how it behaves; every path absolute."""

    source: Path | None  # the file read, or None for defaults
    data_dir: Path
    master_key_file: Path  # an old register's one key; `kaiku-tui keys split` reads it
    index_url: str  # "" = SQLite at data_dir/index.sqlite3
    busy_timeout_ms: int
    blob_dir: Path
    checkpoint_file: Path
    checkpoint_every: int
    language: str
    timezone: str
    audio_sink: str
    password_file: Path | None = None  # the index password, read when the index opens
    identity: str = "os"  # "os": the OS login is the person; "database": the database login
    audit_retain_years: int = 2  # audit events outlive the data they describe this long
    audit_retain_days: int | None = None  # when given, instead of audit_retain_years
    grace_days: int = 90  # retention: kept at most this long after a contract's end
    description: RegisterDescription = RegisterDescription()  # GDPR art. 30 record
    # The key store (vault/keystore.py); outside data_dir, never in a backup.
    key_store: Path = Path("/nonexistent/kaiku-tui-keys")  # from_mapping always sets it
    # The audit chain's witness file (audit/witness.py); outside data_dir.
    witness: Path = Path("/nonexistent/kaiku-tui-witness.jsonl")  # from_mapping sets it

    @property
    def sqlite_path(self) -> Path:
        if self.index_url.startswith("sqlite:///"):
            return Path(self.index_url.removeprefix("sqlite://"))
        return self.data_dir / "index.sqlite3"

    @property
    def is_network(self) -> bool:
        return self.index_url.startswith(("postgresql://", "postgres://"))


# section -> key -> (type, default). A default of None is derived from data_dir.
_SCHEMA: dict[str, dict[str, tuple[type, object]]] = {
    "register": {"data_dir": (str, None), "master_key_file": (str, None), "key_store": (str, None)},
    "index": {"url": (str, ""), "password_file": (str, None), "busy_timeout_ms": (int, 5000)},
    "blobs": {"path": (str, None)},
    "audit": {
        "checkpoint_file": (str, None),
        "checkpoint_every": (int, 500),
        "retain_years": (int, 2),
        "retain_days": (int, None),
        "witness": (str, None),
    },
    "ui": {"language": (str, "auto"), "timezone": (str, "Europe/Helsinki")},
    "audio": {"sink": (str, "auto")},
    "access": {"identity": (str, "os")},
    "retention": {"grace_days": (int, 90)},
    # Defaults in domain/description.py (None here: keep the default).
    "register_description": {
        "controller": (str, ""),
        "controller_contact": (str, ""),
        "dpo_contact": (str, ""),
        "purposes": (list, None),
        "data_subjects": (list, None),
        "data_categories": (list, None),
        "recipients": (list, None),
        "transfers": (str, None),
        "retention": (str, None),
        "security": (list, None),
    },  # fmt: skip
}
_CHOICES = {
    ("ui", "language"): ("auto", "fi", "en"),
    ("audio", "sink"): ("auto", "simpleaudio", "miniaudio", "none"),
    ("access", "identity"): ("os", "database"),
}


def register_name(data_dir: Path, store: str = "") -> str:
    """A register's name for the files kept outside its data_dir: the first 16 hex digits
    of SHA-256 of the resolved data_dir path and, for an index other than the default
    data_dir/index.sqlite3, of `store` (`index_store`): a copy made by `migrate` into
    another database shares data_dir but is another register store, with a witness
    of its own."""
    text = str(Path(data_dir).expanduser().resolve())
    if store and store != str((Path(data_dir) / "index.sqlite3").resolve()):
        text += "\n" + store
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def default_witness(data_dir: Path, store: str = "") -> Path:
    """Where the audit witness lives unless `[audit] witness` says: the platform's state
    directory, outside data_dir (so a backup or a copy of data_dir never holds it)."""
    name = register_name(data_dir, store)
    return platformdirs.user_state_path(APP) / "witness" / f"{name}.jsonl"


def config_path(explicit: str | None, environ: Mapping[str, str]) -> Path:
    """--config, then KAIKU_CONFIG, then the platform's user config directory."""
    if explicit:
        return Path(explicit).expanduser()
    if environ.get("KAIKU_CONFIG"):
        return Path(environ["KAIKU_CONFIG"]).expanduser()
    return platformdirs.user_config_path(APP) / "config.toml"


def load(path: Path, *, must_exist: bool = True) -> Config:
    """Read and validate `path`; a missing file gives the defaults unless it must exist."""
    if not path.exists():
        if must_exist:
            raise ConfigError(f"{path}: no such configuration file (run 'kaiku-tui init')")
        return from_mapping({}, None)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    return from_mapping(raw, path)


def from_mapping(raw: Mapping[str, Any], source: Path | None) -> Config:
    values = _validated(raw, str(source or "configuration"))
    base = source.parent if source else Path.cwd()
    data_dir = _path(values["register"]["data_dir"], base) or platformdirs.user_data_path(APP)

    def under(section: str, key: str, default: str) -> Path:
        return _path(values[section][key], base) or data_dir / default

    config = Config(
        source=source,
        data_dir=data_dir,
        master_key_file=under("register", "master_key_file", "master.key"),
        index_url=str(values["index"]["url"]),
        busy_timeout_ms=int(values["index"]["busy_timeout_ms"]),
        blob_dir=under("blobs", "path", "blobs"),
        checkpoint_file=under("audit", "checkpoint_file", "audit-checkpoints.jsonl"),
        checkpoint_every=int(values["audit"]["checkpoint_every"]),
        language=str(values["ui"]["language"]),
        timezone=str(values["ui"]["timezone"]),
        audio_sink=str(values["audio"]["sink"]),
        password_file=_path(values["index"]["password_file"], base),
        identity=str(values["access"]["identity"]),
        audit_retain_years=int(values["audit"]["retain_years"]),
        audit_retain_days=values["audit"]["retain_days"],
        grace_days=int(values["retention"]["grace_days"]),
        description=_description(values["register_description"], str(source or "configuration")),
        key_store=_path(values["register"]["key_store"], base) or default_key_store(data_dir),
    )
    witness = _path(values["audit"]["witness"], base)
    config = replace(config, witness=witness or default_witness(data_dir, index_store(config)))
    _check_network_keys(config, str(source or "configuration"))
    _check_key_store(config, str(source or "configuration"))
    return config


def default_key_store(data_dir: Path) -> Path:
    """Single-user mode's key store: under the platform's config directory, one per register."""
    return platformdirs.user_config_path(APP) / "keys" / register_name(data_dir)


def _check_key_store(config: Config, name: str) -> None:
    """The key store is kept apart from the data: a copy of data_dir must not hold it."""
    store, data = config.key_store.resolve(), config.data_dir.resolve()
    if store == data or store.is_relative_to(data):
        raise ConfigError(
            f"{name}: [register] key_store {config.key_store} is inside data_dir "
            f"{config.data_dir}; keep the keys apart from the data (the default is outside it)"
        )


def _check_network_keys(config: Config, name: str) -> None:
    """Keys that only mean something with PostgreSQL are refused without it, not ignored."""
    if config.is_network:
        return
    if config.identity == "database":
        # SQLite has no logins: the database cannot vouch for anyone.
        raise ConfigError(
            f'{name}: [access] identity = "database" needs a postgresql:// [index] url'
        )
    if config.password_file is not None:
        raise ConfigError(f"{name}: [index] password_file needs a postgresql:// [index] url")


def _validated(raw: Mapping[str, Any], name: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for section in raw:
        if section not in _SCHEMA:
            raise ConfigError(f"{name}: unknown section [{section}]")
        if not isinstance(raw[section], dict):
            raise ConfigError(f"{name}: [{section}] must be a table")
    for section, keys in _SCHEMA.items():
        given = raw.get(section, {})
        for key in given:
            if key not in keys:
                raise ConfigError(f"{name}: unknown key '{key}' in [{section}]")
        out[section] = {k: _value(given, section, k, t, d, name) for k, (t, d) in keys.items()}
    return out


def _value(
    given: Mapping[str, Any], section: str, key: str, kind: type, default: object, name: str
) -> Any:
    if key not in given:
        return default
    value: Any = given[key]
    if type(value) is not kind:  # bool is an int subclass: be exact
        raise ConfigError(
            f"{name}: [{section}] {key} must be {kind.__name__}, not {type(value).__name__}"
        )
    return _checked(value, section, key, name)


def _description(values: Mapping[str, Any], name: str) -> RegisterDescription:
    given: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None
    }
    return RegisterDescription(**given, source=name)


def _checked(value: Any, section: str, key: str, name: str) -> Any:
    if isinstance(value, list) and not all(isinstance(x, str) and x.strip() for x in value):
        raise ConfigError(f"{name}: [{section}] {key} must be a list of non-empty strings")
    choices = _CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(f"{name}: [{section}] {key} must be one of {', '.join(choices)}")
    if isinstance(value, int) and value <= 0:
        raise ConfigError(f"{name}: [{section}] {key} must be positive")
    if section == "index" and key == "url":
        _check_url(value, name)
    return value


def _check_url(url: str, name: str, key: str = "[index] url") -> None:
    if url and not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(f"{name}: {key} must be empty, sqlite:///PATH or postgresql://...")
    parts = urlsplit(url)
    if parts.password is not None or "password" in parse_qs(parts.query):
        # A password in the config text ends up in backups, tickets and screens.
        raise ConfigError(
            f"{name}: {key} must not hold a password; "
            "use [index] password_file, ~/.pgpass or PGPASSFILE"
        )


def with_index(config: Config, target: str, name: str = "--to") -> Config:
    """`config` with another index (keys, blobs and checkpoints stay): a postgresql:// URL,
    sqlite:///PATH, or a plain path to a SQLite file."""
    url = target if "://" in target else f"sqlite://{Path(target).expanduser().resolve()}"
    _check_url(url, name, "the URL")
    return replace(config, index_url=url)


def index_location(config: Config) -> str:
    """Where the index is, for messages and the audit log: host:port/database or the
    SQLite path, never a user or a password."""
    if not config.is_network:
        return str(config.sqlite_path)
    parts = urlsplit(config.index_url)
    try:
        port = parts.port or 5432
    except ValueError:
        port = 5432
    return f"{parts.hostname or 'localhost'}:{port}/{parts.path.lstrip('/')}"


def index_store(config: Config) -> str:
    """Which database holds the index, for the witness's default name: the resolved SQLite
    path, or host:port/database and the schema (search_path) of PostgreSQL, never a user
    or a password."""
    if not config.is_network:
        return str(config.sqlite_path.resolve())
    where = index_location(config)
    schemas = parse_qs(urlsplit(config.index_url).query).get("search_path")
    return f"{where}?search_path={schemas[0]}" if schemas else where


def _path(value: object, base: Path) -> Path | None:
    if not value:
        return None
    path = Path(os.path.expandvars(str(value))).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def write_default(path: Path, data_dir: Path) -> None:
    """Write a minimal config naming `data_dir`; the example file documents the rest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = (
        "# kaiku-tui configuration; config.example.toml documents every key.\n\n"
        f"[register]\ndata_dir = {_toml_string(str(data_dir))}\n"
    )
    path.write_text(text, encoding="utf-8")


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
