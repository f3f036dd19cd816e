"""Plotly figures for the Rankings page: strengths with intervals, the win-rate matrix, P(beat)."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

from judge.ui.charts import PRIMARY

_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=360)


def rating_chart(ranking: list[dict[str, Any]], *, title: str = "Bradley-Terry rating (95% interval)") -> go.Figure:
    systems = [r["system"] for r in ranking][::-1]
    ratings = [r["rating"] for r in ranking][::-1]
    lows = [r["rating"] - r["rating_ci"][0] for r in ranking][::-1]
    highs = [r["rating_ci"][1] - r["rating"] for r in ranking][::-1]
    fig = go.Figure(go.Scatter(x=ratings, y=systems, mode="markers", marker=dict(color=PRIMARY, size=10),
                               error_x=dict(type="data", array=highs, arrayminus=lows)))
    fig.update_layout(title=title, xaxis_title="rating (Elo scale)", **_LAYOUT)
    return fig


def matrix_heatmap(matrix: dict[str, dict[str, float | None]], systems: list[str], *, title: str) -> go.Figure:
    """Row system vs column system (the diagonal is empty); values are shares from 0 to 1."""
    z = [[None if row == col else matrix[row].get(col) for col in systems] for row in systems]
    text = [["" if v is None else f"{v:.0%}" for v in line] for line in z]
    fig = go.Figure(go.Heatmap(z=z, x=systems, y=systems, zmin=0, zmax=1, text=text, texttemplate="%{text}",
                               colorscale=[[0, "#ffffff"], [1, PRIMARY]],
                               hovertemplate="%{y} vs %{x}: %{z:.1%}<extra></extra>"))
    fig.update_layout(title=title, xaxis_title="opponent", yaxis_title="system", xaxis_type="category",
                      yaxis_type="category", **_LAYOUT)
    fig.update_yaxes(autorange="reversed")
    return fig
