"""Phone numbers: the forms people write, the countries and operators, and which can take SMS."""

from __future__ import annotations

import subprocess
import sys

import phonenumbers
import pytest

from ileti.domain.numbers import InvalidNumber, normalise


@pytest.mark.parametrize(
    "raw", ["905321234567", "+90 532 123 45 67", "0532 123 45 67", "5321234567", "(0532) 123-4567"]
)
def test_the_forms_of_a_turkish_mobile_are_one_number(raw: str) -> None:
    number = normalise(raw)
    assert (number.digits, number.country, number.operator) == (
        "905321234567",
        "Turkey-TR",
        "Turkcell",
    )


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("02121234567", "landline"),
        ("+90 212 123 45 67", "landline"),
        ("08001234567", "toll-free"),
        ("908501234567", "VoIP"),
        ("+44 20 7123 4567", "landline"),
        ("+33 1 23 45 67 89", "landline"),
        ("905121234567", "pager"),
    ],
)
def test_a_number_that_cannot_receive_sms_is_refused_saying_what_it_is(raw: str, what: str) -> None:
    with pytest.raises(InvalidNumber) as refused:
        normalise(raw)
    assert what in refused.value.reason
    assert "cannot receive SMS" in refused.value.reason
    # Looked up for what was sent to it, it is still a number.
    assert normalise(raw, receiving=False).digits.isdigit()


@pytest.mark.parametrize(
    ("raw", "region"),
    [("447400123456", "GB"), ("4915123456789", "DE"), ("12025550123", "US"), ("33612345678", "FR")],
)
def test_mobiles_and_numbers_the_plan_cannot_tell_from_one_are_taken(raw: str, region: str) -> None:
    assert normalise(raw).region == region


@pytest.mark.parametrize(
    "raw",
    [
        "９０５３２１２３４５６７",
        "٩٠٥٣٢١٢٣٤٥٦٧",
        "90532１２３４５６７",
        "+４４７９１１１２３４５６",
    ],
)
def test_digits_are_ascii(raw: str) -> None:
    with pytest.raises(InvalidNumber) as refused:
        normalise(raw)
    assert refused.value.reason == "is not a valid phone number"


@pytest.mark.parametrize("raw", ["", "12345", "not a number", "90532123456789012", "+"])
def test_what_is_no_number_is_refused(raw: str) -> None:
    with pytest.raises(InvalidNumber):
        normalise(raw)


def test_every_country_is_named_as_libphonenumber_names_it() -> None:
    from phonenumbers import PhoneNumberType, example_number_for_type, geocoder

    named = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = example_number_for_type(region, PhoneNumberType.MOBILE)
        if example is None:
            continue
        try:
            number = normalise(f"+{example.country_code}{example.national_number}")
        except InvalidNumber:
            continue  # an example the numbering plan itself does not hold valid
        expected = geocoder.country_name_for_number(example, "en") or "Unknown"
        assert number.country_name == expected, region
        named += 1
    assert named > 200


def test_naming_countries_does_not_load_the_place_names() -> None:
    # The geocoder's place names are 40 MB of memory in every process that reads numbers.
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ileti.api.app, ileti.web.app, ileti.campaigns.service;"
            "from ileti.domain.numbers import normalise;"
            "normalise('+4915123456789'); normalise('905321234567');"
            "print('phonenumbers.geodata' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "False"
