"""The `judge` command: everything the dashboard does, from a terminal or CI.

Each module in COMMAND_MODULES adds its subcommands with `register(subparsers)`; a subcommand's handler
takes (store, args) and returns an exit code. A `JudgeError` prints as one line and exits 2.

A store named with --db or $JUDGE_DB that does not exist yet is most often a mistyped path: the commands
that fill a store (`import`, `demo`, `serve`) create it and say so; every other command refuses it unless
`--create` is given. The default data/judge.duckdb is created as needed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from judge.config import db_path
from judge.errors import JudgeError

COMMAND_MODULES = ("data", "labels", "team", "runs", "reports", "improve", "traces", "pairs", "sampling", "review",
                   "teacher", "funnel")
CREATES_ITS_STORE = {"demo", "import", "import-pairs", "import-traces", "serve"}  # they fill a store: a new one is announced, not refused


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="judge", description="Judge Workbench: trustworthy LLM judges.")
    parser.add_argument("--db", help="store file (default: $JUDGE_DB or data/judge.duckdb)")
    parser.add_argument("--create", action="store_true",
                        help="create the --db / $JUDGE_DB store if it does not exist (else that is an error)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"judge.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from judge.store import Store

    try:
        _check_new_store(args)
        store = Store(args.db)
        return int(args.handler(store, args) or 0)
    except JudgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `judge show RUN --json | head`: the reader has all it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's last flush does not fail again
        return 141


def _check_new_store(args) -> None:
    """Refuse a named store that does not exist, unless asked to create it; say so when one is created."""
    path = db_path(args.db)
    if path.exists():
        return
    named = args.db or os.environ.get("JUDGE_DB")
    if named and not args.create and args.command not in CREATES_ITS_STORE:
        where = "--db" if args.db else "$JUDGE_DB"
        raise JudgeError(f"No store at {path} ({where}): is the path mistyped? Pass --create to start a new, "
                         "empty store there.")
    print(f"creating a new store at {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
