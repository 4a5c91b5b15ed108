"""When a message is due: now, or an Istanbul date and time written in ASCII digits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ileti.domain.schedule import InvalidSchedule, due_time

NOW = datetime(2030, 1, 1, 7, 0, tzinfo=UTC)  # 10:00 in Istanbul


def test_a_time_in_istanbul_is_due_then() -> None:
    assert due_time(True, "2030-01-02", "10:30", NOW) == datetime(2030, 1, 2, 7, 30, tzinfo=UTC)
    assert due_time(False, None, None, NOW) == NOW


@pytest.mark.parametrize(
    ("date", "time", "field"),
    [
        ("２０３０-01-02", "10:30", "scheduled_date"),
        ("2030-01-02", "１０:３０", "scheduled_time"),
        ("٢٠٣٠-٠١-٠٢", "10:30", "scheduled_date"),
        ("2030-1-2", "10:30", "scheduled_date"),
        ("2030-01-02", "10:30:00", "scheduled_time"),
        (" 2030-01-02", "10:30", "scheduled_date"),
        ("2030-01-02", None, "scheduled_time"),
    ],
)
def test_a_malformed_date_or_time_names_its_field(date: str, time: str, field: str) -> None:
    with pytest.raises(InvalidSchedule) as refused:
        due_time(True, date, time, NOW)
    assert refused.value.field == field


@pytest.mark.parametrize(("date", "time"), [("2030-02-30", "10:00"), ("2030-01-02", "24:00")])
def test_a_day_or_time_that_does_not_exist_is_refused(date: str, time: str) -> None:
    with pytest.raises(InvalidSchedule):
        due_time(True, date, time, NOW)
