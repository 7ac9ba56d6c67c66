"""Which region (country) a query is in: from its cells' MCCs, a located position, or its IP.

Pure decision logic; the lookups it combines are done by the caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RegionChoice:
    code: str
    fallback: str | None = None  # "ipf" when GeoIP decided


def candidates_from_mccs(mcc_regions: Iterable[tuple[str, ...]]) -> set[str]:
    """Regions consistent with every MCC the client reported (MCCs of one country agree)."""
    sets = [set(regions) for regions in mcc_regions if regions]
    if not sets:
        return set()
    common = set.intersection(*sets)
    return common or set.union(*sets)


def choose_region(
    candidates: set[str], position_region: str | None, geoip_region: str | None
) -> RegionChoice | None:
    """One MCC region wins outright; a located position settles ambiguous MCCs (and answers
    alone when there are no cells); GeoIP is the last resort."""
    if len(candidates) == 1:
        return RegionChoice(next(iter(candidates)))
    if position_region is not None and (not candidates or position_region in candidates):
        return RegionChoice(position_region)
    if candidates:
        if geoip_region in candidates:
            return RegionChoice(geoip_region)
        return RegionChoice(sorted(candidates)[0])
    if geoip_region is not None:
        return RegionChoice(geoip_region, fallback="ipf")
    return None
