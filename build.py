#!/usr/bin/env python3
"""medsite's command: `python build.py build|check|serve|new|lint` (see README.md)."""
import sys

from medsite.cli import main

if __name__ == "__main__":
    sys.exit(main())
