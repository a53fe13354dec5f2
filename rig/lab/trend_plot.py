"""A measurement's trend as a picture: each stored value with its U band, the limits, the
guard bands inside them, and the series that drift towards a limit named, their fitted
line continued (dotted) to where it enters the guard band.

Drawn with matplotlib (one plot per question, so its generality costs nothing that
matters here), from the same rows the table and the CSV show.
"""

from __future__ import annotations

from pathlib import Path

from rig.lab.queries import Trend

MAX_LEGEND = 12


def draw_trend(trend: Trend, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = trend.series()
    fig, ax = plt.subplots(figsize=(9, 4.8), dpi=120)
    index: dict[str, int] = {}  # the runs in the order the query gave them: oldest first
    labels: list[str] = []
    for p in trend.points:
        if p["run_id"] not in index:
            index[p["run_id"]] = len(index)
            labels.append(p["run_id"] + (f"\n{p['dut_serial']}" if p["dut_serial"] else ""))
    drifts = {d.test: d for d in trend.drifts}
    drifting = set(drifts)
    for n, (test, points) in enumerate(series.items()):
        shown = [p for p in points if p["value"] is not None]
        x = [index[p["run_id"]] + 0.08 * (n % 5 - 2) * (len(series) > 1) for p in shown]
        y = [p["value"] for p in shown]
        u = [p["uncertainty"] or 0.0 for p in shown]
        label = test.split("::")[-1] + ("  (drifting)" if test in drifting else "")
        ax.errorbar(
            x,
            y,
            yerr=u,
            fmt="o-" if test in drifting else "o",
            ms=4,
            lw=1.2 if test in drifting else 0,
            elinewidth=1,
            capsize=3,
            label=label if n < MAX_LEGEND else None,
        )
        if test in drifts and shown:  # the fitted line, continued to the guard band
            d, last = drifts[test], index[shown[-1]["run_id"]]
            ahead = max(d.runs_left, 0.0) + 0.5
            first = last - (d.points - 1)
            ax.plot(
                [first, last + ahead],
                [d.fitted_last - d.per_run * (d.points - 1), d.fitted_last + d.per_run * ahead],
                ls=":",
                lw=1.2,
                color="#555555",
            )
        for p, xi in zip(shown, x, strict=True):
            if p["verdict"] != "pass":
                ax.annotate(p["verdict"].upper(), (xi, p["value"]), fontsize=7, color="#b00020")
    lows = {p["low"] for p in trend.points if p["low"] is not None}
    highs = {p["high"] for p in trend.points if p["high"] is not None}
    us = sorted(p["uncertainty"] for p in trend.points if p["uncertainty"])
    u_typ = us[len(us) // 2] if us else 0.0
    for limit, sign, name in [(v, +1, "low") for v in lows] + [(v, -1, "high") for v in highs]:
        ax.axhline(limit, color="#b00020", ls="--", lw=1.2)
        ax.annotate(
            f"{name} limit {limit:g}",
            (0, limit),
            fontsize=8,
            color="#b00020",
            xytext=(2, 2),
            textcoords="offset points",
        )
        if u_typ:  # guarded acceptance: within U of a limit is conditional
            ax.axhspan(limit, limit + sign * u_typ, color="#f2b8b5", alpha=0.5, lw=0)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel(f"{trend.name} ({trend.unit})" if trend.unit else trend.name)
    title = f"{trend.name}: {len(trend.points)} values from {len(labels)} runs"
    ax.set_title(title + (f"; {len(drifting)} series drifting" if drifting else ""), fontsize=10)
    ax.grid(True, color="#dddddd", lw=0.6)
    if series:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
