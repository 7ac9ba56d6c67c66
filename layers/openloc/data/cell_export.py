"""The public cell export in Mozilla Location Service's CSV format.

Columns: radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal
(radio GSM/UMTS/LTE/NR; lon before lat, 7 decimals; range in metres; times in Unix seconds;
`unit` = PSC/PCI; `changeable` always 1 (positions are computed); `averageSignal` empty, since
OpenLoc does not keep it; CRLF line ends).

Published cells: positioned, not currently blocked (`station_blocked`) and with at least
`min_samples` samples (setting `CELL_EXPORT_MIN_SAMPLES`, default 3) — a cell seen only once or
twice may be a single contributor's track and is often wrong.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from openloc.aggregate.blocking import station_blocked
from openloc.store.records import StationRecord

HEADER = (
    "radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
    "changeable", "created", "updated", "averageSignal",
)  # fmt: skip
RADIO_NAMES = {"gsm": "GSM", "wcdma": "UMTS", "lte": "LTE", "nr": "NR"}


def export_row(record: StationRecord) -> list[str] | None:
    """One CSV row for a positioned cell; None for anything else (non-cells, blocked cells)."""
    parts = record.key.split("#")
    if len(parts) != 6 or parts[0] != "cell" or record.lat is None or record.lon is None:
        return None
    _, radio, mcc, mnc, lac, cid = parts
    created = int(record.created.timestamp()) if record.created else ""
    updated = int(record.modified.timestamp()) if record.modified else created
    return [
        RADIO_NAMES[radio], mcc, str(int(mnc)), lac, cid, "" if record.psc is None else str(record.psc),
        f"{record.lon:.7f}", f"{record.lat:.7f}", str(int(record.radius or 0)), str(record.samples),
        "1", str(created), str(updated), "",
    ]  # fmt: skip


def exportable(record: StationRecord, today: date, min_samples: int) -> bool:
    """Whether a cell is published: positioned, not blocked on `today`, enough samples."""
    return (
        record.lat is not None
        and record.lon is not None
        and record.samples >= min_samples
        and not station_blocked(record, today)
    )


def export_lines(records: Iterable[StationRecord]) -> Iterator[bytes]:
    """The CSV file as a stream of encoded chunks (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for record in records:
        row = export_row(record)
        if row is not None:
            writer.writerow(row)
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
