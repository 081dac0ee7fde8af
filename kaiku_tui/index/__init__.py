"""The index room: narrow async interfaces (`protocols.py`), `Index` all of them together,
one backend per kind of database. It may import `domain`, `audit`, `config` and `errors`;
never `ingest`, the register, a face or textual."""

from __future__ import annotations

from kaiku_tui.config import Config
from kaiku_tui.index.base import Index


async def open_index(config: Config, mac_key: bytes, *, create: bool = False) -> Index:
    """The configured backend, migrated to the current schema.

    Each backend is imported only when chosen: the embedded register loads no asyncpg."""
    if config.is_network:
        from kaiku_tui.index.postgres import PostgresIndex

        return await PostgresIndex.open(
            config.index_url, mac_key, create=create, password_file=config.password_file
        )
    from kaiku_tui.index.sqlite import SqliteIndex

    return await SqliteIndex.open(
        config.sqlite_path, mac_key, busy_timeout_ms=config.busy_timeout_ms, create=create
    )


__all__ = ["Index", "open_index"]
