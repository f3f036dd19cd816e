"""`judge import`, `import-labels`, `export`, `datasets` and `demo`: getting data in and out of the store."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from judge.demo import load_demo
from judge.errors import JudgeError
from judge.exporting import EXPORT_FORMATS, LABEL_LAYOUTS, export_bytes
from judge.importing import ROLES, import_file, import_labels
from judge.outputs import check_output, write_output


def _column_map(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        role, sep, column = pair.partition("=")
        if not sep or not role.strip():
            raise JudgeError(f"--map takes ROLE=COLUMN (e.g. --map output=response), not '{pair}'.")
        mapping[role.strip()] = column.strip()
    return mapping


def _criteria(text: str | None) -> list[str] | None:
    """--criteria coherence,fluency (columns named like the criteria) or helpfulness=score,resolved=passed."""
    if not text:
        return None
    return [part.strip() for part in text.split(",") if part.strip()]


def _criterion_list(store, args) -> int:
    for criterion in store.criteria(store.dataset(args.dataset)["name"]):
        rubric = criterion.rubric
        shown = f"rubric {rubric['name']} v{rubric['version']}" if rubric else "default rubric"
        threshold = f", passes at {criterion.pass_threshold}" if not criterion.is_pass_fail else ""
        print(f"{criterion.name}\t{criterion.scale}{threshold}\t{shown}")
    return 0


def _criterion_add(store, args) -> int:
    from judge.criteria import check_criterion_name, normalize_scale

    dataset = store.dataset(args.dataset)["name"]
    name = check_criterion_name(args.name)
    store.define_criterion(dataset, name, normalize_scale(args.scale), rubric_name=args.rubric)
    print(f"{dataset}: criterion {name} ({normalize_scale(args.scale)})")
    return 0


def _dataset_name(path: str) -> str:
    """The file or folder name without its extensions: `runs.jsonl.gz` is `runs`."""
    name = Path(path.rstrip("/")).name
    return name.split(".")[0] or name


def _import(store, args) -> int:
    result = import_file(store, args.file, dataset=args.dataset or _dataset_name(args.file),
                         column_map=_column_map(args.map), annotator=args.annotator, label_map=args.label_map,
                         sheet=args.sheet, split=args.split, criteria=_criteria(args.criteria),
                         criterion=args.criterion, round_scores=args.round)
    if result.created:
        print(f"imported {result.rows} items into {result.name} v{result.version}"
              f" with {result.labels} labels")
    else:
        print(f"{result.name} v{result.version} already holds this file: nothing changed")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return 0


def _import_labels(store, args) -> int:
    added = import_labels(store, args.file, dataset=args.dataset, column_map=_column_map(args.map),
                          criterion=args.criterion, round_scores=args.round, label_map=args.label_map)
    print(f"added {added} labels to {args.dataset}")
    return 0


def _export(store, args) -> int:
    fmt = args.format or (Path(args.output).suffix.lstrip(".").lower() if args.output else "csv")
    if args.output:
        check_output(args.output, store_path=store.path, force=args.force)  # before the work, not after
    data = export_bytes(store, args.dataset, fmt=fmt, version=args.version, labels=args.labels)
    if args.output:
        write_output(args.output, data, store_path=store.path, force=args.force)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    return 0


def _datasets(store, args) -> int:
    table = store.datasets()
    if table.empty:
        print("no datasets yet: run `judge import FILE --dataset NAME` or `judge demo`")
        return 0
    print(table[["name", "version", "items", "labeled_items", "source_file", "created_at"]].to_string(index=False))
    return 0


def _demo(store, args) -> int:
    loaded = load_demo(store, if_empty=args.if_empty)
    print(f"loaded demo datasets: {', '.join(loaded)}" if loaded else "demo not loaded: the store already has data")
    if loaded and len(pairs := store.pair_datasets()):
        print(f"and pair datasets: {', '.join(pairs['name'])} (with a pre-recorded pairwise judge run)")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    roles = ", ".join(ROLES)
    p = subparsers.add_parser("import", help="import a CSV/TSV/JSONL/JSON (optionally .gz), Parquet or .xlsx file, "
                                             "or a Hugging Face dataset folder, as a dataset version")
    p.add_argument("file", help="a file, or a folder written by save_to_disk or holding Parquet shards")
    p.add_argument("--dataset", help="dataset name (default: the file name without extension)")
    p.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN",
                   help=f"use COLUMN for ROLE ({roles}); repeatable; ROLE= leaves a role unused")
    p.add_argument("--annotator", help="who gave the score/passed/critique columns (default: imported)")
    p.add_argument("--criteria", metavar="NAMES",
                   help="criteria graded in columns of the file: 'coherence,fluency' reads the columns of those "
                        "names, 'helpfulness=score' names the column; 1-5 or pass/fail, as the values say")
    p.add_argument("--criterion", help="criterion the plain score/passed/critique columns grade (default: the "
                                       "dataset's only criterion, else 'overall')")
    p.add_argument("--round", choices=["nearest"],
                   help="round mean ratings to whole 1-5 scores: 'nearest' (halves round up: 2.5 -> 3, 1.67 -> 2)")
    p.add_argument("--label-map", metavar="LABEL=TARGET,...",
                   help="turn categorical labels into pass/fail or 1-5, e.g. Consistent=pass,Unwanted=fail or A=5,B=1")
    p.add_argument("--sheet", help="the .xlsx sheet to read (default: the first)")
    p.add_argument("--split", help="the split of a Hugging Face DatasetDict folder")
    p.set_defaults(handler=_import)

    p = subparsers.add_parser("criterion", help="a dataset's criteria: what its labels grade")
    sub = p.add_subparsers(dest="criterion_command", metavar="COMMAND", required=True)
    q = sub.add_parser("list", help="the criteria of a dataset, with scale and rubric")
    q.add_argument("--dataset", required=True)
    q.set_defaults(handler=_criterion_list)
    q = sub.add_parser("add", help="add a criterion to a dataset")
    q.add_argument("name")
    q.add_argument("--dataset", required=True)
    q.add_argument("--scale", default="1-5", help="1-5 (default) or pass/fail")
    q.add_argument("--rubric", help="the saved rubric it is graded by (judge rubric save)")
    q.set_defaults(handler=_criterion_add)

    p = subparsers.add_parser("import-labels", help="import long-form labels: item id, annotator, score/pass, critique")
    p.add_argument("file")
    p.add_argument("--dataset", required=True)
    p.add_argument("--map", action="append", default=[], metavar="ROLE=COLUMN",
                   help="use COLUMN for ROLE (id, annotator, criterion, score, passed, critique); repeatable")
    p.add_argument("--criterion", help="criterion every label grades when the file has no criterion column "
                                       "(default: the dataset's only one)")
    p.add_argument("--round", choices=["nearest"], help="round mean ratings to whole scores (halves round up)")
    p.add_argument("--label-map", metavar="LABEL=TARGET,...",
                   help="as for import: categorical labels to pass/fail or 1-5")
    p.set_defaults(handler=_import_labels)

    p = subparsers.add_parser("export", help="export a dataset with its current labels")
    p.add_argument("--dataset", required=True)
    p.add_argument("--format", choices=EXPORT_FORMATS, help="default: from -o's extension, else csv")
    p.add_argument("-o", "--output", help="file to write (default: standard output); never the store")
    p.add_argument("--force", action="store_true", help="replace the output file if it exists")
    p.add_argument("--version", type=int, help="dataset version (default: the latest)")
    p.add_argument("--labels", choices=LABEL_LAYOUTS, default="wide",
                   help="wide: one row per item, columns per annotator; long: one row per label")
    p.set_defaults(handler=_export)

    p = subparsers.add_parser("datasets", help="list datasets (latest versions)")
    p.set_defaults(handler=_datasets)

    p = subparsers.add_parser("demo", help="load the demo datasets, labels and rubrics")
    p.add_argument("--if-empty", action="store_true", help="do nothing when the store already has data")
    p.set_defaults(handler=_demo)
