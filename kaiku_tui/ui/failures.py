"""Failed workers, carried to the one place that tells the person.

Textual's `Worker.StateChanged` does not bubble; every node that runs workers
passes a failure on as `WorkFailed`, which does, and the app turns it into a
notice (`KaikuApp._work_failed`).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.dom import DOMNode
from textual.message import Message
from textual.worker import Worker, WorkerState


@dataclass
class WorkFailed(Message):
    error: BaseException


def pass_on_failure(node: DOMNode, event: Worker.StateChanged) -> None:
    if event.state is WorkerState.ERROR and event.worker.error is not None:
        node.post_message(WorkFailed(event.worker.error))
