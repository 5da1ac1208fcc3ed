"""The schema in IT's formats: ADMX/ADML templates, a macOS profile, a Jamf manifest,
and the key table of ``docs/configuration.md``.

Each module is a pure function of :mod:`ergobreak.config.schema` and
:mod:`ergobreak.config.channels` (stdlib only: ``xml.etree``, ``plistlib``,
``json``); :mod:`ergobreak.config.generate` writes them all, and checks them.

- ``describe``: what every format says about a key (range, choices, default);
- ``admx``: Group Policy / Intune templates; ``mdm``: the profile and the manifest;
- ``keytable``: the docs' table of keys.
"""
