"""MAC normalisation, privacy filters, radio names, MNC spellings and cell identities."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openloc.model.keys import (
    CellId,
    area_ids,
    area_key,
    blue_key,
    cell_ids,
    cell_radio,
    is_nomap_ssid,
    is_private_mac,
    mnc_forms,
    normalize_mac,
    parse_radio,
    wifi_key,
)
from openloc.model.kinds import Radio

HEX12 = re.compile(r"[0-9a-f]{12}")
hex12 = st.text(alphabet="0123456789abcdef", min_size=12, max_size=12).filter(
    lambda m: m not in {"000000000000", "ffffffffffff", "01005e901000"}
)


def _spell(mac: str, separator: str, group: int, upper: list[bool]) -> str:
    chars = [c.upper() if up else c for c, up in zip(mac, upper, strict=True)]
    groups = ["".join(chars[i : i + group]) for i in range(0, 12, group)]
    return separator.join(groups)


@given(
    mac=hex12,
    separator=st.sampled_from([":", "-", ".", "", " "]),
    group=st.sampled_from([2, 4, 6, 12]),
    upper=st.lists(st.booleans(), min_size=12, max_size=12),
    pad=st.sampled_from(["", " ", "  ", "\t"]),
)
def test_normalize_mac_ignores_case_and_separators(
    mac: str, separator: str, group: int, upper: list[bool], pad: str
) -> None:
    spelled = pad + _spell(mac, separator, group, upper) + pad
    assert normalize_mac(spelled) == mac


@given(st.text(max_size=30))
def test_normalize_mac_result_is_none_or_12_lowercase_hex(value: str) -> None:
    result = normalize_mac(value)
    assert result is None or HEX12.fullmatch(result)


@given(st.text(alphabet="0123456789abcdefABCDEF:-. ", max_size=30))
def test_normalize_mac_is_idempotent(value: str) -> None:
    result = normalize_mac(value)
    if result is not None:
        assert normalize_mac(result) == result


def test_normalize_mac_rejects_embedded_newline() -> None:
    result = normalize_mac("00:1a:2b:00:00:01\n-")
    assert result is None or HEX12.fullmatch(result)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "00:00:00:00:00:00",
        "FF:FF:FF:FF:FF:FF",
        "01:00:5e:90:10:00",
        "00:1a:2b:00:00",  # too short
        "00:1a:2b:00:00:01:02",  # too long
        "00:1a:2b:00:00:0g",  # not hex
        "00_1a_2b_00_00_01",  # unsupported separator
    ],
)
def test_normalize_mac_rejects_unusable(value: str | None) -> None:
    assert normalize_mac(value) is None


@pytest.mark.parametrize(
    ("mac", "private"),
    [
        ("001a2b000001", False),  # globally administered unicast
        ("011a2b000001", True),  # multicast bit
        ("021a2b000001", True),  # locally administered bit
        ("da1a2b000001", True),  # randomised (x2/x6/xa/xe)
        ("c0ffee000001", False),
    ],
)
def test_is_private_mac(mac: str, private: bool) -> None:
    assert is_private_mac(mac) is private


@pytest.mark.parametrize(
    ("ssid", "nomap"),
    [
        ("home_nomap", True),
        ("HOME_NOMAP", True),
        ("home_nomap  ", True),
        ("home_nomap_not", True),
        ("Home_OptOut", True),
        ("x_optout_y", True),
        ("optout", False),
        ("nomap", False),
        ("", False),
        (None, False),
    ],
)
def test_is_nomap_ssid(ssid: str | None, nomap: bool) -> None:
    assert is_nomap_ssid(ssid) is nomap


@pytest.mark.parametrize(
    ("value", "radio"),
    [
        ("gsm", Radio.GSM),
        ("GSM", Radio.GSM),
        (" lte ", Radio.LTE),
        ("umts", Radio.WCDMA),
        ("wcdma", Radio.WCDMA),
        ("nr", Radio.NR),
        ("cdma", None),
        ("", None),
        (None, None),
        ("5g", None),
    ],
)
def test_parse_radio(value: str | None, radio: Radio | None) -> None:
    assert parse_radio(value) is radio


@pytest.mark.parametrize(
    ("names", "radio"),
    [
        (("lte", "gsm"), Radio.LTE),  # the cell's own radio wins over the item's
        ((None, None, "gsm"), Radio.GSM),  # the item's fills in
        (("", " ", "umts"), Radio.WCDMA),  # blank is not sent
        (("cdma", "gsm"), None),  # named but unknown: not relabelled
        (("18", None, "lte"), None),
        ((None, None, None), None),
        ((), None),
    ],
)
def test_cell_radio_the_first_radio_sent_decides(names: tuple[str | None, ...], radio: Radio | None) -> None:
    assert cell_radio(*names) is radio


def test_area_ids_of_a_cell_without_a_cell_id() -> None:
    assert [a.key for a in area_ids(Radio.LTE, 262, 1, None, 4711)] == [
        "area#lte#262#01#4711",
        "area#lte#262#001#4711",
    ]
    assert [a.key for a in area_ids(Radio.NR, 310, None, "001", 70_000)] == ["area#nr#310#001#70000"]
    for radio, mcc, lac in [(None, 262, 1), (Radio.LTE, 0, 1), (Radio.LTE, 262, 0), (Radio.LTE, 262, 65_534),
                            (Radio.LTE, 1000, 1), (Radio.LTE, 262, None), (Radio.LTE, None, 1)]:  # fmt: skip
        assert area_ids(radio, mcc, 1, None, lac) == []


@pytest.mark.parametrize(
    ("mnc", "mnc_str", "forms"),
    [
        (1, None, ("01", "001")),
        (0, None, ("00", "000")),
        (10, None, ("10", "010")),
        (100, None, ("100",)),
        (999, None, ("999",)),
        (1000, None, ()),
        (-1, None, ()),
        (None, None, ()),
        (1, "001", ("001",)),  # the string twin keeps leading zeros and wins
        (1, "01", ("01",)),
        (None, "1", ("01",)),
        (None, "abc", ()),
        (7, "abc", ("07", "007")),  # unusable string twin: fall back to the integer
        (None, "1234", ()),
    ],
)
def test_mnc_forms(mnc: int | None, mnc_str: str | None, forms: tuple[str, ...]) -> None:
    assert mnc_forms(mnc, mnc_str) == forms


@given(st.integers(min_value=0, max_value=999))
def test_mnc_forms_first_form_is_at_least_two_digits_and_round_trips(mnc: int) -> None:
    forms = mnc_forms(mnc, None)
    assert forms
    assert all(int(f) == mnc and len(f) >= 2 for f in forms)


def test_mnc_forms_unicode_superscript_digit_is_not_an_error() -> None:
    assert mnc_forms(None, "²") == ()


def test_mnc_forms_only_ascii_digits() -> None:
    assert all(f.isascii() for f in mnc_forms(None, "٠١"))


def test_cell_id_keys() -> None:
    cell = CellId(Radio.LTE, 262, "01", 4711, 26866945)
    assert cell.key == "cell#lte#262#01#4711#26866945"
    assert cell.area_key == "area#lte#262#01#4711"
    assert area_key(Radio.LTE, 262, "01", 4711) == cell.area_key
    assert wifi_key("001a2b000001") == "wifi#001a2b000001"
    assert blue_key("c0ffee000001") == "blue#c0ffee000001"


def test_cell_ids_one_per_mnc_spelling() -> None:
    ids = cell_ids(Radio.LTE, 262, 1, None, 4711, 5)
    assert [c.key for c in ids] == ["cell#lte#262#01#4711#5", "cell#lte#262#001#4711#5"]


def test_cell_ids_string_twin_gives_single_identity() -> None:
    ids = cell_ids(Radio.LTE, 310, 1, "001", 4711, 5)
    assert [c.mnc for c in ids] == ["001"]


@pytest.mark.parametrize(
    ("radio", "mcc", "lac", "cid"),
    [
        (None, 262, 1, 1),
        (Radio.LTE, None, 1, 1),
        (Radio.LTE, 0, 1, 1),
        (Radio.LTE, 1000, 1, 1),
        (Radio.LTE, 262, -1, 1),
        (Radio.LTE, 262, 0, 1),
        (Radio.LTE, 262, 65534, 1),
        (Radio.LTE, 262, 1, -1),
        (Radio.LTE, 262, 1, 0),
        (Radio.LTE, 262, 1, 268_435_456),
        (Radio.NR, 262, 1, 68_719_476_736),
        (Radio.LTE, 262, None, 1),
        (Radio.LTE, 262, 1, None),
    ],
)
def test_cell_ids_incomplete_or_out_of_range(
    radio: Radio | None, mcc: int | None, lac: int | None, cid: int | None
) -> None:
    assert cell_ids(radio, mcc, 1, None, lac, cid) == []


def test_cell_ids_nr_accepts_36_bit_cell_id_and_24_bit_tac() -> None:
    ids = cell_ids(Radio.NR, 262, 1, None, 16_777_215, 68_719_476_735)
    assert ids and ids[0].radio is Radio.NR


def test_cell_ids_gsm_with_large_cid_is_wcdma() -> None:
    ids = cell_ids(Radio.GSM, 262, 1, None, 100, 70_000)
    assert ids and all(c.radio is Radio.WCDMA for c in ids)
    assert cell_ids(Radio.GSM, 262, 1, None, 100, 65_535)[0].radio is Radio.GSM
