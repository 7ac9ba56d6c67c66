"""Markdown tables of an accuracy result."""

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
ENGINE_LABELS = {"openloc": "OpenLoc", "ichnaea": "Ichnaea (b)", "centroid": "centroid (a)"}


def _m(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


def accuracy_tables(result: dict[str, Any]) -> str:
    engines = result["engines"]
    lines = [
        "| query kind | locator | answered | median m | p90 m | p99 m | inside radius | median radius m | radius ÷ error | scale for 95 % |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    kinds = [k for k in KIND_LABELS if k in engines["openloc"]]
    for kind in kinds:
        for name in ("openloc", "ichnaea", "centroid"):
            s = engines[name][kind]
            answered = f"{s['answer_rate']:.0%} of {s['asked']}"
            if not s["answered"]:
                lines.append(
                    f"| {KIND_LABELS[kind]} | {ENGINE_LABELS[name]} | {answered} | – | – | – | – | – | – | – |"
                )
                continue
            lines.append(
                f"| {KIND_LABELS[kind]} | {ENGINE_LABELS[name]} | {answered} | {_m(s['median_m'])} | {_m(s['p90_m'])} | "
                f"{_m(s['p99_m'])} | {s['coverage']:.1%} | {_m(s['median_radius_m'])} | {s['radius_to_error']:.1f} | "
                f"{s['scale_for_95']:.2f} |"
            )
    return "\n".join(lines)
