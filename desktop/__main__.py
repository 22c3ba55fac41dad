"""``python -m desktop``: the same as the ``kairan`` command."""

import sys

from desktop.cli import main

sys.exit(main())
