"""Heard networks → the JSON entries of the wire contract (geosubmit v2 and geolocate bodies)."""

from __future__ import annotations

from typing import Any

from bench.world.radio import Heard, HeardCell


def mac_address(mac: str) -> str:
    return ":".join(mac[i : i + 2] for i in range(0, 12, 2))


def wifi_entries(heard: list[Heard]) -> list[dict[str, Any]]:
    return [
        {"macAddress": mac_address(h.emitter.mac), "signalStrength": h.signal, "channel": h.emitter.channel}
        for h in heard
    ]


def blue_entries(heard: list[Heard]) -> list[dict[str, Any]]:
    return [{"macAddress": mac_address(h.emitter.mac), "signalStrength": h.signal} for h in heard]


def cell_entries(heard: list[HeardCell]) -> list[dict[str, Any]]:
    entries = []
    for index, cell in enumerate(heard):
        sector = cell.sector
        entry: dict[str, Any] = {
            "radioType": sector.radio,
            "mobileCountryCode": sector.mcc,
            "mobileNetworkCode": sector.mnc,
            "locationAreaCode": sector.lac,
            "cellId": sector.cid,
            "signalStrength": cell.signal,
            "serving": 1 if index == 0 else 0,
        }
        if sector.pci is not None:
            entry["primaryScramblingCode"] = sector.pci
        entries.append(entry)
    return entries
