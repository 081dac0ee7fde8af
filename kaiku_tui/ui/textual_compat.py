"""Everything of Textual's private insides the UI relies on, in one place.

Textual 8.2.8 is pinned. The rest of kaiku_tui/ui uses Textual's public API
only; where none does the job, it calls a function here instead of reaching
into Textual itself. Each assumption below is checked against real Textual
objects by tests/ui/test_textual_compat.py, which names the internal and the
version when an upgrade breaks it: read that test's failure before changing
the pin.

What stays private, and why no public route does it:

- `bindings_of(node)`: the bindings a node holds (`DOMNode._bindings`). The
  help lists the keys of every widget on the screen, focused or not;
  `Screen.active_bindings` has only the focused chain's, and `BINDINGS` is one
  class's, before Textual merges the class hierarchy (and `inherit_bindings`)
  into each node. Read only, never changed.
- `prune_footer_watchers(footer)`: the watcher lists Textual's reactive module
  keeps on an object under the name-mangled attribute `__watchers`, and the
  `_closing` flag of a node on its way out. Textual has no public way to drop a
  watcher (upstream: Textualize/textual#6666, "watchers from
  `self.watch(other, …)` / `data_bind` are not removed when the owner is
  removed from the DOM", open as of 2026-12; the footer's keys are such
  owners).

What used to be private here and is public now: the NO_COLOR filter is an
override of `App.get_line_filters` (ui/app.py), and binding descriptions are
put in the person's language where Textual reads them, `Screen.active_bindings`
(ui/i18n.py `translate_active`), instead of by rewriting each node's map.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.binding import Binding
from textual.dom import DOMNode
from textual.widget import Widget

WATCHERS_ATTRIBUTE = "__watchers"
"""Where `textual.reactive._watch` keeps `{attribute: [(owner, callback), …]}` on an object."""

Watchers = dict[str, list[tuple[object, Callable[..., object]]]]


def bindings_of(node: DOMNode) -> list[Binding]:
    """The node's bindings in Textual's order, one per key ("escape,q" gives two)."""
    return [binding for _key, binding in node._bindings]


def watchers_of(node: DOMNode) -> Watchers:
    """The watchers others have put on `node`'s reactives (empty if none ever were)."""
    found: Watchers = getattr(node, WATCHERS_ATTRIBUTE, {})
    return found


def is_closing(node: object) -> bool:
    """Textual is closing this node (removed, its messages being shut down)."""
    return bool(getattr(node, "_closing", False))


def prune_footer_watchers(footer: Widget) -> int:
    """Drop the watchers on `footer` whose owner is no longer mounted; how many went.

    Textual's `Footer` binds each key it composes to its `compact` reactive
    (`data_bind`), and a recompose replaces the keys without removing their
    watchers, which Textual prunes only when `compact` changes. Call this after
    each recompose.
    """
    dropped = 0
    for found in watchers_of(footer).values():
        kept = [(owner, call) for owner, call in found if _mounted(owner)]
        dropped += len(found) - len(kept)
        found[:] = kept
    return dropped


def _mounted(owner: object) -> bool:
    attached = owner.is_attached if isinstance(owner, DOMNode) else True
    return attached and not is_closing(owner)
