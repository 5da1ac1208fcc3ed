"""Exit codes and small helpers shared by the subcommands."""

from __future__ import annotations

#: success
EXIT_OK = 0
#: the command failed, or the config it checked has errors
EXIT_FAILURE = 1
#: bad command-line usage
EXIT_USAGE = 2
#: the value is locked by IT policy
EXIT_LOCKED = 3
#: no running ergobreak instance to talk to
EXIT_NOT_RUNNING = 4
