"""`judge distill-teacher`: a local judge learned from an LLM run's verdicts and the human labels."""

from __future__ import annotations

import argparse
import sys

from judge.teacher_distill import HUMAN_WEIGHT


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("distill-teacher", help="train a classifier judge on a run's verdicts plus the human labels",
                       description="The run is the teacher; human labels weigh --human-weight verdicts each. "
                                   "Measured out of fold on the human labels, beside the teacher.")
    p.add_argument("--run", required=True, help="the teacher run")
    p.add_argument("--human-weight", type=float, default=HUMAN_WEIGHT)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--name", help="judge name of the new run")
    p.add_argument("--no-review-labels", dest="include_review", action="store_false",
                   help="train without the labels of judge-first reviews (by default they teach it too)")
    p.set_defaults(handler=_distill_teacher)


def _distill_teacher(store, args) -> int:
    from judge.teacher_distill import distill_from_teacher

    result = distill_from_teacher(store, args.run, human_weight=args.human_weight, folds=args.folds, seed=args.seed,
                                  name=args.name, include_review=args.include_review)
    print(result.describe(), file=sys.stderr)
    print(result.run_id)
    return 0
