"""Local break history: what was prompted and what the user did, desk time per day,
and the longest unbroken sitting stretch — stored in SQLite in the state directory,
never sent anywhere.

- :mod:`~ergobreak.history.store`: the SQLite store (schema, migrations, retention,
  recovery from damage, queries, export).
- :mod:`~ergobreak.history.recorder`: the daemon side: a non-blocking ``record()``
  for the engine thread and one writer thread (also defines the sitting stretch).
- :mod:`~ergobreak.history.views`: terminal table, JSON, CSV, the tray's "Today" line.
- :mod:`~ergobreak.history.report`: the self-contained HTML report, and
  ``write_report()``, which the CLI and the tray both use to make it.
- :mod:`~ergobreak.history.files`: private, atomic writes of reports and exports.
- :mod:`~ergobreak.history.notice`: the first-run notice.

Realistic demo histories come from replaying the real core: :mod:`ergobreak.sim.demo`
(history never imports the simulation wing).
"""
