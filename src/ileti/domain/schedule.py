"""When a message is due: now, or a Europe/Istanbul date and time the customer gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

ISTANBUL = ZoneInfo("Europe/Istanbul")
# How far ahead a message may be scheduled.
MAX_AHEAD = timedelta(days=366)


class InvalidSchedule(ValueError):
    pass


def due_time(
    scheduled: bool, date: str | None, time: str | None, now: datetime | None = None
) -> datetime:
    """The UTC time the message is due. Raises InvalidSchedule for a malformed or past time."""
    now = now or datetime.now(UTC)
    if not scheduled:
        return now
    if not date or not time:
        raise InvalidSchedule("a scheduled message needs scheduled_date and scheduled_time")
    try:
        local = datetime.strptime(f"{date} {time}", "%Y-%m-%d %H:%M")
    except ValueError:
        raise InvalidSchedule("scheduled_date is YYYY-MM-DD and scheduled_time is HH:MM") from None
    due = local.replace(tzinfo=ISTANBUL).astimezone(UTC)
    # Minutes are the resolution: the current minute still counts as now.
    if due < now.replace(second=0, microsecond=0):
        raise InvalidSchedule("the scheduled time is in the past")
    if due > now + MAX_AHEAD:
        raise InvalidSchedule("a message can be scheduled at most a year ahead")
    return max(due, now)
