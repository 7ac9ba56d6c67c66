"""The report's matplotlib figures (PNG, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

KINDS = ("wifi", "ble", "cell", "cell_area", "ip", "moved_ap")
TITLES = {
    "wifi": "Wi-Fi",
    "ble": "BLE",
    "cell": "cell",
    "cell_area": "cell area",
    "ip": "IP",
    "moved_ap": "Wi-Fi, one moved AP",
}
ENGINES = (("openloc", "OpenLoc", "-"), ("ichnaea", "Ichnaea (b)", "--"), ("centroid", "centroid (a)", ":"))


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "font.size": 9})
    return plt


def error_cdf(accuracy: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.5))
    for ax, kind in zip(axes.flat, KINDS, strict=True):
        for name, label, style in ENGINES:
            s = accuracy["engines"][name].get(kind, {})
            if s.get("answered"):
                q = s["error_quantiles"]
                ax.plot([max(v, 0.1) for v in q], [i / 100 for i in range(len(q))], style, label=label)
        ax.set_xscale("log")
        ax.set_title(TITLES[kind])
        ax.set_xlabel("error (m)")
        ax.set_ylabel("share of answers")
        ax.grid(True, which="both", alpha=0.3)
    axes.flat[0].legend()
    fig.suptitle("Error CDF per query kind (answered queries)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def calibration(accuracy: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.5))
    for ax, kind in zip(axes.flat, KINDS, strict=True):
        ax.axhspan(0.93, 0.97, color="green", alpha=0.15, label="target 93–97 %")
        ax.axvline(1.0, color="grey", lw=0.8)
        for name, label, style in ENGINES:
            s = accuracy["engines"][name].get(kind, {})
            if s.get("answered"):
                ax.plot([k for k, _ in s["curve"]], [v for _, v in s["curve"]], style, label=label)
        ax.set_title(TITLES[kind])
        ax.set_xlabel("returned radius × k")
        ax.set_ylabel("truth inside")
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
    axes.flat[0].legend(loc="lower right")
    fig.suptitle("Calibration: share of true positions inside k × the returned 95 % radius")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def throughput(results: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    rows = (results.get("aggregation") or {}).get("throughput", [])
    if rows:
        left.plot([r[0] for r in rows], [r[2] for r in rows], "o-")
    left.set_xscale("log")
    left.set_xlabel("observations per batch")
    left.set_ylabel("observations/s (one core)")
    left.set_title("Aggregation throughput vs batch size")
    left.grid(True, which="both", alpha=0.3)
    levels = (results.get("http") or {}).get("levels", [])
    if levels:
        right.plot([r["concurrency"] for r in levels], [r["rps"] for r in levels], "o-")
    right.set_xscale("log", base=2)
    right.set_xlabel("requests in flight")
    right.set_ylabel("requests/s")
    right.set_title("Local stack /v1/geolocate throughput")
    right.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def latency(results: dict[str, Any], path: Path) -> None:
    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    series = [
        ((results.get("locate") or {}).get("samples_50wifi_10cells_us", []), "µs", "engine: 50 Wi-Fi + 10 cells"),
        (((results.get("accuracy") or {}).get("http_latency_ms") or {}).get("samples", []), "ms",
         "in-process /v1/geolocate (world queries)"),
        (next((r.get("samples_ms", []) for r in (results.get("http") or {}).get("levels", []) if r["concurrency"] == 1), []),
         "ms", "local stack HTTP, 1 in flight"),
    ]  # fmt: skip
    for ax, (samples, unit, title) in zip(axes, series, strict=True):
        if samples:
            cut = sorted(samples)[max(0, int(len(samples) * 0.995) - 1)]
            ax.hist([s for s in samples if s <= cut], bins=50)
        ax.set_title(title)
        ax.set_xlabel(unit)
        ax.set_ylabel("requests")
    fig.suptitle("Latency histograms (top 0.5 % cut for readability)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_plots(results: dict[str, Any], directory: Path) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if results.get("accuracy"):
        error_cdf(results["accuracy"], directory / "error_cdf.png")
        calibration(results["accuracy"], directory / "calibration.png")
        written += ["error_cdf.png", "calibration.png"]
    throughput(results, directory / "throughput.png")
    latency(results, directory / "latency.png")
    return [*written, "throughput.png", "latency.png"]
