"""Published data: cell export/import, tiles, stats."""
