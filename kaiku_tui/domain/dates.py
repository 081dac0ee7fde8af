"""Dates as people write them here, and times as the register stores them.

The command line takes `YYYY-MM-DD` or `dd.mm.yyyy`; the register stores UTC
epoch seconds; people read dates and times in Europe/Helsinki.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from kaiku_tui.errors import UsageError

HELSINKI = ZoneInfo("Europe/Helsinki")


def parse_date(text: str, what: str = "date") -> date:
    """`2026-11-28` or `28.11.2026` → a date; anything else → UsageError naming it."""
    raw = text.strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise UsageError(f"{what} {text!r} is not a date (use YYYY-MM-DD or dd.mm.yyyy)")


def day_start(day: date, tz: ZoneInfo = HELSINKI) -> int:
    """UTC epoch seconds of local midnight that starts `day`."""
    return int(datetime.combine(day, time(), tz).timestamp())


def day_end(day: date, tz: ZoneInfo = HELSINKI) -> int:
    """UTC epoch seconds of the local midnight that ends `day` (exclusive bound)."""
    return day_start(day + timedelta(days=1), tz)


def local(epoch: int, tz: ZoneInfo = HELSINKI) -> datetime:
    return datetime.fromtimestamp(epoch, UTC).astimezone(tz)


def iso(epoch: int, tz: ZoneInfo = HELSINKI) -> str:
    """ISO 8601 with the local offset: `2026-11-28T13:05:00+02:00`."""
    return local(epoch, tz).isoformat()


def fmt_day(day: date) -> str:
    """A calendar day as Finns write it: 28.11.2026."""
    return day.strftime("%d.%m.%Y")


def fmt_date(epoch: int, tz: ZoneInfo = HELSINKI) -> str:
    return local(epoch, tz).strftime("%d.%m.%Y")


def fmt_time(epoch: int, tz: ZoneInfo = HELSINKI) -> str:
    return local(epoch, tz).strftime("%H:%M")


def fmt_timestamp(iso_utc: str, tz: ZoneInfo = HELSINKI) -> str:
    """`28.11.2026 13:05:09` in local time, from an ISO 8601 UTC timestamp."""
    return datetime.fromisoformat(iso_utc).astimezone(tz).strftime("%d.%m.%Y %H:%M:%S")


def fmt_duration(seconds: int) -> str:
    """m:ss under an hour, h:mm:ss from an hour."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def parse_duration(text: str, what: str = "duration") -> int:
    """Seconds from `90`, `1:30`, `1:02:03`, `90s`, `5m`, `1h`."""
    raw = text.strip().lower()
    try:
        if ":" in raw:
            total = 0
            for part in raw.split(":"):
                total = total * 60 + int(part)
            value = total
        elif raw[-1:] in ("s", "m", "h"):
            value = int(raw[:-1]) * {"s": 1, "m": 60, "h": 3600}[raw[-1]]
        else:
            value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise UsageError(f"{what} {text!r} is not a duration (seconds, m:ss or h:mm:ss)")
    return value
