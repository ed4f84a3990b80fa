"""Summaries of latency samples: percentiles, and a compact CDF for the plot."""

from __future__ import annotations

import math

#: Percentiles kept for the plot: enough points for a smooth CDF, few enough
#: for the results file.
CDF_POINTS = [i * 0.5 for i in range(0, 199)] + [99.5, 99.7, 99.9, 99.95, 99.99, 100.0]


def percentile(ordered: list[float], p: float) -> float:
    """Linear interpolation between closest ranks; ``ordered`` is sorted."""
    if not ordered:
        return math.nan
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarize(samples: list[float]) -> dict:
    """Seconds in, milliseconds out."""
    ordered = sorted(samples)
    if not ordered:
        return {"n": 0}
    ms = [x * 1000.0 for x in ordered]
    return {
        "n": len(ms),
        "mean_ms": sum(ms) / len(ms),
        "p50_ms": percentile(ms, 50),
        "p90_ms": percentile(ms, 90),
        "p99_ms": percentile(ms, 99),
        "p999_ms": percentile(ms, 99.9),
        "max_ms": ms[-1],
        "cdf_ms": [[p, percentile(ms, p)] for p in CDF_POINTS],
    }


def median(values: list[float]) -> float:
    ordered = sorted(v for v in values if v is not None and not math.isnan(v))
    if not ordered:
        return math.nan
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
