"""Entry point for ``python -m cifar10``."""

import sys

from cifar10.cli import main

if __name__ == "__main__":
    sys.exit(main())
