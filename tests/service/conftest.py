"""The real installation the door tests share (one per module run, removed at the end even
when a test fails). Where the machine cannot (not root, no sshd, …) the tests skip with
the reason — except under CI=true, where they must run and fail instead."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.service.machine import Machine, cannot_run_here, make_machine


@pytest.fixture(scope="module")
def machine() -> Iterator[Machine]:
    why = cannot_run_here()
    if why is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the door tests: {why}")
        pytest.skip(why)
    m = make_machine()
    try:
        yield m
    finally:
        m.remove()
