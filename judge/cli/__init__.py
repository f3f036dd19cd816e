"""The `judge` command: everything the dashboard does, from a terminal or CI.

Each module in COMMAND_MODULES adds its subcommands with `register(subparsers)`; a subcommand's handler
takes (store, args) and returns an exit code. A `JudgeError` prints as one line and exits 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from judge.errors import JudgeError

COMMAND_MODULES = ("data", "labels", "team", "runs", "reports", "improve", "sampling", "review", "teacher")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="judge", description="Judge Workbench: trustworthy LLM judges.")
    parser.add_argument("--db", help="store file (default: $JUDGE_DB or data/judge.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"judge.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from judge.store import Store

    try:
        store = Store(args.db)
        return int(args.handler(store, args) or 0)
    except JudgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
