"""The send limit counts a sliding window, as the platforms do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.ratelimit import SlidingWindowLimiter, Window

T0 = datetime(2026, 11, 24, tzinfo=UTC)


def test_twenty_a_minute_never_twenty_one() -> None:
    limiter = SlidingWindowLimiter([Window(20, timedelta(minutes=1))])
    sent = []
    now = T0
    while now < T0 + timedelta(minutes=3):
        if limiter.wait("g", now) == 0:
            limiter.record("g", now)
            sent.append(now)
        now += timedelta(seconds=0.5)

    for i, moment in enumerate(sent):
        in_window = [t for t in sent[i:] if t - moment < timedelta(minutes=1)]
        assert len(in_window) <= 20
    assert len(sent) == 60


def test_the_wait_is_until_the_oldest_counted_send_leaves() -> None:
    limiter = SlidingWindowLimiter([Window(2, timedelta(minutes=1))])
    limiter.record("g", T0)
    limiter.record("g", T0 + timedelta(seconds=10))

    assert limiter.wait("g", T0 + timedelta(seconds=20)) == 40
    assert limiter.wait("other", T0) == 0


def test_an_hourly_limit_beside_the_minute_limit() -> None:
    limiter = SlidingWindowLimiter(
        [Window(30, timedelta(minutes=1)), Window(40, timedelta(hours=1))]
    )
    now = T0
    for _ in range(40):
        while limiter.wait("g", now) > 0:
            now += timedelta(seconds=1)
        limiter.record("g", now)

    assert limiter.wait("g", now) > 3000
