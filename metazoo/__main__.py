"""`python -m metazoo`: the `metazoo` command."""

import sys

from metazoo.cli import main

sys.exit(main())
