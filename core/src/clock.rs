//! The injectable clock: the only source of time in the crate.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{Error, Result};

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

    /// Moves the clock to `instant` (backwards is allowed), clamped into the
    /// valid instant range. Hosts use `try_set`, which rejects instead.
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) =
            instant.clamp(min_instant(), max_instant());
    }

    /// Moves the clock by `by`, saturating at the ends of the valid instant
    /// range. Hosts use `try_advance`, which rejects instead.
    pub fn advance(&self, by: TimeDelta) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        *now = add(*now, by);
    }

    /// `set`, but an instant outside the valid range (years 1 to 9999) is an
    /// `OutOfRange` error and the clock does not move.
    pub fn try_set(&self, instant: DateTime<Utc>) -> Result<()> {
        check_instant(instant, "instant")?;
        self.set(instant);
        Ok(())
    }

    /// `advance`, but a duration outside the valid range, or one that would
    /// move the clock outside the valid instant range, is an `OutOfRange`
    /// error naming `duration`, and the clock does not move.
    pub fn try_advance(&self, by: TimeDelta) -> Result<()> {
        check_duration(by, "duration")?;
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        let moved = now
            .checked_add_signed(by)
            .ok_or_else(|| out_of_range("duration", "moves the clock out of range".into()))?;
        *now = check_instant(moved, "duration")?;
        Ok(())
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

/// The largest duration Coordinate accepts, in seconds: 10^9 s (about 31.7
/// years), either sign. Every host holds it exactly (Python `timedelta`, a
/// JavaScript `number` of milliseconds, chrono's nanoseconds), and adding it
/// to any instant in range cannot overflow chrono.
pub const MAX_DURATION_SECS: i64 = 1_000_000_000;

/// The largest duration Coordinate accepts (`MAX_DURATION_SECS`).
pub const MAX_DURATION: TimeDelta = match TimeDelta::try_seconds(MAX_DURATION_SECS) {
    Some(d) => d,
    None => TimeDelta::zero(),
};

/// The earliest instant Coordinate accepts: 0001-01-01T00:00:00Z.
pub fn min_instant() -> DateTime<Utc> {
    // -62135596800 is 0001-01-01T00:00:00Z; always representable.
    DateTime::from_timestamp(-62_135_596_800, 0).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The latest instant Coordinate accepts: 9999-12-31T23:59:59.999999Z (the
/// last microsecond Python's `datetime` can hold).
pub fn max_instant() -> DateTime<Utc> {
    // 253402300799 is 9999-12-31T23:59:59Z.
    DateTime::from_timestamp(253_402_300_799, 999_999_000).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `t + d`, saturating at the ends of the valid instant range
/// (`min_instant()..=max_instant()`), so that every instant the core
/// computes can be read back by every host. Never panics.
pub(crate) fn add(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    let sum = t.checked_add_signed(d).unwrap_or(if d < TimeDelta::zero() {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    });
    sum.clamp(min_instant(), max_instant())
}

fn out_of_range(what: &str, reason: String) -> Error {
    Error::OutOfRange {
        what: what.to_owned(),
        reason,
    }
}

/// Checks that `d` lies in the valid duration range (|d| <= `MAX_DURATION`).
/// `what` names the argument in the error.
pub fn check_duration(d: TimeDelta, what: &str) -> Result<TimeDelta> {
    if d.abs() > MAX_DURATION {
        return Err(out_of_range(
            what,
            format!(
                "duration of {} s is outside the valid range of ±{MAX_DURATION_SECS} s",
                d.num_seconds()
            ),
        ));
    }
    Ok(d)
}

/// Checks that `t` lies in the valid instant range (years 1 to 9999).
/// `what` names the argument in the error.
pub fn check_instant(t: DateTime<Utc>, what: &str) -> Result<DateTime<Utc>> {
    if t < min_instant() || t > max_instant() {
        return Err(out_of_range(
            what,
            format!("instant {t} is outside the valid range (years 1 to 9999)"),
        ));
    }
    Ok(t)
}

/// `check_instant` for an optional instant (`None` is always valid).
pub fn check_opt_instant(t: Option<DateTime<Utc>>, what: &str) -> Result<Option<DateTime<Utc>>> {
    t.map(|t| check_instant(t, what)).transpose()
}

/// A number of seconds as a duration, to nanosecond precision. NaN, ±inf and
/// values beyond ±`MAX_DURATION_SECS` are `OutOfRange` errors naming `what`.
pub fn try_seconds(secs: f64, what: &str) -> Result<TimeDelta> {
    if secs.is_nan() {
        return Err(out_of_range(what, "duration is NaN".into()));
    }
    if !secs.is_finite() || secs.abs() > MAX_DURATION_SECS as f64 {
        return Err(out_of_range(
            what,
            format!("duration of {secs} s is outside the valid range of ±{MAX_DURATION_SECS} s"),
        ));
    }
    // |secs| <= 1e9, so |nanos| <= 1e18 < i64::MAX: exact conversion.
    Ok(TimeDelta::nanoseconds((secs * 1e9).round() as i64))
}

/// A number of milliseconds as a duration (the JavaScript form): the same
/// rule and range as `try_seconds`.
pub fn try_millis(ms: f64, what: &str) -> Result<TimeDelta> {
    if ms.is_nan() {
        return Err(out_of_range(what, "duration is NaN".into()));
    }
    if !ms.is_finite() || ms.abs() > (MAX_DURATION_SECS as f64) * 1000.0 {
        return Err(out_of_range(
            what,
            format!("duration of {ms} ms is outside the valid range of ±{MAX_DURATION_SECS}000 ms"),
        ));
    }
    Ok(TimeDelta::nanoseconds((ms * 1e6).round() as i64))
}

/// Seconds as a float to a duration, clamped into the valid range: NaN is
/// zero, ±inf and out-of-range values are ±`MAX_DURATION`. For data that was
/// stored before it could be checked (a work spec's `interval`); arguments
/// use `try_seconds`, which rejects such values instead.
pub fn seconds(secs: f64) -> TimeDelta {
    if secs.is_nan() {
        return TimeDelta::zero();
    }
    let bound = MAX_DURATION_SECS as f64;
    try_seconds(secs.clamp(-bound, bound), "seconds").unwrap_or_default()
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
        assert_eq!(d.now(), max_instant());
        c.set(DateTime::from_timestamp(0, 0).unwrap());
        assert_eq!(d.now().timestamp(), 0);
    }

    #[test]
    fn fractional_seconds() {
        assert_eq!(seconds(1.5), TimeDelta::milliseconds(1500));
        assert_eq!(seconds(f64::NAN), TimeDelta::zero());
        assert_eq!(seconds(1e300), MAX_DURATION);
        assert_eq!(seconds(f64::NEG_INFINITY), -MAX_DURATION);
        assert_eq!(seconds(1e10), MAX_DURATION);
    }

    #[test]
    fn try_seconds_is_exact_in_range_and_rejects_outside() {
        assert_eq!(try_seconds(1.5, "d"), Ok(TimeDelta::milliseconds(1500)));
        assert_eq!(try_seconds(-1e9, "d"), Ok(-MAX_DURATION));
        assert_eq!(
            try_seconds(999_999_999.5, "d"),
            Ok(TimeDelta::milliseconds(999_999_999_500))
        );
        for bad in [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e9 + 1.0,
            -1e10,
            1e300,
        ] {
            let e = try_seconds(bad, "lifetime").unwrap_err();
            assert_eq!(e.code(), "OutOfRange", "{bad}");
            assert!(e.to_string().starts_with("lifetime: "), "{e}");
        }
        assert_eq!(try_millis(1500.0, "ms"), Ok(TimeDelta::milliseconds(1500)));
        assert_eq!(try_millis(1e12, "ms"), Ok(MAX_DURATION));
        assert!(try_millis(1e12 + 1.0, "ms").is_err());
        assert!(try_millis(f64::INFINITY, "ms").is_err());
        assert!(try_millis(f64::NAN, "ms").is_err());
    }

    #[test]
    fn instant_range_is_years_1_to_9999() {
        assert_eq!(min_instant().to_rfc3339(), "0001-01-01T00:00:00+00:00");
        assert_eq!(
            max_instant().to_rfc3339(),
            "9999-12-31T23:59:59.999999+00:00"
        );
        assert!(check_instant(max_instant(), "t").is_ok());
        assert!(check_instant(max_instant() + TimeDelta::microseconds(1), "t").is_err());
        assert!(check_instant(min_instant() - TimeDelta::nanoseconds(1), "t").is_err());
        // The largest duration from the latest instant saturates, never overflows.
        assert_eq!(add(max_instant(), MAX_DURATION), max_instant());
        assert_eq!(add(min_instant(), -MAX_DURATION), min_instant());
    }

    #[test]
    fn try_advance_and_try_set_reject_without_moving() {
        let c = MockClock::default();
        let start = c.now();
        assert!(c.try_advance(MAX_DURATION + TimeDelta::seconds(1)).is_err());
        assert_eq!(c.now(), start);
        assert!(c.try_advance(MAX_DURATION).is_ok());
        assert_eq!(c.now(), start + MAX_DURATION);
        c.set(max_instant() - TimeDelta::seconds(1));
        let e = c.try_advance(TimeDelta::seconds(2)).unwrap_err();
        assert_eq!(e.code(), "OutOfRange");
        assert_eq!(c.now(), max_instant() - TimeDelta::seconds(1));
        let far = DateTime::<Utc>::MAX_UTC;
        assert!(c.try_set(far).is_err());
        assert!(c.try_set(start).is_ok());
        assert_eq!(c.now(), start);
    }
}
