"""ISO 8601 instants as the contract writes them: UTC with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl


def iso_z(instant: datetime) -> str:
    """Format an instant as ``2024-01-01T12:00:00Z`` (naive means UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(value: str | datetime | None) -> datetime | None:
    """Parse an ISO 8601 date or datetime; naive values are UTC."""
    if value is None:
        return None
    if isinstance(value, datetime):
        instant = value
    else:
        instant = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def utc_literal(instant: datetime) -> pl.Expr:
    """A polars literal of ``Datetime("ms", "UTC")`` for comparisons with ``open_time``."""
    return pl.lit(instant).cast(pl.Datetime("ms", "UTC"))
