"""The ``evalkit`` command."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from evalkit._version import __version__

__all__ = ["main"]


def _project_root() -> Path:
    """The folder holding ``analyses/`` and ``reports/``: the current directory or a parent."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "analyses").is_dir() or (folder / "pyproject.toml").is_file():
            return folder
    return here


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = argparse.ArgumentParser(prog="evalkit", description=__doc__)
    parser.add_argument("--version", action="version", version=f"evalkit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="rebuild the reports in reports/")
    b.add_argument("--check", action="store_true", help="fail if any report would change")
    sub.add_parser("list", help="list the analyses")
    args = parser.parse_args(argv)

    from evalkit import report

    root = _project_root()
    if args.command == "list":
        for name in report.list_analyses(root / "analyses"):
            print(name)
        return 0
    if args.check:
        changed = report.check(root)
        if changed:
            print("reports would change: " + ", ".join(changed), file=sys.stderr)
            print("run `make reports` and commit reports/", file=sys.stderr)
            return 1
        print("reports are up to date")
        return 0
    result = report.build(root)
    print(f"built {len(result.files)} file(s) in {result.out_dir}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
