"""A pystray-style menu as a ``com.canonical.dbusmenu`` layout (pure data, no bus).

:func:`build_layout` walks a menu (anything shaped like ``pystray.Menu``: iterating
it yields items with ``text``, ``enabled``, ``checked``, ``radio`` and ``submenu``,
and calling an item with the icon runs its action) once, in the caller's thread, and
freezes the result. The SNI thread then answers ``GetLayout`` and
``GetGroupProperties`` from the frozen :class:`Layout` and runs a node's action on a
click.

Item ids are stable across rebuilds while an item keeps its place and label, and an
id is never reused for a different item: a click that arrives for a menu the host
showed before a rebuild either hits the same item or none, never its neighbour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

#: a{sv} as jeepney serialises it: name -> (signature, value)
Props = dict[str, tuple[str, Any]]


class MenuItemLike(Protocol):
    """What :func:`build_layout` reads from a ``pystray.MenuItem``."""

    @property
    def text(self) -> str: ...
    @property
    def enabled(self) -> bool: ...
    @property
    def checked(self) -> bool | None: ...
    @property
    def radio(self) -> bool: ...
    @property
    def submenu(self) -> Iterable[Any] | None: ...


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    props: Props
    children: tuple[int, ...] = ()
    action: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class Layout:
    """One revision of the menu. Node 0 is the root."""

    revision: int = 1
    nodes: dict[int, Node] = field(default_factory=lambda: {0: Node(0, _ROOT_PROPS)})
    #: (parent id, signature of the item) -> id, for keeping ids across rebuilds
    keys: dict[tuple[int, str], int] = field(default_factory=dict)
    next_id: int = 1

    def layout(self, parent: int = 0, depth: int = -1, names: Iterable[str] = ()) -> Any:
        """The ``(ia{sv}av)`` struct of ``parent`` down to ``depth`` levels (-1: all)."""
        node = self.nodes[parent]
        wanted = set(names)
        children = []
        if depth != 0:
            children = [
                ("(ia{sv}av)", self.layout(child, depth - 1, wanted)) for child in node.children
            ]
        return (node.id, _select(node.props, wanted), children)

    def group_properties(self, ids: Iterable[int], names: Iterable[str] = ()) -> list[Any]:
        """``a(ia{sv})`` for the known ``ids`` (all nodes when ``ids`` is empty)."""
        wanted = set(names)
        chosen = list(ids) or list(self.nodes)
        return [(i, _select(self.nodes[i].props, wanted)) for i in chosen if i in self.nodes]

    def same_content(self, other: Layout) -> bool:
        """Whether a host showing ``other`` would see exactly this menu."""
        return {i: (n.props, n.children) for i, n in self.nodes.items()} == {
            i: (n.props, n.children) for i, n in other.nodes.items()
        }


_ROOT_PROPS: Props = {"children-display": ("s", "submenu")}


def _select(props: Props, wanted: set[str]) -> Props:
    return {k: v for k, v in props.items() if k in wanted} if wanted else dict(props)


def escape_label(text: str) -> str:
    """dbusmenu labels use ``_`` for mnemonics; a literal underscore is ``__``."""
    return text.replace("_", "__")


def build_layout(
    menu: Iterable[Any] | None,
    invoke: Callable[[Any], None],
    previous: Layout | None = None,
    *,
    separator: object = None,
) -> Layout:
    """Freeze ``menu`` into a :class:`Layout`; ``invoke(item)`` runs an item's action.

    ``separator`` is the menu class's separator object (``pystray.Menu.SEPARATOR``).
    The revision only moves when the content changed, so an unchanged rebuild costs
    the hosts nothing.
    """
    prev = previous or Layout()
    nodes: dict[int, Node] = {}
    keys: dict[tuple[int, str], int] = {}
    next_id = prev.next_id
    seen: dict[tuple[int, str], int] = {}

    def allocate(parent: int, signature: str) -> int:
        nonlocal next_id
        count = seen.get((parent, signature), 0)
        seen[(parent, signature)] = count + 1
        key = (parent, f"{signature}#{count}")
        node_id = prev.keys.get(key)
        if node_id is None:
            node_id = next_id
            next_id += 1
        keys[key] = node_id
        return node_id

    def walk(items: Iterable[Any] | None, parent: int) -> tuple[int, ...]:
        ids = []
        for item in items or ():
            if item is separator:
                node_id = allocate(parent, "-")
                nodes[node_id] = Node(node_id, {"type": ("s", "separator")})
                ids.append(node_id)
                continue
            label = str(item.text)
            props: Props = {
                "label": ("s", escape_label(label)),
                "enabled": ("b", bool(item.enabled)),
            }
            checked = item.checked
            if checked is not None:
                props["toggle-type"] = ("s", "radio" if item.radio else "checkmark")
                props["toggle-state"] = ("i", 1 if checked else 0)
            submenu = item.submenu
            node_id = allocate(parent, ("▸" if submenu is not None else "") + label)
            children: tuple[int, ...] = ()
            action = None
            if submenu is not None:
                props["children-display"] = ("s", "submenu")
                children = walk(submenu, node_id)
            else:
                action = _bind(invoke, item)
            nodes[node_id] = Node(node_id, props, children, action)
            ids.append(node_id)
        return tuple(ids)

    nodes[0] = Node(0, _ROOT_PROPS, walk(menu, 0))
    fresh = Layout(prev.revision, nodes, keys, next_id)
    if previous is not None and fresh.same_content(previous):
        return Layout(previous.revision, nodes, keys, next_id)
    return Layout(prev.revision + 1 if previous is not None else 1, nodes, keys, next_id)


def _bind(invoke: Callable[[Any], None], item: object) -> Callable[[], None]:
    return lambda: invoke(item)
