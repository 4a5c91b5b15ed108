"""Properties over generated texts, checked against a plain character-by-character model."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ileti.domain.encoding import MAX_CONCATENATED, SmsLang, decode_parts, measure, split
from ileti.domain.gsm_alphabets import (
    ESCAPE,
    GSM_DEFAULT,
    GSM_TURKISH,
    GSM_TURKISH_LOCKING_SHIFT,
    GSM_TURKISH_SINGLE_SHIFT,
    TURKISH_TRANSLITERATION,
    Alphabet,
)

# Characters that decide encodings: ASCII, Turkish letters, extension characters, letters only
# one of the Turkish tables has, characters in no GSM table, and outside the BMP.
INTERESTING = "aZ 9.\n@$_ÇöÜ" + "şŞğĞıİç" + "€[]{}|^~\\\f" + "èìØøÆæ¡¿" + "âîû`✓Жй" + "😀🎉"
CAPACITY = {0: (160, 153), 3: (155, 149), 6: (152, 146)}  # by national element octets
GSM_ALPHABETS = (GSM_DEFAULT, GSM_TURKISH_SINGLE_SHIFT, GSM_TURKISH_LOCKING_SHIFT, GSM_TURKISH)


@st.composite
def texts(draw: st.DrawFn) -> str:
    """Texts of a few kinds of characters, often near a segment boundary."""
    pool = draw(st.lists(st.sampled_from(INTERESTING), min_size=1, max_size=4))
    # No lone surrogates: two of them side by side would decode as one character.
    anything = st.characters(exclude_categories=["Cs"])
    char = st.sampled_from(pool) | st.sampled_from("abc ") | anything
    length = draw(
        st.sampled_from([70, 71, 134, 135, 152, 153, 155, 156, 160, 161, 306, 307, 308])
        | st.integers(0, 700)
    )
    length += draw(st.integers(-3, 3))
    return "".join(draw(st.lists(char, min_size=max(length, 0), max_size=max(length, 0))))


def greedy_segments(costs: list[int], single: int, multi: int) -> int:
    """Each character whole in one segment, each segment as full as it can be."""
    if sum(costs) <= single:
        return 1
    count, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            count, used = count + 1, 0
        used += cost
    return count


def gsm_segments(text: str, alphabet: Alphabet) -> int | None:
    costs = [alphabet.septets(char) for char in text]
    if 0 in costs:
        return None
    return greedy_segments(costs, *CAPACITY[len(alphabet.national_elements)])


def ucs2_segments(text: str) -> int:
    return greedy_segments([1 if ord(char) < 0x10000 else 2 for char in text], 70, 67)


def alphabet_of(single_shift: bool, locking_shift: bool) -> Alphabet:
    return {
        (False, False): GSM_DEFAULT,
        (True, False): GSM_TURKISH_SINGLE_SHIFT,
        (False, True): GSM_TURKISH_LOCKING_SHIFT,
        (True, True): GSM_TURKISH,
    }[single_shift, locking_shift]


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(text=texts(), lang=st.sampled_from(SmsLang))
def test_parts_decode_to_the_text_and_fit_their_segment(text: str, lang: SmsLang) -> None:
    encoding = measure(text, lang, MAX_CONCATENATED)
    parts = split(text, lang, MAX_CONCATENATED, reference=42)
    assert decode_parts(parts) == (encoding.transliterated or text)
    assert len(parts) == encoding.segments
    for part in parts:
        assert part.data_coding == encoding.data_coding
        if part.data_coding == 0:
            header_septets = math.ceil(len(part.udh) * 8 / 7)
            assert header_septets + len(part.body) <= 160
            assert part.body[-1:] != bytes([ESCAPE])
        else:
            assert len(part.udh) + len(part.body) <= 140
            assert not part.body or not 0xD8 <= part.body[-2] <= 0xDB  # no half pair
        assert len(part.short_message) <= 160


@PROPERTY
@given(text=texts())
def test_the_chosen_encoding_is_never_more_segments_than_another_exact_one(text: str) -> None:
    exact = [gsm_segments(text, alphabet) for alphabet in GSM_ALPHABETS]
    gsm = [count for count in exact if count is not None]
    for lang in (SmsLang.TURKISH, SmsLang.AUTO):
        encoding = measure(text, lang, MAX_CONCATENATED)
        if encoding.data_coding == 0:
            alphabet = alphabet_of(encoding.single_shift, encoding.locking_shift)
            assert encoding.segments == gsm_segments(text, alphabet)
        else:
            assert encoding.segments == ucs2_segments(text)
        assert encoding.segments <= min(gsm, default=ucs2_segments(text))
        if lang is SmsLang.AUTO:
            assert encoding.segments <= ucs2_segments(text)
        else:
            assert (encoding.data_coding == 8) == (not gsm)


@PROPERTY
@given(text=texts())
def test_english_is_the_default_alphabet_after_transliteration(text: str) -> None:
    sent = text.translate(str.maketrans(TURKISH_TRANSLITERATION))
    encoding = measure(text, SmsLang.ENGLISH, MAX_CONCATENATED)
    expected = gsm_segments(sent, GSM_DEFAULT)
    if expected is None:
        assert (encoding.label, encoding.transliterated) == ("Unicode", None)
        assert encoding.segments == ucs2_segments(text)
    else:
        assert (encoding.label, encoding.segments) == ("English", expected)
        assert encoding.transliterated == (sent if sent != text else None)


@PROPERTY
@given(text=texts())
def test_unicode_counts_utf16_units(text: str) -> None:
    encoding = measure(text, SmsLang.UNICODE, MAX_CONCATENATED)
    assert encoding.units == len(text.encode("utf-16-be")) // 2
    assert encoding.segments == ucs2_segments(text)
