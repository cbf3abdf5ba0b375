"""``python -m storylab`` runs the command line."""

import sys

from storylab.cli import main

sys.exit(main())
