"""Real desktop shells (sway, GNOME, KDE) started by the tests as an ordinary user;
:mod:`shells.session` is the part they share."""
