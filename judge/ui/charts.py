"""Plotly figure builders for the Align pages: the pages pass report dicts in and render what comes out."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

SCORES = ["1", "2", "3", "4", "5"]
PRIMARY = "#4f46e5"      # the theme's primary color (.streamlit/config.toml)
SECONDARY = "#f59e0b"
BAND = "rgba(79, 70, 229, 0.15)"
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=340)


def confusion_heatmap(matrix: list[list[int]], *, labels: list[str] = SCORES, title: str = "Human vs judge") -> go.Figure:
    """Counts per (human, judge) cell; the diagonal is agreement."""
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale=[[0, "#ffffff"], [1, PRIMARY]], text=matrix,
                               texttemplate="%{text}", hovertemplate="human %{y}, judge %{x}: %{z}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="judge", yaxis_title="human", xaxis_type="category",
                      yaxis_type="category", **_LAYOUT)
    fig.update_yaxes(autorange="reversed")
    return fig


def score_distributions(matrix: list[list[int]]) -> go.Figure:
    """How often people and the judge give each score (the margins of the confusion matrix)."""
    human = [sum(row) for row in matrix]
    judge = [sum(col) for col in zip(*matrix)]
    fig = go.Figure([go.Bar(name="human", x=SCORES, y=human, marker_color=PRIMARY),
                     go.Bar(name="judge", x=SCORES, y=judge, marker_color=SECONDARY)])
    fig.update_layout(title="Score distributions", barmode="group", xaxis_title="score", yaxis_title="items",
                      xaxis_type="category", **_LAYOUT)
    return fig


def interval_chart(rows: list[tuple[str, dict[str, Any]]], *, title: str, axis_title: str = "") -> go.Figure:
    """One point per named figure with its 95% interval as an error bar (undefined figures are left out).

    The height follows the number of rows, so two runs do not float in a tall empty frame.
    """
    shown = [(name, fig) for name, fig in rows if fig["value"] is not None]
    values = [fig["value"] for _, fig in shown]
    plus = [fig["ci"][1] - fig["value"] if fig["ci"] else 0 for _, fig in shown]
    minus = [fig["value"] - fig["ci"][0] if fig["ci"] else 0 for _, fig in shown]
    fig = go.Figure(go.Scatter(x=values, y=[name for name, _ in shown], mode="markers",
                               error_x=dict(type="data", array=plus, arrayminus=minus, thickness=2, width=6),
                               marker=dict(size=11, color=PRIMARY), hovertemplate="%{y}: %{x:.3f}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title=axis_title, margin=dict(l=10, r=10, t=40, b=10),
                      height=110 + 40 * max(len(shown), 1))
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    return fig


def trend_figure(points: list[dict[str, Any]], key: str, *, title: str,
                 changes: list[dict[str, Any]] = (), significance: float = 0.05) -> go.Figure:
    """A figure over runs with its interval band, dotted lines where the judge changed, red regressions
    (significant at `significance` by the gate's test; the legend says the level)."""
    x = [f"{p['version_tag'] or p['created_at'][:16]} · {p['run_id'][-6:]}" for p in points]
    values = [p[key]["value"] for p in points]
    low = [p[key]["ci"][0] if p[key]["ci"] else None for p in points]
    high = [p[key]["ci"][1] if p[key]["ci"] else None for p in points]
    fig = go.Figure([
        go.Scatter(x=x, y=high, mode="lines", line=dict(width=0), showlegend=False, hoverinfo="skip"),
        go.Scatter(x=x, y=low, mode="lines", line=dict(width=0), fill="tonexty", fillcolor=BAND,
                   name="95% interval", hoverinfo="skip"),
        go.Scatter(x=x, y=values, mode="lines+markers", name=key.replace("_", " "), line=dict(color=PRIMARY),
                   customdata=[p["run_id"] for p in points], hovertemplate="%{x}: %{y:.3f}<br>run %{customdata}<extra></extra>"),
    ])
    regressions = [(x[i], values[i]) for i, p in enumerate(points) if p["regression"]]
    if regressions:
        fig.add_trace(go.Scatter(x=[r[0] for r in regressions], y=[r[1] for r in regressions], mode="markers",
                                 marker=dict(color="#ef4444", size=14, symbol="x"),
                                 name=f"regression (one-sided p < {significance:g})"))
    baseline = [(x[i], values[i]) for i, p in enumerate(points) if p["is_baseline"]]
    if baseline:
        fig.add_trace(go.Scatter(x=[baseline[0][0]], y=[baseline[0][1]], mode="markers", name="baseline",
                                 marker=dict(color="#10b981", size=16, symbol="star", line=dict(color="white", width=1))))
    for change in changes:
        fig.add_vline(x=change["index"] - 0.5, line_dash="dot", line_color="gray")
        fig.add_annotation(x=change["index"] - 0.5, y=1, yref="paper", text=change["change"], showarrow=False,
                           font=dict(size=10), xanchor="left")
    rate = "rate" in key
    fig.update_layout(title=title, xaxis_type="category", xaxis_title="run (app version · run id)",
                      yaxis_title=key.replace("_", " "), legend=dict(orientation="h", y=-0.35), **_LAYOUT)
    fig.update_yaxes(tickformat=".0%" if rate else ".1f", range=[0, 1.02] if rate else [0.9, 5.1])
    return fig
