"""`judge funnel create|calibrate|run|report|list`: cheap judges first, strong judges next, people last."""

from __future__ import annotations

import argparse
import json
import sys

from judge.funnel_calibration import DEFAULT_ALPHA, DEFAULT_CALIBRATION_SHARE, DEFAULT_DELTA


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("funnel", help="a funnel of judges with calibrated thresholds, people last",
                       description="Stages run cheapest first; each settles the items it is sure of, at a threshold "
                                   "calibrated on human labels so settled verdicts agree with people >= 1 - alpha "
                                   "of the time with probability >= 1 - delta.")
    commands = p.add_subparsers(dest="funnel_command", required=True, metavar="ACTION")

    create = commands.add_parser("create", help="a funnel (or a new version of it) over one criterion")
    create.add_argument("--name", required=True)
    create.add_argument("--dataset", required=True)
    create.add_argument("--criterion", help="default: the dataset's only criterion")
    create.add_argument("--stage", action="append", required=True, metavar="STAGE",
                        help="cheapest first, repeatable: offline:SPEC[/fail|pass|both], distilled, "
                             "llm:SPEC@MODEL[*SAMPLES][+batch]")
    create.add_argument("--target", default="pass/fail", choices=["pass/fail", "score"],
                        help="what a verdict must agree with people on (score: 1-5 criteria only)")
    create.set_defaults(handler=_create)

    calibrate = commands.add_parser("calibrate", help="thresholds from the criterion's human labels")
    calibrate.add_argument("--name", required=True)
    calibrate.add_argument("--alpha", type=float, default=DEFAULT_ALPHA, help="tolerated disagreement (default 0.1)")
    calibrate.add_argument("--delta", type=float, default=DEFAULT_DELTA, help="risk the promise fails (default 0.1)")
    calibrate.add_argument("--share", type=float, default=DEFAULT_CALIBRATION_SHARE,
                           help="share of the labeled items used to calibrate; the rest are held out (default 0.5)")
    calibrate.add_argument("--seed", type=int, default=0, help="seed of the calibration / held-out split")
    calibrate.add_argument("--json", action="store_true")
    calibrate.set_defaults(handler=_calibrate)

    run = commands.add_parser("run", help="pass a dataset version through the calibrated funnel")
    run.add_argument("--name", help="the funnel (not with --resume)")
    run.add_argument("--version", type=int, help="dataset version (default: the latest)")
    run.add_argument("--resume", type=int, metavar="FUNNEL_RUN", help="finish an interrupted funnel run")
    run.add_argument("--no-task", action="store_true", help="do not make a labeling task of the escalated items")
    run.add_argument("--no-compare", action="store_true",
                     help="skip running the strongest judge alone on the held-out items (the report's comparison)")
    run.add_argument("--concurrency", type=int)
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="where the items went, agreement on held-out labels, cost")
    report.add_argument("--name", required=True)
    report.add_argument("--run", type=int, metavar="FUNNEL_RUN", help="default: the funnel's latest run")
    report.add_argument("--json", action="store_true")
    report.set_defaults(handler=_report)

    listing = commands.add_parser("list", help="every funnel")
    listing.set_defaults(handler=_list)


def _create(store, args) -> int:
    from judge.funnel import create_funnel

    version = create_funnel(store, args.name, dataset=args.dataset, criterion=args.criterion, stages=args.stage,
                            target=args.target)
    print(f"funnel {args.name} version {version}: {len(args.stage)} judge stages, then people; "
          f"calibrate it with judge funnel calibrate --name {args.name}")
    return 0


def _calibrate(store, args) -> int:
    from judge.funnel import calibrate_funnel

    result = calibrate_funnel(store, args.name, alpha=args.alpha, delta=args.delta, share=args.share, seed=args.seed)
    if args.json:
        print(json.dumps({"version": result.version, "stages": [r.to_dict() for r in result.stages],
                          "strongest_alone": result.strongest_alone.to_dict(),
                          "calibration_items": result.calibration_items, "heldout_items": result.heldout_items},
                         indent=2))
    else:
        print(result.describe())
    return 0


def _run(store, args) -> int:
    from judge.errors import JudgeError
    from judge.funnel import resume_funnel_run, run_funnel

    options = dict(task=not args.no_task, compare=not args.no_compare, concurrency=args.concurrency)
    if args.resume is not None:
        summary = resume_funnel_run(store, args.resume, **options)
    elif args.name:
        summary = run_funnel(store, args.name, dataset_version=args.version, **options)
    else:
        raise JudgeError("Name the funnel to run (--name NAME), or the funnel run to finish (--resume ID).")
    print(summary.describe())
    return 0 if summary.status == "done" else 1


def _report(store, args) -> int:
    from judge.funnel_report import funnel_report

    report = funnel_report(store, args.name, args.run)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    print(f"funnel {report['funnel']} v{report['funnel_version']} run {report['funnel_run_id']} on "
          f"{report['dataset']} v{report['dataset_version']} ({report['criterion']}, {report['items']} items)")
    for stage in report["stages"]:
        measured = _share(stage["heldout_agreement"])
        cost = "" if stage["full_price_usd"] is None else f", ${stage['full_price_usd']:,.4f} at full price"
        print(f"  {stage['label']}: reached {stage['reached']}, settled {stage['settled']}"
              + (f", {stage['failed']} failed" if stage["failed"] else "")
              + ("" if stage["kind"] == "people" else f"; held-out agreement {measured}{cost}"))
    print(report["guarantee"]["text"])
    alone = report["strongest_alone"]
    if alone:
        print(f"strongest alone ({alone['label']}): agreement {_share(alone['agreement'])}; people would label about "
              f"{alone['people_items_estimate']} items (the funnel: {report['funnel_total']['people']})")
    for version in report["versions"]:
        print(f"  dataset v{version['dataset_version']}: {version['judges_pass']} pass the judges' screen, "
              f"{version['judges_fail']} fail it, {version['people']} need people")
    return 0


def _share(figure: dict) -> str:
    """'93.0% [88.1%, 96.0%], n = 120', or 'n = 0' when nothing was measured."""
    if figure["value"] is None:
        return "n = 0"
    low, high = figure["interval"]
    return f"{figure['value']:.1%} [{low:.1%}, {high:.1%}], n = {figure['n']}"


def _list(store, args) -> int:
    from judge.funnel import list_funnels

    funnels = list_funnels(store)
    if funnels.empty:
        print("no funnels yet: judge funnel create --name NAME --dataset D --stage ...", file=sys.stderr)
        return 0
    print(funnels.to_string(index=False))
    return 0
