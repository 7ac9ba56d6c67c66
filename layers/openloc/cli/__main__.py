"""`python -m openloc.cli`: the `openloc` command."""

import sys

from openloc.cli import main

sys.exit(main())
