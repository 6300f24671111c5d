"""When a schedule fires: cron expressions (croniter) and fixed intervals, in the schedule's time zone.

Cron is evaluated on wall-clock time in `timezone` (croniter handles DST: a 02:30 job on the spring-forward
day runs at 03:00, on the fall-back day once). Intervals count from the schedule's anchor (its creation
time) in absolute seconds, so the time zone does not change them.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from apps.core.exceptions import InvalidRequest


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidRequest("Unknown timezone") from None


def cron_check(expression: str) -> str:
    """A standard 5-field expression (`min hour day-of-month month day-of-week`); anything else is 400."""
    expression = " ".join(expression.split())
    if len(expression.split(" ")) != 5 or not croniter.is_valid(expression):
        raise InvalidRequest("Invalid cron expression")
    return expression


class Timing:
    """The fire times of one schedule."""

    def __init__(
        self, *, cron_expression: str | None, interval_seconds: int | None, timezone: str, anchor: datetime
    ) -> None:
        self.cron = cron_expression
        self.interval = timedelta(seconds=interval_seconds) if interval_seconds else None
        self.zone = zone(timezone)
        self.anchor = anchor

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time strictly after `moment`."""
        if self.interval is not None:
            if moment < self.anchor:
                return self.anchor + self.interval
            elapsed = (moment - self.anchor) // self.interval
            return self.anchor + (elapsed + 1) * self.interval
        assert self.cron is not None
        try:
            following = croniter(self.cron, moment.astimezone(self.zone), max_years_between_matches=50).get_next(
                datetime
            )
        except Exception:  # croniter: no match within its horizon (e.g. "0 0 30 2 *")
            return None
        return following.astimezone(UTC)

    def due(self, first: datetime, now: datetime, *, limit: int) -> list[datetime]:
        """The fire times from `first` up to `now` (inclusive): the latest `limit` of them, oldest first.

        Walks back from `now`, so a long outage costs `limit` steps, not one per missed fire.
        """
        times: list[datetime] = []
        if self.interval is not None:
            if now < self.anchor:
                return []
            latest = self.anchor + ((now - self.anchor) // self.interval) * self.interval
            while len(times) < limit and latest >= first:
                times.append(latest)
                latest -= self.interval
        else:
            assert self.cron is not None
            # croniter's get_prev is strictly before its start; cron has minute resolution, so +1 s includes `now`.
            walker = croniter(self.cron, (now + timedelta(seconds=1)).astimezone(self.zone))
            while len(times) < limit:
                moment = walker.get_prev(datetime)
                if moment < first:
                    break
                times.append(moment.astimezone(UTC))
        return times[::-1]
