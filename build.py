#!/usr/bin/env python3
"""medsite's command: `python build.py build|check|serve|new|lint` (see README.md)."""
from medsite.cli import run_as_program

if __name__ == "__main__":
    run_as_program()
