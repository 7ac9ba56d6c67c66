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


def candidates_from_mccs(mcc_regions: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """Regions consistent with every MCC the client reported (MCCs of one country agree), in the
    order of the MCC table, whose first region per MCC is the country that mainly uses it."""
    lists = [regions for regions in mcc_regions if regions]
    if not lists:
        return ()
    ordered = list(dict.fromkeys(region for regions in lists for region in regions))
    common = [region for region in ordered if all(region in regions for regions in lists)]
    return tuple(common or ordered)


def choose_region(
    candidates: tuple[str, ...], position_region: str | None, geoip_region: str | None
) -> RegionChoice | None:
    """One MCC region wins outright; a located position settles ambiguous MCCs (and answers
    alone when there are no cells); GeoIP is the last resort; else the MCC's main country."""
    if len(candidates) == 1:
        return RegionChoice(candidates[0])
    if position_region is not None and (not candidates or position_region in candidates):
        return RegionChoice(position_region)
    if candidates:
        if geoip_region in candidates:
            return RegionChoice(geoip_region)
        return RegionChoice(candidates[0])
    if geoip_region is not None:
        return RegionChoice(geoip_region, fallback="ipf")
    return None
