"""Source tags: who submitted a report, as far as independent evidence goes (docs/abuse.md)."""

from __future__ import annotations

import pytest
from openloc.api.sources import source_group, submitter_tag


@pytest.mark.parametrize(
    ("ip", "group"),
    [
        ("198.51.100.7", "198.51.100.0/24"),
        ("198.51.100.250", "198.51.100.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1::/48"),
        ("2001:db8:1:ffff::1", "2001:db8:1::/48"),
    ],
)
def test_source_groups(ip: str, group: str) -> None:
    assert source_group(ip) == group


def test_tags_tell_groups_and_keys_apart_without_naming_them() -> None:
    same = submitter_tag("198.51.100.7", None, "secret")
    assert same == submitter_tag("198.51.100.200", None, "secret")  # one /24: one source
    assert same != submitter_tag("198.51.101.7", None, "secret")
    assert same != submitter_tag("198.51.100.7", "key-digest", "secret")  # a key is part of it
    assert same != submitter_tag("198.51.100.7", None, "other deployment")
    assert submitter_tag("2001:db8:1::1", None, "s") != submitter_tag("2001:db8:2::1", None, "s")
    assert same is not None and len(same) == 16 and "198" not in same
    assert submitter_tag(None, None, "secret") is None
    assert submitter_tag(None, "key-digest", "secret") is not None
