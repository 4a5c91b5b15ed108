"""Encoding choice, exact segment counts, and parts that decode back to the text."""

from __future__ import annotations

import pytest

from ileti.domain.encoding import (
    EncodedPart,
    InvalidSmsLang,
    MessageTooLong,
    Segmenter,
    SmsLang,
    decode_parts,
    measure,
    parse_sms_lang,
    split,
)

ENGLISH, TURKISH, UNICODE, AUTO = SmsLang.ENGLISH, SmsLang.TURKISH, SmsLang.UNICODE, SmsLang.AUTO
ESC = 0x1B


def segments(text: str, lang: SmsLang, max_segments: int = 255) -> int:
    return measure(text, lang, max_segments).segments


def round_trip(text: str, lang: SmsLang, max_segments: int = 255) -> list[EncodedPart]:
    parts = split(text, lang, max_segments)
    encoding = measure(text, lang, max_segments)
    assert len(parts) == encoding.segments
    assert decode_parts(parts) == (encoding.transliterated or text)
    return parts


# sms_lang


@pytest.mark.parametrize(
    ("value", "lang"),
    [
        *[(0, ENGLISH), (1, TURKISH), (2, UNICODE)],
        *[("0", ENGLISH), ("1", TURKISH), ("2", UNICODE)],
        *[("auto", AUTO), (TURKISH, TURKISH)],
    ],
)
def test_parse_sms_lang(value: object, lang: SmsLang) -> None:
    assert parse_sms_lang(value) is lang


@pytest.mark.parametrize("value", [3, -1, "3", "", " 1", "Auto", None, True, 1.0, [1]])
def test_parse_sms_lang_refuses_other_values(value: object) -> None:
    with pytest.raises(InvalidSmsLang) as raised:
        parse_sms_lang(value)
    assert isinstance(raised.value, ValueError)


def test_measure_takes_the_contract_values_too() -> None:
    assert measure("hi", "1") == measure("hi", TURKISH)
    assert measure("hi", 2).label == "Unicode"


# Capacities


@pytest.mark.parametrize(
    ("national_elements", "single", "multi"), [(0, 160, 153), (3, 155, 149), (6, 152, 146)]
)
def test_septet_capacities(national_elements: int, single: int, multi: int) -> None:
    segmenter = Segmenter.septets(national_elements)
    assert (segmenter.single, segmenter.multi) == (single, multi)


def test_ucs2_capacities() -> None:
    assert (Segmenter.ucs2().single, Segmenter.ucs2().multi) == (70, 67)


# Boundaries in the default alphabet


@pytest.mark.parametrize(
    ("length", "expected"),
    [(0, 1), (1, 1), (160, 1), (161, 2), (153 * 2, 2), (153 * 2 + 1, 3), (154 * 2, 3), (1530, 10)],
)
def test_default_alphabet_boundaries(length: int, expected: int) -> None:
    text = "a" * length
    for lang in (ENGLISH, TURKISH, AUTO):
        encoding = measure(text, lang)
        assert (encoding.segments, encoding.units, encoding.data_coding) == (expected, length, 0)
        assert not encoding.single_shift and not encoding.locking_shift
        round_trip(text, lang)


def test_an_extension_character_costs_two_septets() -> None:
    assert measure("€" * 80, ENGLISH).units == 160
    assert segments("€" * 80, ENGLISH) == 1
    assert segments("a" * 159 + "[", ENGLISH) == 2


def test_an_escape_pair_at_a_boundary_moves_to_the_next_segment() -> None:
    # 306 septets would fill two parts exactly, but the pair at 152-153 may not be split.
    text = "a" * 152 + "€" + "a" * 152
    assert measure(text, ENGLISH).units == 153 * 2
    parts = round_trip(text, ENGLISH)
    assert [len(part.body) for part in parts] == [152, 153, 1]
    assert parts[1].body.startswith(b"\x1be")


def test_an_escape_pair_that_fits_stays() -> None:
    text = "a" * 151 + "€" + "a" * 153
    parts = round_trip(text, ENGLISH)
    assert [len(part.body) for part in parts] == [153, 153]


def test_no_part_ends_inside_an_escape_pair() -> None:
    parts = round_trip("€" * 200, ENGLISH)
    assert [len(part.body) for part in parts] == [152, 152, 96]
    assert all(part.body[-1] != ESC for part in parts)


# UCS-2


@pytest.mark.parametrize(("length", "expected"), [(70, 1), (71, 2), (67 * 2, 2), (67 * 2 + 1, 3)])
def test_ucs2_boundaries(length: int, expected: int) -> None:
    text = "ş" * length
    encoding = measure(text, UNICODE)
    assert (encoding.segments, encoding.units, encoding.data_coding) == (expected, length, 8)
    assert encoding.label == "Unicode"
    round_trip(text, UNICODE)


def test_ucs2_is_big_endian_utf16() -> None:
    (part,) = split("aş😀", UNICODE)
    assert part.body == b"\x00a\x01\x5f\xd8\x3d\xde\x00"
    assert (part.udh, part.data_coding, part.udhi) == (b"", 8, False)


def test_a_character_outside_the_bmp_is_two_units() -> None:
    assert measure("😀" * 35, UNICODE).units == 70
    assert segments("😀" * 35, UNICODE) == 1
    assert segments("😀" * 35 + "a", UNICODE) == 2


def test_a_surrogate_pair_at_a_boundary_moves_to_the_next_segment() -> None:
    text = "ş" * 66 + "😀" + "ş" * 66  # 134 units: two full parts, were the pair split
    assert measure(text, UNICODE).units == 67 * 2
    parts = round_trip(text, UNICODE)
    assert [len(part.body) // 2 for part in parts] == [66, 67, 1]
    for part in parts:
        part.body.decode("utf-16-be")  # no part holds half a pair


def test_a_lone_surrogate_goes_as_it_came() -> None:
    text = "a\ud800b"
    assert measure(text, AUTO).units == 3
    round_trip(text, AUTO)


# Turkish


def test_turkish_prefers_no_national_table_when_it_is_enough() -> None:
    encoding = measure("Goruselim, saat 10:00 uygun mu?", TURKISH)
    assert encoding.label == "Turkish"
    assert encoding.data_coding == 0
    assert not encoding.single_shift and not encoding.locking_shift
    (part,) = split("Goruselim", TURKISH)
    assert part.udh == b""


def test_turkish_short_text_takes_the_single_shift_on_a_tie() -> None:
    encoding = measure("Merhaba Ayşe", TURKISH)
    assert (encoding.segments, encoding.units) == (1, 13)
    assert (encoding.single_shift, encoding.locking_shift) == (True, False)
    (part,) = round_trip("Merhaba Ayşe", TURKISH)
    assert part.udh == b"\x03\x24\x01\x01"  # national language element alone
    assert part.body == b"Merhaba Ay\x1bse"
    assert part.short_message == part.udh + part.body
    assert part.udhi


def test_turkish_locking_shift_when_it_saves_segments() -> None:
    encoding = measure("ş" * 155, TURKISH)
    assert (encoding.segments, encoding.units, encoding.locking_shift) == (1, 155, True)
    (part,) = round_trip("ş" * 155, TURKISH)
    assert part.udh == b"\x03\x25\x01\x01"
    assert part.body == b"\x1d" * 155


def test_turkish_capacity_with_one_national_element() -> None:
    assert segments("ş" * 156, TURKISH) == 2
    assert segments("ş" * 149 * 2, TURKISH) == 2
    assert segments("ş" * (149 * 2 + 1), TURKISH) == 3
    parts = round_trip("ş" * 156, TURKISH, max_segments=10)
    assert [part.udh for part in parts] == [
        b"\x08\x00\x03\x00\x02\x01\x25\x01\x01",
        b"\x08\x00\x03\x00\x02\x02\x25\x01\x01",
    ]


def test_turkish_keeps_the_default_table_for_letters_the_locking_shift_lacks() -> None:
    # è is not in the Turkish locking shift table: the single shift carries ş instead.
    encoding = measure("Crème ş", TURKISH)
    assert (encoding.single_shift, encoding.locking_shift) == (True, False)
    round_trip("Crème ş" * 30, TURKISH)


def test_turkish_falls_back_to_unicode() -> None:
    for text in ("Şükrü ✓", "â la carte şimdi", "emoji 😀 ş"):
        encoding = measure(text, TURKISH)
        assert (encoding.label, encoding.data_coding) == ("Unicode", 8)
        round_trip(text, TURKISH)


def test_every_turkish_letter_in_the_turkish_tables() -> None:
    letters = "şŞğĞıİçÇöÖüÜ"
    encoding = measure(letters, TURKISH)
    # One segment either way: the single shift (19 septets) wins the tie with the locking shift.
    assert (encoding.data_coding, encoding.units, encoding.single_shift) == (0, 19, True)
    assert decode_parts(split(letters, TURKISH)) == letters
    # 300 letters: 475 septets (4 segments) with the single shift, 300 (3) with the locking one.
    encoding = measure(letters * 25, TURKISH)
    assert (encoding.units, encoding.segments, encoding.locking_shift) == (300, 3, True)
    assert decode_parts(split(letters * 25, TURKISH)) == letters * 25


# English


def test_english_transliterates_turkish_letters() -> None:
    encoding = measure("şŞğĞıİçâîûÇöÜ", ENGLISH)
    assert encoding.transliterated == "sSgGiIcaiuÇöÜ"
    assert (encoding.label, encoding.data_coding, encoding.units) == ("English", 0, 13)
    assert decode_parts(split("şŞğĞıİçâîûÇöÜ", ENGLISH)) == "sSgGiIcaiuÇöÜ"


def test_english_without_turkish_letters_reports_no_transliteration() -> None:
    assert measure("Hello, world", ENGLISH).transliterated is None
    assert measure("Ça va? Über", ENGLISH).transliterated is None


def test_english_goes_as_unicode_rather_than_lose_characters() -> None:
    text = "Ayşe, your code: 1234 ✓"
    encoding = measure(text, ENGLISH)
    assert (encoding.label, encoding.data_coding, encoding.transliterated) == ("Unicode", 8, None)
    assert decode_parts(split(text, ENGLISH)) == text
    assert measure("back`tick", ENGLISH).label == "Unicode"


# Auto


def test_auto_labels_what_it_chose() -> None:
    assert measure("Hello", AUTO).label == "English"
    assert measure("Hi 😀", AUTO).label == "Unicode"
    long_turkish = "Siparişiniz kargoya verildi, yarın elinize ulaşacak. " * 2
    encoding = measure(long_turkish, AUTO)
    assert (encoding.label, encoding.segments) == ("Turkish", 1)
    assert segments(long_turkish, UNICODE) == 2


def test_auto_on_a_tie_takes_the_fewest_header_elements() -> None:
    # One segment either way: UCS-2 needs no national language element.
    encoding = measure("Merhaba Ayşe", AUTO)
    assert (encoding.label, encoding.segments) == ("Unicode", 1)


def test_auto_never_transliterates() -> None:
    assert measure("ş" * 200, AUTO).transliterated is None
    assert decode_parts(split("ş" * 200, AUTO)) == "ş" * 200


# The cap


def test_more_segments_than_the_cap() -> None:
    assert segments("a" * 1530, ENGLISH, 10) == 10
    with pytest.raises(MessageTooLong) as raised:
        measure("a" * 1531, ENGLISH)
    assert (raised.value.segments, raised.value.cap) == (11, 10)
    assert isinstance(raised.value, ValueError)
    with pytest.raises(MessageTooLong):
        split("a" * 1531, ENGLISH)
    with pytest.raises(MessageTooLong):
        measure("a" * 161, ENGLISH, max_segments=1)


def test_the_cap_is_configurable_up_to_what_concatenation_counts() -> None:
    assert segments("a" * 153 * 20, ENGLISH, 20) == 20
    with pytest.raises(ValueError, match="max_segments"):
        measure("a", ENGLISH, 0)
    with pytest.raises(ValueError, match="max_segments"):
        measure("a", ENGLISH, 256)


# Parts


def test_concatenated_parts_carry_reference_count_and_sequence() -> None:
    parts = split("a" * 400, ENGLISH, reference=0xA7)
    assert [part.udh for part in parts] == [
        bytes([5, 0, 3, 0xA7, 3, sequence]) for sequence in (1, 2, 3)
    ]
    assert all(part.udhi and part.data_coding == 0 for part in parts)
    assert [len(part.short_message) for part in parts] == [6 + 153, 6 + 153, 6 + 94]


def test_reference_is_one_octet() -> None:
    with pytest.raises(ValueError, match="reference"):
        split("a", ENGLISH, reference=256)


def test_decode_parts_reorders_by_sequence() -> None:
    parts = split("ş" * 200 + "😀", UNICODE)
    assert decode_parts(parts[::-1]) == "ş" * 200 + "😀"


def test_decode_parts_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="data_coding"):
        decode_parts([EncodedPart(b"", b"a", 4)])
    with pytest.raises(ValueError, match="national language"):
        decode_parts([EncodedPart(b"\x03\x25\x01\x02", b"a", 0)])
    with pytest.raises(ValueError, match="length"):
        decode_parts([EncodedPart(b"\x05\x25\x01\x01", b"a", 0)])


def test_an_empty_text_is_one_empty_segment() -> None:
    assert measure("", TURKISH).segments == 1
    (part,) = split("", UNICODE)
    assert (part.udh, part.body) == (b"", b"")
