"""When a message is due: now, or a Europe/Istanbul date and time the customer gave."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ISTANBUL = ZoneInfo("Europe/Istanbul")
# How far ahead a message may be scheduled.
MAX_AHEAD = timedelta(days=366)
# ASCII digits only: strptime would also take full-width and other Unicode digits.
DATE_FORM = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
TIME_FORM = re.compile(r"[0-9]{1,2}:[0-9]{2}")


class InvalidSchedule(ValueError):
    """A schedule that cannot be kept; ``field`` names the field at fault, if one is."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def due_time(
    scheduled: bool, date: str | None, time: str | None, now: datetime | None = None
) -> datetime:
    """The UTC time the message is due. Raises InvalidSchedule for a malformed or past time."""
    now = now or datetime.now(UTC)
    if not scheduled:
        return now
    if not date or not time:
        raise InvalidSchedule(
            "a scheduled message needs scheduled_date and scheduled_time",
            "scheduled_date" if not date else "scheduled_time",
        )
    if not DATE_FORM.fullmatch(date):
        raise InvalidSchedule("scheduled_date is YYYY-MM-DD", "scheduled_date")
    if not TIME_FORM.fullmatch(time):
        raise InvalidSchedule("scheduled_time is HH:MM", "scheduled_time")
    try:
        local = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidSchedule(
            "scheduled_date is YYYY-MM-DD and scheduled_time is HH:MM, a day and time that exist"
        ) from None
    due = local.replace(tzinfo=ISTANBUL).astimezone(UTC)
    # Minutes are the resolution: the current minute still counts as now.
    if due < now.replace(second=0, microsecond=0):
        raise InvalidSchedule("the scheduled time is in the past")
    if due > now + MAX_AHEAD:
        raise InvalidSchedule("a message can be scheduled at most a year ahead")
    return max(due, now)
