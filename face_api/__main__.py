"""Entry point for ``python -m face_api``."""

import sys

from face_api.cli import main

sys.exit(main())
