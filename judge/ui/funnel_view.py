"""What the Funnel page draws from a funnel report: the funnel chart and the tables (the page stays thin)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import plotly.graph_objects as go

from judge.ui.charts import PRIMARY, SECONDARY

# The demo's funnel (data/demo_support.jsonl, graded 'resolved' pass/fail), offered as the form's defaults.
DEMO_FUNNEL = {"name": "support-resolved", "dataset": "support", "criterion": "resolved",
               "stages": "offline:reference_f1/fail\ndistilled"}


def share_text(figure: dict[str, Any] | None) -> str:
    """'93.0% [88.1%, 96.0%] n=120', or 'n/a · n=0' when nothing was measured."""
    if not figure or figure["value"] is None:
        return f"n/a · n={figure['n'] if figure else 0}"
    low, high = figure["interval"]
    return f"{figure['value']:.1%} [{low:.1%}, {high:.1%}] n={figure['n']}"


def money(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.4f}"


def funnel_chart(report: dict[str, Any]) -> go.Figure:
    """One bar per stage, as long as the items that reached it: the part it settled in color, the part it
    passed on in grey (people settle all that reaches them)."""
    stages = report["stages"]
    labels = [s["label"] for s in stages]
    settled = [s["settled"] for s in stages]
    passed_on = [s["reached"] - s["settled"] for s in stages]
    fig = go.Figure([
        go.Bar(y=labels, x=settled, orientation="h", name="settled here", text=settled, textposition="inside",
               marker_color=[SECONDARY if s["kind"] == "people" else PRIMARY for s in stages],
               hovertemplate="%{y}: settled %{x}<extra></extra>"),
        go.Bar(y=labels, x=passed_on, orientation="h", name="passed on", text=passed_on, textposition="inside",
               marker_color="#d1d5db", hovertemplate="%{y}: passed on %{x}<extra></extra>"),
    ])
    fig.update_layout(title="Where the items went", barmode="stack", yaxis=dict(autorange="reversed"),
                      xaxis_title="items", legend=dict(orientation="h", y=-0.25),
                      margin=dict(l=10, r=10, t=40, b=10), height=120 + 50 * len(stages))
    return fig


def stage_table(report: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for s in report["stages"]:
        judge = s["kind"] != "people"
        rows.append({"Stage": s["label"],
                     "Threshold": "" if s["threshold"] is None else f"{s['threshold']:.4g}",
                     "Reached": s["reached"], "Settled": s["settled"], "Failed calls": s["failed"],
                     "Held-out agreement (95% CI, n)": share_text(s["heldout_agreement"]) if judge else "",
                     "Cost (full price)": money(s["full_price_usd"]) if judge else "",
                     "Latency p50": "" if s["latency_p50_ms"] is None else f"{s['latency_p50_ms']:,.0f} ms",
                     "Calibration": s["calibration_note"]})
    return pd.DataFrame(rows)


def version_table(report: dict[str, Any]) -> pd.DataFrame:
    """The app-version view: per dataset version, what passes the judges' screen and what needs people."""
    return pd.DataFrame([{"Dataset version": v["dataset_version"], "Items": v["items"],
                          "Pass the judges' screen": v["judges_pass"], "Fail it": v["judges_fail"],
                          "Need people": v["people"],
                          "Pass share of judged (95% CI, n)": share_text(v["pass_share_of_judged"])}
                         for v in report["versions"]])


def comparison_table(report: dict[str, Any]) -> pd.DataFrame:
    """The whole funnel against the strongest judge alone on the same held-out items."""
    total, alone = report["funnel_total"], report["strongest_alone"]
    rows = [{"": "Funnel", "Agreement on held-out (95% CI, n)": share_text(total["agreement"]),
             "Cost, all items (full price)": money(total["full_price_usd"]), "Items for people": total["people"]}]
    if alone:
        rows.append({"": f"{alone['label']} alone",
                     "Agreement on held-out (95% CI, n)": share_text(alone["agreement"]),
                     "Cost, all items (full price)": money(alone["full_price_usd_all_items"]),
                     "Items for people": alone["people_items_estimate"]})
    return pd.DataFrame(rows)
