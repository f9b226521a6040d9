"""No second formula anywhere: every figure is defined once, in cases/metrics.py.

Scans the project's code and templates for the arithmetic a figure is made of (percentages, averages,
medians, rate guards, sums of points) and fails with the file and line, so that mediation, grids,
petitions, reception, dashboards, reports and the API call cases.metrics instead of writing their
own. A use that is not a reported figure goes on the allow-list below with its reason.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [
    "zongzhi",
    "centers",
    "cases",
    "grids",
    "petitions",
    "mediation",
    "reception",
    "dashboards",
    "demo",
    "templates",
    "static",
]
SKIPPED_PARTS = {"migrations", "vendor", "__pycache__", "node_modules"}
THE_ONE_PLACE = ROOT / "cases" / "metrics.py"

FORBIDDEN = {
    "percentage arithmetic (use metrics.rate / a figure function)": re.compile(
        r"\*\s*100(\.0*)?\b|\b100(\.0*)?\s*\*"
    ),
    "an average (use metrics.average_days / average_days_to_resolve)": re.compile(r"\bAvg\("),
    "a median (use metrics.median_duration / median_days_to_resolve)": re.compile(
        r"percentile_cont|percentile_disc|statistics\.(mean|fmean|median)", re.IGNORECASE
    ),
    "a rate's zero guard (use metrics.rate)": re.compile(r"\bNullIf\("),
    "a score (use metrics.score)": re.compile(r"""Sum\(\s*["'][\w_]*points["']"""),
    "a template ratio (compute the figure with cases.metrics)": re.compile(r"{%\s*widthratio"),
}

# (path relative to the root, a piece of the line) → why it is not a second formula.
ALLOWED = {
    (
        "cases/clocks.py",
        "int(ratio * 100)",
    ): "shows a clock rule's yellow threshold as a percentage, not a figure",
    ("mediation/pdf.py", "* 100)"): "splits an amount into yuan and fen for the agreement's capital letters",
    ("petitions/fusion.py", "(current or 1) * 100"): "reads the Chinese numeral 百 (hundred) in a text, not a figure",
}


def _files():
    for top in SCANNED:
        base = ROOT / top
        if not base.exists():
            continue
        for path in base.rglob("*"):
            if path.suffix not in (".py", ".html", ".js") or path.name.endswith(".min.js"):
                continue
            if SKIPPED_PARTS & set(path.relative_to(ROOT).parts) or path == THE_ONE_PLACE:
                continue
            yield path


def test_no_figure_is_computed_outside_cases_metrics():
    found = []
    for path in _files():
        rel = path.relative_to(ROOT).as_posix()
        for no, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            for what, pattern in FORBIDDEN.items():
                if pattern.search(line) and not any(rel == f and piece in line for f, piece in ALLOWED):
                    found.append(f"{rel}:{no}: {what}: {line.strip()}")
    assert not found, "A second formula outside cases/metrics.py:\n" + "\n".join(found)


def test_the_scan_would_catch_one():
    """The patterns match the formulas they are meant to stop (so the test above cannot pass vacuously)."""
    samples = {
        "rate = resolved * 100 / total": True,
        "pct = 100.0 * ok / n": True,
        'Avg(F("closed_at") - F("created_at"))': True,
        "statistics.median(days)": True,
        'NullIf(Count("pk"), 0)': True,
        'Sum("points")': True,
        "{% widthratio done total 100 %}": True,
        "metrics.resolution_rate(period=period)": False,
        "limit = 100": False,
    }
    for text, bad in samples.items():
        assert any(p.search(text) for p in FORBIDDEN.values()) is bad, text


def test_metrics_defines_every_figure_the_issue_names():
    from cases import metrics

    for name in (
        "resolution_rate",
        "on_time_close_rate",
        "satisfaction_rate",
        "repeat_petition_rate",
        "average_days_to_resolve",
        "median_days_to_resolve",
        "escalation_rate",
        "overdue_count",
        "step_on_time_rate",
        "score",
        "success_rate",
        "average_days",
        "amount_sum",
    ):
        assert callable(getattr(metrics, name)), name
        assert name in metrics.__doc__, f"{name} is not documented in cases/metrics.py"
