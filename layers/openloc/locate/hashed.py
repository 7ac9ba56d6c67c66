"""Networks sent by published identifier (`model.identifiers`) instead of by MAC.

The online service resolves an identifier in two steps: the alias item `hash#<kind>#<digest>`
names the station key, and the station is used only if its current name digest is still that
digest (an alias left over from a renamed network never answers). The resolved networks join the
query's MAC lists, so the Wi-Fi/Bluetooth source and the searcher are unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from openloc.locate.query import LocateQuery, MacSignal
from openloc.model.keys import alias_key, parse_key
from openloc.model.records import StationRecord


def _stronger(a: MacSignal, b: MacSignal) -> MacSignal:
    return (
        a
        if (a.signal if a.signal is not None else -200) >= (b.signal if b.signal is not None else -200)
        else b
    )


def merge_signals(raw: tuple[MacSignal, ...], resolved: list[MacSignal]) -> tuple[MacSignal, ...]:
    """`raw` plus `resolved`, one entry per MAC (the stronger one where both name it)."""
    best = {m.mac: m for m in raw}
    for signal in resolved:
        best[signal.mac] = _stronger(best[signal.mac], signal) if signal.mac in best else signal
    return tuple(best.values())


def alias_targets(aliases: Mapping[str, StationRecord]) -> list[str]:
    """Station keys named by the alias items found."""
    return sorted({r.alias_of for r in aliases.values() if r.alias_of is not None})


def resolve_hashed(
    query: LocateQuery, aliases: Mapping[str, StationRecord], stations: Mapping[str, StationRecord]
) -> LocateQuery:
    """The query with every resolvable hashed network turned into a MAC entry; the others stay
    hashed (networks the client sent that the database does not know, which the radius counts
    as a raw MAC it does not know)."""
    resolved: dict[str, list[MacSignal]] = {"wifi": [], "blue": []}
    unresolved: dict[str, list[MacSignal]] = {"wifi": [], "blue": []}
    for kind, hashed in (("wifi", query.hashed_wifis), ("blue", query.hashed_blues)):
        for signal in hashed:
            alias = aliases.get(alias_key(kind, signal.mac))
            target = stations.get(alias.alias_of) if alias is not None and alias.alias_of else None
            parsed = parse_key(target.key) if target is not None else None
            if target is None or parsed is None or parsed.kind != kind or target.name_hash != signal.mac:
                unresolved[kind].append(signal)
                continue
            assert parsed.mac is not None
            resolved[kind].append(replace(signal, mac=parsed.mac))
    return replace(
        query,
        wifis=merge_signals(query.wifis, resolved["wifi"]),
        blues=merge_signals(query.blues, resolved["blue"]),
        hashed_wifis=tuple(unresolved["wifi"]),
        hashed_blues=tuple(unresolved["blue"]),
    )
