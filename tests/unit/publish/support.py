"""Helpers of the publish tests: hypothesis strategies shared by the coverage tile tests (tiles,
tile_set), and offline packs written in parts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from hypothesis import strategies as st
from openloc.model.keys import key_kind
from openloc.model.kinds import MAC_KINDS, FileKind, StationKind
from openloc.model.records import StationRecord
from openloc.publish.pack import PackWriter
from openloc.publish.policy import (
    PublishedCell,
    PublishedStation,
    PublishPolicy,
    published_area,
    published_cell,
    published_station,
)

# Cells within ~3 km of a point, so random grids share tiles at every zoom.
near_cells = st.lists(
    st.tuples(st.integers(52_500, 52_530), st.integers(13_390, 13_430)), min_size=0, max_size=40
)


def write_pack_parts(
    stations: Iterable[StationRecord],
    areas: Iterable[StationRecord],
    folder: Path,
    region: str,
    now: datetime,
    policy: PublishPolicy,
    parts: int,
) -> list[tuple[Path, int, list[float]]]:
    """A region's pack written in `parts` parts as the pack-parts contract says (docs/api.md,
    "Offline packs"): split by longitude bands of equal row counts, each station or cell in exactly
    one part, every cell area in every part, meta `part`/`parts`/`bbox`, files named
    `openloc-pack-<REGION>-<part>of<N>.sqlite` (the writer of the scheduled job is issue 19a's;
    this one uses the same `PackWriter`). Returns (path, part, bbox) per part."""
    today = now.date()
    rows: list[tuple[float, float, PublishedStation | PublishedCell]] = []
    for record in stations:
        kind = key_kind(record.key)
        item: PublishedStation | PublishedCell | None = None
        if kind in MAC_KINDS and record.region == region:
            item = published_station(record, today, policy)
        elif kind is StationKind.CELL:
            item = published_cell(record, policy.cell_min_samples)
            item = item if item is not None and item.region == region else None
        if item is not None:
            rows.append((item.lon, item.lat, item))
    rows.sort(key=lambda row: (row[0], row[1]))
    published_areas = [a for a in (published_area(r) for r in areas) if a is not None and a.region == region]
    written = []
    for number in range(1, parts + 1):
        chunk = rows[(number - 1) * len(rows) // parts : number * len(rows) // parts]
        name = (
            f"openloc-pack-{region}.sqlite"
            if parts == 1
            else f"openloc-pack-{region}-{number}of{parts}.sqlite"
        )
        writer = PackWriter(folder / name, region, FileKind.OFFLINE_PACK, now)
        for _, _, item in chunk:
            if isinstance(item, PublishedStation):
                writer.add_station(item)
            else:
                writer.add_cell(item)
        for area in published_areas:
            writer.add_area(area)
        lons, lats = [row[0] for row in chunk], [row[1] for row in chunk]
        bbox = [min(lons), min(lats), max(lons), max(lats)] if chunk else [0.0, 0.0, 0.0, 0.0]
        writer.meta |= {"part": str(number), "parts": str(parts), "bbox": json.dumps(bbox)}
        written.append((writer.close(), number, bbox))
    return written
