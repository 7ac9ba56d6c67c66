"""Region decision rules: cells' MCCs, then the position, then the IP."""

from __future__ import annotations

from openloc.locate.region import RegionChoice, candidates_from_mccs, choose_region


def test_unambiguous_mcc_wins_over_position_and_ip() -> None:
    assert choose_region(("DE",), "FR", "GB") == RegionChoice("DE")


def test_position_settles_an_ambiguous_mcc() -> None:
    assert choose_region(("GB", "IM", "JE", "GG"), "JE", "GB") == RegionChoice("JE")


def test_position_outside_the_mcc_regions_is_ignored() -> None:
    # a roaming phone's cells say GB/JE/IM/GG; a position in France cannot be right for them
    assert choose_region(("GB", "JE"), "FR", None) == RegionChoice("GB")


def test_ambiguous_mcc_without_position_uses_ip_inside_the_candidates() -> None:
    assert choose_region(("GB", "JE"), None, "JE") == RegionChoice("JE")
    assert choose_region(("GB", "JE"), None, "US") == RegionChoice("GB")


def test_no_cells_position_then_ip() -> None:
    assert choose_region((), "DE", "GB") == RegionChoice("DE")
    assert choose_region((), None, "GB") == RegionChoice("GB", fallback="ipf")
    assert choose_region((), None, None) is None


def test_candidates_intersect_across_cells() -> None:
    assert candidates_from_mccs([("GB", "IM", "JE"), ("GB",)]) == ("GB",)
    # disagreeing MCCs (border roaming): keep all, let the position decide
    assert candidates_from_mccs([("DE",), ("FR",)]) == ("DE", "FR")
    assert candidates_from_mccs([(), ()]) == ()
    # the MCC table lists the main country first: 310 alone means the US, not Bermuda
    assert candidates_from_mccs([("US", "GU", "PR", "VI", "MP", "BM")])[0] == "US"
