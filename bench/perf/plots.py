"""The report's matplotlib figures (PNG, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

KINDS = ("wifi", "wifi_cell", "ble", "cell", "cell_area")
TITLES = {
    "wifi": "Wi-Fi",
    "wifi_cell": "Wi-Fi + cells",
    "ble": "BLE",
    "cell": "cell",
    "cell_area": "cell area",
}
ENGINES = (
    ("openloc", "OpenLoc", "-"),
    ("oracle", "oracle", "-."),
    ("ichnaea", "Ichnaea (b)", "--"),
    ("centroid", "centroid (a)", ":"),
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "font.size": 8})
    return plt


def _grid(accuracy: dict[str, Any]) -> tuple[Any, Any, list[tuple[str, dict[str, Any]]]]:
    plt = _pyplot()
    profiles = list(accuracy["profiles"].items())
    fig, axes = plt.subplots(
        len(profiles), len(KINDS), figsize=(2.6 * len(KINDS), 2.3 * len(profiles)), squeeze=False
    )
    return plt, (fig, axes), profiles


def error_cdf(accuracy: dict[str, Any], path: Path) -> None:
    plt, (fig, axes), profiles = _grid(accuracy)
    for row, (name, profile) in enumerate(profiles):
        for col, kind in enumerate(KINDS):
            ax = axes[row][col]
            for engine, label, style in ENGINES:
                s = profile["engines"].get(engine, {}).get(kind, {})
                if s.get("answered"):
                    q = s["error_quantiles"]
                    ax.plot([max(v, 0.1) for v in q], [i / 100 for i in range(len(q))], style, label=label)
            ax.set_xscale("log")
            ax.set_title(f"{name}: {TITLES[kind]}")
            ax.grid(True, which="both", alpha=0.3)
            if row == len(profiles) - 1:
                ax.set_xlabel("error (m)")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Error CDF per profile and query kind (answered queries, evaluation seeds)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def calibration(accuracy: dict[str, Any], path: Path) -> None:
    plt, (fig, axes), profiles = _grid(accuracy)
    for row, (name, profile) in enumerate(profiles):
        for col, kind in enumerate(KINDS):
            ax = axes[row][col]
            ax.axhspan(0.93, 0.97, color="green", alpha=0.15, label="target 93–97 %")
            ax.axvline(1.0, color="grey", lw=0.8)
            for engine, label, style in ENGINES:
                s = profile["engines"].get(engine, {}).get(kind, {})
                if s.get("answered") and engine != "oracle":
                    ax.plot([k for k, _ in s["curve"]], [v for _, v in s["curve"]], style, label=label)
            ax.set_title(f"{name}: {TITLES[kind]}")
            ax.set_ylim(0, 1.02)
            ax.grid(True, alpha=0.3)
            if row == len(profiles) - 1:
                ax.set_xlabel("returned radius × k")
    axes[0][0].legend(loc="lower right", fontsize=7)
    fig.suptitle(
        "Calibration: share of true positions inside k × the returned 95 % radius (evaluation seeds)"
    )
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
