"""`judge review`: the judge labels, you refine (judge-first review), in the terminal or a spreadsheet."""

from __future__ import annotations

import argparse

from judge.label_next import STRATEGIES
from judge.review import DEFAULT_BATCH, DEFAULT_STRATEGY


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("review", help="accept or correct a run's verdicts; corrections become few-shot examples")
    p.add_argument("--run", required=True)
    p.add_argument("--n", type=int, default=DEFAULT_BATCH, help=f"items to review (default {DEFAULT_BATCH})")
    p.add_argument("--strategy", choices=STRATEGIES, default=DEFAULT_STRATEGY,
                   help=f"which items (default {DEFAULT_STRATEGY}: where the judge is least sure)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--annotator", help="who reviews (required unless --export)")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--export", metavar="FILE", help="write the batch as CSV to edit in a spreadsheet")
    way.add_argument("--import", dest="import_file", metavar="FILE", help="store an edited review CSV")
    then = p.add_mutually_exclusive_group()
    then.add_argument("--fewshot", action="store_true",
                      help="turn the corrections into few-shot examples of a new spec version")
    then.add_argument("--improve", action="store_true",
                      help="--fewshot, then run that version on every item no review graded (the rest)")
    p.add_argument("--concurrency", type=int, default=16, help="parallel calls of the --improve re-run")
    p.set_defaults(handler=_review)


def _review(store, args) -> int:
    from judge.errors import JudgeError
    from judge.review import (corrections_to_fewshot, export_review, import_review, improve_from_review,
                              review_batch, save_review)

    if args.export:
        rows = export_review(store, args.run, args.export, n=args.n, strategy=args.strategy, seed=args.seed)
        print(f"{rows} items written to {args.export}: change score/passed where the judge is wrong, add a "
              f"critique to each correction, then: judge review --run {args.run} --import {args.export} "
              "--annotator NAME [--fewshot | --improve]")
        return 0
    if not args.annotator:
        raise JudgeError("Say who reviews with --annotator NAME.")
    if args.import_file:
        result = import_review(store, args.run, args.import_file, args.annotator)
    else:
        result = save_review(store, args.run, _interactive(review_batch(store, args.run, n=args.n,
                                                                        strategy=args.strategy, seed=args.seed)),
                             args.annotator)
    print(f"{result['accepted']} verdicts accepted, {result['corrected']} corrected (stored as review labels: "
          "left out of agreement by default)")
    if args.fewshot:
        version = corrections_to_fewshot(store, args.run, result["corrections"])
        print(f"saved spec version {version} with the corrections as few-shot examples" if version
              else "no correction to turn into a few-shot example")
    elif args.improve:
        step = improve_from_review(store, args.run, result["corrections"], concurrency=args.concurrency)
        if step["version"] is None:
            print("no correction to turn into a few-shot example: the judge stays as it is")
        else:
            print(f"saved spec version {step['version']} with the corrections as few-shot examples")
            print(f"re-ran it on the {step['items']} items no review graded: run {step['run_id']} "
                  f"(judge report --run {step['run_id']})" if step["run_id"] else "no item left to re-run on")
    return 0


def _interactive(batch):
    """Ask about each item in the terminal: Enter accepts the judge's verdict, else type the grade."""
    batch = batch.astype({"score": object, "passed": object, "critique": object})  # typed grades are text
    for index, row in batch.iterrows():
        print(f"\n[{index + 1}/{len(batch)}] item {row['item_id']} ({row['reason']})\n{row['output']}")
        print(f"judge: score {row['judge_score']}, {'pass' if row['judge_passed'] else 'fail'}: "
              f"{row['judge_reasoning'] or ''}")
        answer = input("Enter = accept, or a score 1-5 / pass / fail: ").strip().lower()
        if not answer:
            continue
        if answer in ("pass", "fail"):
            batch.at[index, "passed"] = answer
        else:
            batch.at[index, "score"], batch.at[index, "passed"] = answer, None
        batch.at[index, "critique"] = input("Why (critique)? ").strip()
    return batch
