//! The memory store's capacity bound (docs/semantics.md §6.1.1): at most
//! `max_units` work units and `max_bytes` accounted bytes. A call that would
//! pass either bound is refused with `Capacity` before anything changes.
//!
//! The accounted bytes of a store are, over every work unit and every
//! attempt it holds, [`OBJECT_BYTES`] plus the [`data_bytes`] of the unit's
//! or attempt's data (an attempt holds its own copy of the data). Spec and
//! worker data are not counted: each is one copy, replaced, never
//! accumulated.

use crate::error::{Error, Result};
use crate::value::{Map, Value};

/// What one work unit or attempt counts besides its data: about what the
/// engine's indexes and records hold for it.
pub const OBJECT_BYTES: u64 = 256;

/// The default bounds: on wasm32 (a 4 GiB address space shared with the
/// host's handles) 2,000,000 units and 1 GiB, which keeps the module well
/// inside its memory; elsewhere none (the operating system's memory is the
/// bound, as for any process).
pub const DEFAULT_LIMITS: Limits = if cfg!(target_arch = "wasm32") {
    Limits {
        max_units: 2_000_000,
        max_bytes: 1 << 30,
    }
} else {
    Limits {
        max_units: u64::MAX,
        max_bytes: u64::MAX,
    }
};

/// The capacity bounds of a memory store (`memory:?max_units=N&max_bytes=N`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most work units held at once, over all specs and namespaces.
    pub max_units: u64,
    /// Most accounted bytes (see the module documentation).
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        DEFAULT_LIMITS
    }
}

impl Limits {
    /// The bounds a `memory:` URL sets: `memory:` alone gives the defaults;
    /// `memory:?max_units=N&max_bytes=N` (either, in any order; `none` for
    /// no bound) sets them. Another parameter or a bad number is `BadUrl`.
    pub fn from_url(url: &str) -> Result<Limits> {
        let mut limits = Limits::default();
        let Some((_, query)) = url.split_once('?') else {
            return Ok(limits);
        };
        let bad = |why: String| Error::BadUrl {
            url: format!("{url} ({why})"),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(format!("the parameter {pair:?} has no value")))?;
            let n = if value.eq_ignore_ascii_case("none") {
                u64::MAX
            } else {
                value.parse::<u64>().map_err(|_| {
                    bad(format!(
                        "{key} must be a whole number of 0 or more, or none; got {value:?}"
                    ))
                })?
            };
            match key {
                "max_units" => limits.max_units = n,
                "max_bytes" => limits.max_bytes = n,
                _ => {
                    return Err(bad(format!(
                        "unknown parameter {key:?}; a memory store takes max_units and max_bytes"
                    )))
                }
            }
        }
        Ok(limits)
    }
}

/// What a store holds against its limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Work units held.
    pub units: u64,
    /// Accounted bytes held.
    pub bytes: u64,
}

impl Usage {
    /// Refuses a change of `units` more units and `bytes` more bytes
    /// (either may be negative) that would end past a bound.
    pub fn admit(&self, limits: &Limits, units: i64, bytes: i64) -> Result<()> {
        let after = |held: u64, delta: i64| {
            if delta >= 0 {
                held.saturating_add(delta.unsigned_abs())
            } else {
                held.saturating_sub(delta.unsigned_abs())
            }
        };
        let new_units = after(self.units, units);
        if units > 0 && new_units > limits.max_units {
            return Err(Error::Capacity {
                reason: format!(
                    "{units} more work unit(s) would pass max_units={} ({} held)",
                    limits.max_units, self.units
                ),
            });
        }
        let new_bytes = after(self.bytes, bytes);
        if bytes > 0 && new_bytes > limits.max_bytes {
            return Err(Error::Capacity {
                reason: format!(
                    "{bytes} more bytes would pass max_bytes={} ({} held)",
                    limits.max_bytes, self.bytes
                ),
            });
        }
        Ok(())
    }

    /// Applies a change already admitted (or one that only frees).
    pub fn apply(&mut self, units: i64, bytes: i64) {
        let step = |held: &mut u64, delta: i64| {
            *held = if delta >= 0 {
                held.saturating_add(delta.unsigned_abs())
            } else {
                held.saturating_sub(delta.unsigned_abs())
            }
        };
        step(&mut self.units, units);
        step(&mut self.bytes, bytes);
    }
}

/// The accounted size of a data map: 32 bytes per value and per key, plus
/// the length of every key, string and byte string (about what the engine
/// holds for it).
pub fn data_bytes(data: &Map) -> u64 {
    data.iter()
        .map(|(k, v)| 32 + k.len() as u64 + value_bytes(v))
        .sum()
}

fn value_bytes(v: &Value) -> u64 {
    32 + match v {
        Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => 0,
        Value::String(s) => s.len() as u64,
        Value::Bytes(b) => b.len() as u64,
        Value::List(items) => items.iter().map(value_bytes).sum(),
        Value::Map(m) => data_bytes(m),
    }
}

/// What a unit or attempt with `data` counts.
pub fn object_bytes(data: &Map) -> u64 {
    OBJECT_BYTES + data_bytes(data)
}

/// `after - before` as a signed change.
pub fn delta(before: u64, after: u64) -> i64 {
    i64::try_from(after)
        .unwrap_or(i64::MAX)
        .saturating_sub(i64::try_from(before).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_set_the_bounds() {
        assert_eq!(Limits::from_url("memory:").unwrap(), DEFAULT_LIMITS);
        let l = Limits::from_url("memory:?max_units=10&max_bytes=none").unwrap();
        assert_eq!((l.max_units, l.max_bytes), (10, u64::MAX));
        for bad in [
            "memory:?max_units=-1",
            "memory:?max_units=1e3",
            "memory:?max_units",
            "memory:?max_unit=3",
        ] {
            let e = Limits::from_url(bad).unwrap_err();
            assert_eq!(e.code(), "BadUrl", "{bad}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn admit_refuses_past_a_bound() {
        let limits = Limits {
            max_units: 2,
            max_bytes: 1000,
        };
        let usage = Usage {
            units: 1,
            bytes: 900,
        };
        assert!(usage.admit(&limits, 1, 100).is_ok());
        assert_eq!(usage.admit(&limits, 2, 0).unwrap_err().code(), "Capacity");
        assert_eq!(usage.admit(&limits, 0, 101).unwrap_err().code(), "Capacity");
        // Freeing is always admitted.
        assert!(usage.admit(&limits, -1, -500).is_ok());
    }
}
