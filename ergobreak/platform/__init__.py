"""The desktop edge: idle, lock/sleep and quiet sources, and notifications.

Each concern is a small adapter behind a Protocol in :mod:`ergobreak.platform.base`;
:func:`ergobreak.platform.select.open_edge` picks the adapters that work on this
machine (with overrides and fallbacks) and records why, for ``ergobreak doctor``;
:class:`ergobreak.platform.edge.Edge` is what the daemon then holds and reads.
The core never imports this package; only the daemon (the composition root) does.
Adapters import their platform libraries lazily, so importing this package is cheap
everywhere.
"""
