"""``python -m ergobreak`` is the same as the ``ergobreak`` command."""

import sys

from ergobreak.cli import main

sys.exit(main())
