"""Entry point of ``python -m gpt_from_scratch``."""

from gpt_from_scratch.cli import main

raise SystemExit(main())
