"""Markdown tables of an accuracy result: one world (`accuracy_tables`) or the profiles."""

from __future__ import annotations

from typing import Any

KIND_LABELS = {
    "wifi": "Wi-Fi",
    "wifi_cell": "Wi-Fi + cells (phone)",
    "ble": "BLE",
    "cell": "cell",
    "cell_area": "cell area",
    "ip": "IP",
    "moved_ap": "Wi-Fi, one moved AP",
    "mobile_ap": "Wi-Fi + a bus hotspot",
    "single_ap": "single AP (must refuse)",
}
ENGINE_LABELS = {
    "openloc": "**OpenLoc**",
    "oracle": "oracle (true AP positions)",
    "before": "OpenLoc before",
    "ichnaea": "Ichnaea (b)",
    "centroid": "centroid (a)",
}
# The goals (docs/accuracy.md): the error of OpenLoc ÷ that of the better baseline, at most
GOAL_MEDIAN = {"wifi": 0.75, "wifi_cell": 0.75, "ble": 1.0, "cell": 1.0}
GOAL_P90 = {"wifi": 0.9, "wifi_cell": 0.9, "ble": 1.0, "cell": 1.0}
GOAL_RADIUS = {"wifi": 2.5, "wifi_cell": 2.5, "ble": 2.5, "cell": 3.0}
COVERAGE_KINDS = ("wifi", "wifi_cell", "ble", "cell", "cell_area")
COVERAGE = (0.93, 0.97)


def _m(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def _row(kind: str, name: str, s: dict[str, Any]) -> str:
    answered = f"{s['answer_rate']:.0%} of {s['asked']}"
    if not s["answered"]:
        return f"| {KIND_LABELS[kind]} | {ENGINE_LABELS[name]} | {answered} | – | – | – | – | – | – | – |"
    return (
        f"| {KIND_LABELS[kind]} | {ENGINE_LABELS[name]} | {answered} | {_m(s['median_m'])} | {_m(s['p90_m'])} | "
        f"{_m(s['p99_m'])} | {s['coverage']:.1%} | {_m(s['median_radius_m'])} | {s['radius_to_error']:.1f} | "
        f"{s['scale_for_95']:.2f} |"
    )


HEADER = [
    "| query kind | locator | answered | median m | p90 m | p99 m | inside radius | median radius m | radius ÷ error | scale for 95 % |",
    "|---|---|---|---|---|---|---|---|---|---|",
]


def accuracy_tables(result: dict[str, Any]) -> str:
    engines = result["engines"]
    lines = list(HEADER)
    for kind in (k for k in KIND_LABELS if k in engines["openloc"]):
        for name in (n for n in ENGINE_LABELS if n in engines and kind in engines[n]):
            if kind == "ip" and name in ("oracle", "before"):
                continue  # station engines without GeoIP
            lines.append(_row(kind, name, engines[name][kind]))
    return "\n".join(lines)


def _better(engines: dict[str, Any], kind: str, key: str) -> float | None:
    values = [
        engines[b][kind][key]
        for b in ("ichnaea", "centroid")
        if engines[b].get(kind, {}).get(key) is not None
    ]
    return min(values) if values else None


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


def goal_rows(engines: dict[str, Any]) -> list[dict[str, Any]]:
    """Per query kind: OpenLoc (and before) ÷ the better baseline, coverage, radius ÷ error,
    answer rate against before, and whether each goal is met."""
    rows = []
    for kind in ("wifi", "wifi_cell", "ble", "cell", "cell_area", "moved_ap", "mobile_ap"):
        ours = engines["openloc"].get(kind)
        if not ours or not ours.get("answered"):
            continue
        before = engines["before"].get(kind, {})
        row: dict[str, Any] = {
            "kind": kind,
            "median_ratio": _ratio(ours["median_m"], _better(engines, kind, "median_m")),
            "p90_ratio": _ratio(ours["p90_m"], _better(engines, kind, "p90_m")),
            "before_median_ratio": _ratio(before.get("median_m"), _better(engines, kind, "median_m")),
            "before_p90_ratio": _ratio(before.get("p90_m"), _better(engines, kind, "p90_m")),
            "coverage": ours["coverage"],
            "radius_to_error": ours["radius_to_error"],
            "answer_rate": ours["answer_rate"],
            "before_answer_rate": before.get("answer_rate"),
        }
        met = []
        if kind in GOAL_MEDIAN and row["median_ratio"] is not None:
            met.append(row["median_ratio"] <= GOAL_MEDIAN[kind])
        if kind in GOAL_P90 and row["p90_ratio"] is not None:
            met.append(row["p90_ratio"] <= GOAL_P90[kind])
        if kind in COVERAGE_KINDS:
            met.append(COVERAGE[0] <= row["coverage"] <= COVERAGE[1])
        if kind in GOAL_RADIUS:
            met.append(row["radius_to_error"] <= GOAL_RADIUS[kind])
        if row["before_answer_rate"] is not None:
            met.append(row["answer_rate"] >= row["before_answer_rate"] - 0.01)
        row["met"] = all(met) if met else None
        rows.append(row)
    return rows


def _x(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}×"


def goal_table(engines: dict[str, Any]) -> str:
    lines = [
        "| query kind | median ÷ better baseline (goal) | p90 ÷ better baseline (goal) | before: median ÷, p90 ÷ | inside radius (93–97 %) | radius ÷ error (goal) | answered (before) | goals met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in goal_rows(engines):
        kind = r["kind"]
        median_goal = f" (≤ {GOAL_MEDIAN[kind]:.2f})" if kind in GOAL_MEDIAN else ""
        p90_goal = f" (≤ {GOAL_P90[kind]:.2f})" if kind in GOAL_P90 else ""
        radius_goal = f" (≤ {GOAL_RADIUS[kind]:.1f})" if kind in GOAL_RADIUS else ""
        before_rate = f"{r['before_answer_rate']:.0%}" if r["before_answer_rate"] is not None else "–"
        met = {True: "yes", False: "**no**", None: "–"}[r["met"]]
        lines.append(
            f"| {KIND_LABELS[kind]} | {_x(r['median_ratio'])}{median_goal} | {_x(r['p90_ratio'])}{p90_goal} | "
            f"{_x(r['before_median_ratio'])}, {_x(r['before_p90_ratio'])} | {r['coverage']:.1%} | "
            f"{r['radius_to_error']:.2f}{radius_goal} | {r['answer_rate']:.0%} ({before_rate}) | {met} |"
        )
    return "\n".join(lines)


def profile_tables(result: dict[str, Any]) -> str:
    out = []
    for name, profile in result["profiles"].items():
        out += [f"#### {name}", "", goal_table(profile["engines"]), "", accuracy_tables(profile), ""]
    return "\n".join(out)
