"""The public cell export in Mozilla Location Service's CSV format.

Columns: radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal
(radio GSM/UMTS/LTE/NR; lon before lat, 7 decimals; times in Unix seconds; CRLF line ends).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

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
