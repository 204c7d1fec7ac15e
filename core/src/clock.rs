//! The injectable clock: the only source of time in the crate.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

/// A source of "now". A `Coordinate` reads time only through its clock.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The host's wall clock (`Date.now()` on wasm32 via chrono's `wasmbind`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that only moves when told to. Clones share the same instant, so a
/// test can keep one clone and hand another to a `Coordinate`.
///
/// ```
/// use chrono::{TimeDelta, TimeZone, Utc};
/// use coordinate::MockClock;
/// let clock = MockClock::new(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
/// let view = clock.clone();
/// clock.advance(TimeDelta::seconds(5));
/// assert_eq!(view.now(), Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 5).unwrap());
/// ```
#[derive(Clone, Debug)]
pub struct MockClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl MockClock {
    /// A clock stopped at `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        MockClock {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// The instant the clock shows.
    pub fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Moves the clock to `instant` (backwards is allowed).
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) = instant;
    }

    /// Moves the clock by `by` (saturating at the ends of representable time).
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = add(*now, by);
    }
}

impl Default for MockClock {
    /// A clock at 2026-01-01T00:00:00Z.
    fn default() -> Self {
        MockClock::new(DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default())
    }
}

impl Clock for MockClock {
    fn now(&self) -> DateTime<Utc> {
        MockClock::now(self)
    }
}

/// `t + d`, saturating instead of panicking at the ends of representable time.
pub(crate) fn add(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// Seconds as a float to a duration, to nanosecond precision, saturating.
pub fn seconds(secs: f64) -> TimeDelta {
    if !secs.is_finite() {
        return if secs > 0.0 {
            TimeDelta::MAX
        } else {
            TimeDelta::zero()
        };
    }
    let nanos = (secs * 1e9).round();
    if nanos >= i64::MAX as f64 {
        TimeDelta::MAX
    } else if nanos <= i64::MIN as f64 {
        TimeDelta::MIN
    } else {
        TimeDelta::nanoseconds(nanos as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_time_and_saturate() {
        let c = MockClock::default();
        let d = c.clone();
        c.advance(TimeDelta::milliseconds(1500));
        assert_eq!(d.now().timestamp_millis(), 1_767_225_601_500);
        c.advance(TimeDelta::MAX);
        assert_eq!(d.now(), DateTime::<Utc>::MAX_UTC);
        c.set(DateTime::from_timestamp(0, 0).unwrap());
        assert_eq!(d.now().timestamp(), 0);
    }

    #[test]
    fn fractional_seconds() {
        assert_eq!(seconds(1.5), TimeDelta::milliseconds(1500));
        assert_eq!(seconds(f64::NAN), TimeDelta::zero());
        assert_eq!(seconds(1e300), TimeDelta::MAX);
    }
}
