"""`judge task ...`, `judge link ...` and `judge serve-check`: team labeling from a terminal."""

from __future__ import annotations

import argparse
import json
import os
import tomllib
from pathlib import Path

from judge import team
from judge.errors import JudgeError

SECRETS_FILE = Path(".streamlit") / "secrets.toml"


def register(sub: argparse._SubParsersAction) -> None:
    task = sub.add_parser("task", help="labeling tasks for a team").add_subparsers(dest="task_command", required=True)

    create = task.add_parser("create", help="create a labeling task over a dataset or a sample of it")
    create.add_argument("--name", required=True)
    create.add_argument("--dataset", required=True)
    create.add_argument("--version", type=int, help="dataset version (default: latest)")
    create.add_argument("--rubric", help="saved rubric name; its latest version is pinned")
    create.add_argument("--instructions", help="instructions shown to annotators")
    create.add_argument("--instructions-file", type=Path, help="read the instructions from this file")
    create.add_argument("--overlap", type=int, default=1, help="annotators per item (2+ to measure agreement)")
    create.add_argument("--sample", type=int, dest="sample_size", help="label a random sample of this many items")
    create.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    create.add_argument("--filter", action="append", default=[], metavar="COLUMN=VALUE",
                        help="keep items whose metadata column equals VALUE (repeatable)")
    create.add_argument("--due", help="due date, YYYY-MM-DD")
    create.add_argument("--strategy", choices=("random", "suspicion", "uncertain", "disagreement", "stratified"),
                        help="label the items this label-next strategy suggests (--sample of them, default 20)")
    create.set_defaults(handler=_task_create)

    task.add_parser("list", help="list tasks").set_defaults(handler=_task_list)
    show = task.add_parser("show", help="progress, pace and agreement of a task")
    show.add_argument("task_id", type=int)
    show.set_defaults(handler=_task_show)
    close = task.add_parser("close", help="stop accepting labels from the task's links")
    close.add_argument("task_id", type=int)
    close.set_defaults(handler=_task_close)

    link = sub.add_parser("link", help="labeling links (tokens)").add_subparsers(dest="link_command", required=True)
    make = link.add_parser("create", help="create a link and print its URL (shown only once)")
    make.add_argument("task_id", type=int)
    who = make.add_mutually_exclusive_group(required=True)
    who.add_argument("--annotator", help="the person this link labels as")
    who.add_argument("--open", action="store_true", help="an open link: each person types a name")
    make.add_argument("--days", type=float, default=team.DEFAULT_LINK_DAYS, help="days until it expires")
    make.add_argument("--base-url", help=f"dashboard URL as annotators reach it (default ${team.BASE_URL_ENV} "
                                         "or http://localhost:8501)")
    make.set_defaults(handler=_link_create)
    listing = link.add_parser("list", help="list links (never their tokens)")
    listing.add_argument("--task", type=int, dest="task_id")
    listing.set_defaults(handler=_link_list)
    revoke = link.add_parser("revoke", help="revoke a link: it stops working at its next click")
    revoke.add_argument("link_id", type=int)
    revoke.set_defaults(handler=_link_revoke)

    check = sub.add_parser("serve-check", help="refuse (exit 2) to serve beyond localhost without an owner secret")
    check.add_argument("--address", default="127.0.0.1", help="the address Streamlit will bind")
    check.set_defaults(handler=_serve_check)

    serve = sub.add_parser("serve", help="serve the dashboard on this store (refuses unsafe addresses)")
    serve.add_argument("--address", default="127.0.0.1", help="address to bind (default: this machine only)")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("streamlit_options", nargs=argparse.REMAINDER,
                       help="further `streamlit run` options, e.g. --server.baseUrlPath judge")
    serve.set_defaults(handler=_serve)


def _parse_filters(pairs: list[str]) -> dict[str, str] | None:
    out = {}
    for pair in pairs:
        column, sep, value = pair.partition("=")
        if not sep or not column:
            raise team.InvalidInput(f"--filter takes COLUMN=VALUE, not {pair!r}.")
        out[column] = value
    return out or None


def _task_create(store, args) -> int:
    instructions = args.instructions
    if args.instructions_file:
        instructions = args.instructions_file.read_text(encoding="utf-8")
    task_id = team.create_task(
        store, name=args.name, dataset=args.dataset, version=args.version, rubric=args.rubric,
        instructions=instructions, overlap=args.overlap, sample_size=args.sample_size, seed=args.seed,
        filter=_parse_filters(args.filter), due_date=args.due, strategy=args.strategy,
    )
    items = len(store.task_items(task_id))
    print(f"task {task_id}: {items} items, overlap {args.overlap}. Next: judge link create {task_id} --annotator NAME")
    return 0


def _task_list(store, args) -> int:
    tasks = store.tasks()
    print(tasks.to_string(index=False) if not tasks.empty else "no tasks yet (judge task create ...)")
    return 0


def _task_show(store, args) -> int:
    task = store.task(args.task_id)
    report = {
        "task": task,
        "items": len(store.task_items(args.task_id)),
        "annotators": team.annotator_stats(store, args.task_id),
        "agreement": team.agreement(store, args.task_id),
        "disagreements": len(team.disagreements(store, args.task_id)),
    }
    print(json.dumps(report, indent=2, default=str))
    return 0


def _task_close(store, args) -> int:
    team.close_task(store, args.task_id)
    print(f"task {args.task_id} closed")
    return 0


def _link_create(store, args) -> int:
    link = team.create_link(store, args.task_id, annotator=None if args.open else args.annotator,
                            expires_in=team.link_lifetime(args.days))
    print(f"link {link.link_id} for {link.annotator or 'anyone who types a name'}, expires {link.expires_at:%Y-%m-%d %H:%M} UTC")
    print(link.url(args.base_url))
    print("This URL is shown once: only a hash of its token is stored.")
    return 0


def _link_list(store, args) -> int:
    links = store.task_links(args.task_id)
    print(links.to_string(index=False) if not links.empty else "no links yet (judge link create ...)")
    return 0


def _link_revoke(store, args) -> int:
    team.revoke_link(store, args.link_id)
    print(f"link {args.link_id} revoked")
    return 0


def _refuse_unsafe_address(address: str) -> None:
    secrets_map = tomllib.loads(SECRETS_FILE.read_text(encoding="utf-8")) if SECRETS_FILE.exists() else {}
    oidc_owners = team.owner_emails(secrets_map) if "auth" in secrets_map else set()
    problem = team.serving_problem(address, secret=team.owner_secret(secrets_map), oidc_owners=oidc_owners)
    if problem:
        raise JudgeError(problem)


def _serve_check(store, args) -> int:
    _refuse_unsafe_address(args.address)
    print(f"ok: serving on {args.address} is protected" if not team.is_loopback(args.address)
          else f"ok: {args.address} is reachable from this machine only")
    return 0


def _serve(store, args) -> int:
    """`judge serve`: refuse an unsafe address, then run the dashboard on this store in this process."""
    _refuse_unsafe_address(args.address)
    app = Path(__file__).resolve().parents[2] / "app.py"
    if not app.exists():
        raise JudgeError(f"{app} is missing: `judge serve` runs from a checkout of Judge Workbench.")
    os.environ["JUDGE_DB"] = str(store.path.resolve())
    from judge.ui.server import serve

    return serve(app, address=args.address, port=args.port,
                 options=[o for o in args.streamlit_options if o != "--"])
