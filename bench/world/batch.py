"""A full upload of the current Android stumbler, built the way the app builds it.

NeoStumbler (the maintained Android stumbler) scans every few seconds and uploads its stored
reports as one `/v2/geosubmit` body of up to 2 000 reports, gzip-compressed. A typical report
names ~15 Wi-Fi access points and the serving LTE cell, with a GPS position. Consecutive scans of
a walk hear mostly the same networks, whose MACs share a few vendor prefixes, so the body
compresses about like a real one: 2 000 reports are ~2.9 MB of JSON and ~230 KiB of gzip (the
upload that was refused in production: 2.4 MB of JSON, 243 KiB of gzip).

Used by the request-cost benchmark (`bench/request_cost.py`) and by the tests that reproduce the
full-size batch (tests/integration/test_large_submissions.py, tests/unit/api/test_body.py).
"""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

FULL_BATCH_REPORTS = 2_000  # what one upload of the app holds at most
WIFI_PER_REPORT = 15
CELLS_PER_REPORT = 1


# Vendor prefixes (OUIs) of common access points: real MACs share few of them.
_OUIS = [f"{a:02x}:{b:02x}:{c:02x}" for a, b, c in (
    (0x00, 0x1A, 0x2B), (0x3C, 0xA6, 0x2F), (0x74, 0x42, 0x7F), (0x98, 0x9B, 0xCB), (0xE0, 0x28, 0x6D),
    (0x44, 0x4E, 0x6D), (0x38, 0x10, 0xD5), (0xC8, 0x0E, 0x14), (0x5C, 0x49, 0x79), (0x7C, 0xFF, 0x4D),
    (0x00, 0x24, 0xFE), (0x08, 0x96, 0xD7), (0x2C, 0x91, 0xAB), (0xB0, 0x4E, 0x26), (0xF0, 0x9F, 0xC2),
    (0x00, 0x1F, 0x3F), (0x34, 0x31, 0xC4), (0x84, 0x16, 0xF9), (0xD4, 0x21, 0x22), (0x60, 0x31, 0x97),
)]  # fmt: skip


def _mac(rng: random.Random) -> str:
    """A globally administered unicast MAC (collected; a randomised one would not be)."""
    return f"{rng.choice(_OUIS)}:{rng.randrange(256):02x}:{rng.randrange(256):02x}:{rng.randrange(256):02x}"


def _wifi(rng: random.Random) -> dict[str, Any]:
    return {"macAddress": _mac(rng), "frequency": rng.choice((2412, 2437, 2462, 5180, 5500)),
            "signalStrength": rng.randrange(-95, -40)}  # fmt: skip


def _cell(rng: random.Random) -> dict[str, Any]:
    return {"radioType": "lte", "mobileCountryCode": 262, "mobileNetworkCode": 1,
            "locationAreaCode": 4000 + rng.randrange(100), "cellId": rng.randrange(1, 2**28),
            "primaryScramblingCode": rng.randrange(504), "signalStrength": rng.randrange(-120, -60),
            "serving": 1}  # fmt: skip


def stumbler_batch(
    timestamp_ms: int, reports: int = FULL_BATCH_REPORTS, seed: int = 0, networks: int | None = None
) -> dict[str, Any]:
    """The `/v2/geosubmit` body of one upload: `reports` scans 3 s apart along a walk near Berlin,
    newest first. Consecutive scans hear mostly the same networks (a few change each time) and the
    same serving LTE cell for a while, as a real walk does. With `networks`, the walk goes round the
    same blocks: every network heard is one of that many (fewer stations to aggregate)."""
    rng = random.Random(seed)
    lat, lon = 52.45 + rng.random() * 0.1, 13.30 + rng.random() * 0.1
    pool = [_wifi(rng) for _ in range(networks)] if networks else []
    heard = rng.sample(pool, WIFI_PER_REPORT) if pool else [_wifi(rng) for _ in range(WIFI_PER_REPORT)]
    cells = [_cell(rng) for _ in range(CELLS_PER_REPORT)]
    items = []
    for index in range(reports):
        lat += rng.uniform(-1, 1) * 2e-4
        lon += rng.uniform(-1, 1) * 3e-4
        for _ in range(rng.randrange(3, 7)):  # some networks fade, new ones appear
            new = _wifi(rng) if not pool else dict(rng.choice(pool))
            if all(w["macAddress"] != new["macAddress"] for w in heard):
                heard[rng.randrange(WIFI_PER_REPORT)] = new
        for wifi in heard:
            wifi["signalStrength"] = max(-100, min(-30, wifi["signalStrength"] + rng.randrange(-4, 5)))
        if rng.random() < 0.05:
            cells = [_cell(rng) for _ in range(CELLS_PER_REPORT)]
        items.append(
            {
                "timestamp": timestamp_ms - index * 3_000,
                "position": {"latitude": round(lat, 7), "longitude": round(lon, 7),
                             "accuracy": round(rng.uniform(3, 20), 1), "altitude": round(rng.uniform(30, 60), 1),
                             "speed": round(rng.uniform(0, 14), 1), "source": "gps"},
                "wifiAccessPoints": [dict(w) for w in heard],
                "cellTowers": [{**c, "signalStrength": rng.randrange(-120, -60)} for c in cells],
            }
        )  # fmt: skip
    return {"items": items}


def encode(body: dict[str, Any]) -> bytes:
    """The body as the app sends it: compact JSON, gzip-compressed."""
    return gzip.compress(json.dumps(body, separators=(",", ":")).encode(), compresslevel=6)


def verbose_batch(timestamp_ms: int, reports: int = FULL_BATCH_REPORTS, seed: int = 0) -> dict[str, Any]:
    """A busier upload in the app's most verbose form: 20 Wi-Fi networks with every field and an
    SSID, 3 cells with every field, every position field (docs/pipeline.md's synthetic batch:
    ~8 MiB of JSON for 2 000 reports, 46 000 entries, ~470 000 JSON values)."""
    rng = random.Random(seed)
    items = stumbler_batch(timestamp_ms, reports, seed)["items"]
    for item in items:
        item["position"].update(age=rng.randrange(0, 2000), altitudeAccuracy=round(rng.uniform(2, 9), 1),
                                heading=round(rng.uniform(0, 360), 1), pressure=round(rng.uniform(990, 1030), 2))  # fmt: skip
        item["wifiAccessPoints"] = [
            {**_wifi(rng), "radioType": rng.choice(("802.11n", "802.11ac", "802.11ax")), "age": rng.randrange(0, 5000),
             "channel": rng.choice((1, 6, 11, 36, 100)), "signalToNoiseRatio": rng.randrange(5, 40),
             "ssid": f"{rng.choice(('FRITZ!Box', 'Vodafone', 'o2-WLAN', 'TP-Link', 'eduroam'))}-{rng.randrange(10**6):06d}"}
            for _ in range(20)
        ]  # fmt: skip
        item["cellTowers"] = [
            {**_cell(rng), "mobileCountryCodeStr": "262", "mobileNetworkCodeStr": "01", "age": rng.randrange(0, 5000),
             "asu": rng.randrange(0, 97), "timingAdvance": rng.randrange(0, 63), "arfcn": rng.randrange(0, 65535),
             "serving": 1 if index == 0 else 0}
            for index in range(3)
        ]  # fmt: skip
    return {"items": items}
