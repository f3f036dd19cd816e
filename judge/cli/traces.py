"""`judge import-traces` and `judge export-verdicts`: data in from traces, verdicts back out to them."""

from __future__ import annotations

import argparse
import sys

from judge.outputs import check_output, write_output
from judge.traces import PER_CHOICES, TRACE_FORMATS, import_traces
from judge.verdict_export import VERDICT_FORMATS, export_verdicts


def _import_traces(store, args) -> int:
    result = import_traces(store, args.file, dataset=args.dataset, per=args.per, fmt=args.format)
    if result.created:
        print(f"imported {result.rows} items (one per {args.per}) into {result.name} v{result.version}")
    else:
        print(f"{result.name} v{result.version} already holds these traces: nothing changed")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _export_verdicts(store, args) -> int:
    if args.output:
        check_output(args.output, store_path=store.path, force=args.force)
    data = export_verdicts(store, args.run, fmt=args.format)
    if args.output:
        write_output(args.output, data, store_path=store.path, force=args.force)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("import-traces", help="import OTLP JSON, Langfuse or LangSmith traces as a dataset")
    p.add_argument("file", help="a trace export: .json or .jsonl (optionally .gz)")
    p.add_argument("--dataset", required=True)
    p.add_argument("--per", choices=PER_CHOICES, default="trace",
                   help="one item per trace (its final answer) or per LLM span (default: trace)")
    p.add_argument("--format", choices=TRACE_FORMATS, help="default: detected from the file")
    p.set_defaults(handler=_import_traces)

    p = subparsers.add_parser("export-verdicts", help="a run's verdicts as OTLP evaluation events or a table")
    p.add_argument("--run", required=True)
    p.add_argument("--format", choices=VERDICT_FORMATS, default="otlp",
                   help="otlp: gen_ai.evaluation.result events (OTLP/JSON logs); csv/jsonl/parquet: verdicts "
                        "joined with the human labels")
    p.add_argument("-o", "--output", help="file to write (default: standard output); never the store")
    p.add_argument("--force", action="store_true", help="replace the output file if it exists")
    p.set_defaults(handler=_export_verdicts)
