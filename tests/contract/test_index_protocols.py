"""Every backend is every narrow interface of the index contract (index/protocols.py).

Parametrised per interface and per backend, so a backend that drops an interface, or
leaves one of its methods abstract, fails by name here before any behaviour test runs.
"""

from __future__ import annotations

import abc
import inspect

import pytest

from kaiku_tui.index.base import Index
from kaiku_tui.index.postgres import PostgresIndex
from kaiku_tui.index.protocols import PROTOCOLS
from kaiku_tui.index.sqlite import SqliteIndex

CLASSES: dict[str, type[Index]] = {"sqlite": SqliteIndex, "postgres": PostgresIndex}


def _name(protocol: type[abc.ABC]) -> str:
    return protocol.__name__


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_name)
def test_index_is_every_protocol(protocol: type[abc.ABC]) -> None:
    assert issubclass(Index, protocol)


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_name)
@pytest.mark.parametrize("backend", sorted(CLASSES))
def test_backend_class_implements_the_protocol(backend: str, protocol: type[abc.ABC]) -> None:
    cls = CLASSES[backend]
    assert issubclass(cls, protocol)
    assert not inspect.isabstract(cls), sorted(getattr(cls, "__abstractmethods__", ()))
    for name in getattr(protocol, "__abstractmethods__", ()):
        assert not getattr(getattr(cls, name), "__isabstractmethod__", False), name


def test_the_protocols_cover_every_abstract_method_once() -> None:
    """Each method of the whole contract belongs to exactly one narrow interface."""
    owners: dict[str, list[str]] = {}
    for protocol in PROTOCOLS:
        for name in getattr(protocol, "__abstractmethods__", ()):
            owners.setdefault(name, []).append(protocol.__name__)
    assert set(owners) == set(Index.__abstractmethods__)
    assert {name: found for name, found in owners.items() if len(found) > 1} == {}


@pytest.mark.parametrize("protocol", PROTOCOLS, ids=_name)
async def test_an_open_index_is_an_instance_of_the_protocol(
    index: Index, protocol: type[abc.ABC]
) -> None:
    assert isinstance(index, protocol)
