//! The decisions every backend makes the same way, written once.
//!
//! A backend keeps its own indexes (B-trees in memory, SQL indexes on disk)
//! but asks this module what to do: which spec a request serves, how many
//! units it hands out, what a unit's status is, what a finished attempt
//! chains, when a unit has run out of retries. The request algorithm itself
//! is [`request_attempts`], driven through the [`Claims`] a backend gives it.

use chrono::{DateTime, TimeDelta, Utc};
use rand::Rng;

use crate::clock::add;
use crate::error::{Error, Result};
use crate::extract::extract_work_unit_output;
use crate::meta::{AddWorkUnitItem, AttemptRequest, WorkSpecMeta};
use crate::scheduler::choose;
use crate::status::{AttemptStatus, WorkUnitStatus};
use crate::value::{Map, Value};

/// The items of one `add_work_units` call with a repeated name reduced to
/// the last item of that name (which is what adding them in order leaves),
/// in their order. Its length is the count the call returns: distinct
/// units added or updated.
pub fn last_of_each_name(items: Vec<AddWorkUnitItem>) -> Vec<AddWorkUnitItem> {
    let keep: Vec<bool> = {
        let mut last: std::collections::HashMap<&str, usize> =
            std::collections::HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            last.insert(item.key.as_str(), i);
        }
        if last.len() == items.len() {
            return items; // no repeats: the common case
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| last.get(item.key.as_str()) == Some(&i))
            .collect()
    };
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(item, keep)| keep.then_some(item))
        .collect()
}

/// Whether `worker` may take `parent` as its parent, given each worker's
/// current parent (`parent_of`): not itself and not one of its descendants.
/// Refused with `InvalidArgument` naming the problem; `parent_of`'s own
/// errors (a store's) pass through.
pub fn check_parent<I: PartialEq + Copy, E: From<Error>>(
    worker: I,
    parent: Option<I>,
    mut parent_of: impl FnMut(I) -> Result<Option<I>, E>,
) -> Result<(), E> {
    let Some(parent) = parent else {
        return Ok(());
    };
    if parent == worker {
        return Err(Error::InvalidArgument {
            what: "parent".into(),
            reason: "a worker cannot be its own parent".into(),
        }
        .into());
    }
    let mut at = parent_of(parent)?;
    // Parent links form a forest (this check keeps it one), so the walk
    // ends; the step bound guards against a store written before the check.
    let mut steps = 0u32;
    while let Some(p) = at {
        steps += 1;
        if p == worker || steps > 1 << 20 {
            return Err(Error::InvalidArgument {
                what: "parent".into(),
                reason: "the parent is a descendant of the worker: \
                         the parent links would form a cycle"
                    .into(),
            }
            .into());
        }
        at = parent_of(p)?;
    }
    Ok(())
}

/// The default attempt lifetime and worker expiration.
pub const DEFAULT_LEASE: TimeDelta = TimeDelta::minutes(15);

/// The lease an attempt gets: `lifetime`, or [`DEFAULT_LEASE`] when it is
/// zero or negative (for `request_attempts` and `make_attempt` alike).
pub fn lease(lifetime: TimeDelta) -> TimeDelta {
    if lifetime > TimeDelta::zero() {
        lifetime
    } else {
        DEFAULT_LEASE
    }
}

/// A unit's status from its active attempt's status (if it has one) and
/// its not-before time.
pub fn unit_status(
    active: Option<AttemptStatus>,
    not_before: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> WorkUnitStatus {
    match active {
        Some(AttemptStatus::Pending) => WorkUnitStatus::Pending,
        Some(AttemptStatus::Finished) => WorkUnitStatus::Finished,
        Some(AttemptStatus::Failed) => WorkUnitStatus::Failed,
        _ => match not_before {
            Some(nb) if now < nb => WorkUnitStatus::Delayed,
            _ => WorkUnitStatus::Available,
        },
    }
}

/// Normalises -0.0 to 0.0 so that equal priorities order by name.
pub fn unit_priority(p: f64) -> f64 {
    if p == 0.0 {
        0.0
    } else {
        p
    }
}

/// Whether a request may consider the spec (its `work_specs` and
/// `runtimes` filters; an empty list lets everything through).
pub fn request_admits(req: &AttemptRequest, name: &str, meta: &WorkSpecMeta) -> bool {
    (req.work_specs.is_empty() || req.work_specs.iter().any(|n| n == name))
        && (req.runtimes.is_empty() || req.runtimes.contains(&meta.runtime))
}

/// The spec a request serves: the scheduler's choice among `metas`, the
/// `(name, meta with counts)` of the specs the request admits (see
/// [`request_admits`]), in name order.
pub fn choose_spec<'a, I, R>(metas: I, now: DateTime<Utc>, rng: &mut R) -> Option<&'a str>
where
    I: Iterator<Item = (&'a str, &'a WorkSpecMeta)> + Clone,
    R: Rng + ?Sized,
{
    choose(metas, now, rng).ok()
}

/// How many units one request may take from a spec (at least 1).
pub fn request_count(meta: &WorkSpecMeta, req: &AttemptRequest) -> i64 {
    let mut count = req.number_of_work_units.max(1);
    if meta.max_attempts_returned > 0 {
        count = count.min(meta.max_attempts_returned);
    }
    if meta.max_running > 0 {
        count = count.min(meta.max_running - meta.pending_count).max(1);
    }
    count
}

/// The name of the continuous unit generated at `now`.
pub fn continuous_unit_name(now: DateTime<Utc>) -> String {
    format!("{}.{:03}", now.timestamp(), now.timestamp_subsec_millis())
}

/// Whether a unit with `num_attempts` attempts (the new one included) has
/// used up the spec's retries.
pub fn exceeds_retries(meta: &WorkSpecMeta, num_attempts: u64) -> bool {
    meta.max_retries > 0 && i128::from(num_attempts) > i128::from(meta.max_retries)
}

/// The data of an attempt failed for running out of retries.
pub fn retries_exhausted_data() -> Map {
    [("traceback".to_owned(), Value::from("too many retries"))].into()
}

/// The units a finished attempt adds to its spec's `then` spec: `None` when
/// the spec has no `then` or the data no `output`.
pub fn chained_units<'m>(
    meta: &'m WorkSpecMeta,
    data: &Map,
    now: DateTime<Utc>,
) -> Option<(&'m str, Vec<AddWorkUnitItem>)> {
    let output = data.get("output")?;
    let next = meta.next_work_spec_name.as_str();
    if next.is_empty() {
        return None;
    }
    Some((
        next,
        extract_work_unit_output(output, now)
            .into_values()
            .collect(),
    ))
}

/// What the request algorithm needs from a backend, on the one spec the
/// scheduler chose (inside the backend's lock or transaction).
pub trait Claims {
    /// A started attempt, as the backend names it.
    type Attempt;

    /// Takes the spec's best available unit (highest priority, then
    /// smallest name) and starts a Pending attempt on it. Returns the
    /// attempt and the unit's number of attempts, this one included, or
    /// `None` when no unit is available.
    fn start_next(
        &mut self,
        lifetime: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<Option<(Self::Attempt, u64)>>;

    /// Creates (or reuses) the unit `name` with empty data, sets the spec's
    /// `next_continuous` to `next`, and starts an attempt on the unit,
    /// displacing any active attempt.
    fn start_continuous(
        &mut self,
        name: &str,
        next: DateTime<Utc>,
        lifetime: TimeDelta,
        now: DateTime<Utc>,
    ) -> Result<(Self::Attempt, u64)>;

    /// Fails a just-started attempt with `data` (the unit ran out of retries).
    fn fail(&mut self, attempt: &Self::Attempt, data: Map, now: DateTime<Utc>) -> Result<()>;
}

/// The request algorithm on the chosen spec, whose meta (with counts) is
/// `meta`: hand out up to [`request_count`] units in order, generate a
/// continuous unit when the spec is idle, and fail attempts of units past
/// `max_retries` (drawing again only when a whole batch failed).
pub fn request_attempts<C: Claims>(
    claims: &mut C,
    meta: &WorkSpecMeta,
    req: &AttemptRequest,
    now: DateTime<Utc>,
) -> Result<Vec<C::Attempt>> {
    let count = request_count(meta, req);
    let lifetime = lease(req.lifetime);
    let mut taken = 0i64;
    let mut survivors = Vec::new();
    loop {
        let mut drawn = 0;
        while drawn < count {
            let started = match claims.start_next(lifetime, now)? {
                Some(started) => started,
                None if meta.available_count == 0
                    && meta.pending_count + taken == 0
                    && meta.can_start_continuous(now) =>
                {
                    let next = add(now, meta.interval);
                    claims.start_continuous(&continuous_unit_name(now), next, lifetime, now)?
                }
                None => break,
            };
            drawn += 1;
            taken += 1;
            let (attempt, attempts) = started;
            if exceeds_retries(meta, attempts) {
                claims.fail(&attempt, retries_exhausted_data(), now)?;
            } else {
                survivors.push(attempt);
            }
        }
        // Only a batch that was drawn and failed whole is drawn again.
        if drawn == 0 || !survivors.is_empty() || meta.max_retries <= 0 {
            break;
        }
    }
    Ok(survivors)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_defaults_for_zero_and_negative() {
        assert_eq!(lease(TimeDelta::zero()), DEFAULT_LEASE);
        assert_eq!(lease(TimeDelta::seconds(-5)), DEFAULT_LEASE);
        assert_eq!(lease(TimeDelta::seconds(5)), TimeDelta::seconds(5));
    }

    #[test]
    fn counts_respect_limits() {
        let req = AttemptRequest {
            number_of_work_units: 10,
            ..Default::default()
        };
        let meta = WorkSpecMeta {
            max_attempts_returned: 4,
            ..Default::default()
        };
        assert_eq!(request_count(&meta, &req), 4);
        let meta = WorkSpecMeta {
            max_running: 5,
            pending_count: 5,
            ..Default::default()
        };
        assert_eq!(request_count(&meta, &req), 1);
        assert_eq!(
            request_count(&WorkSpecMeta::default(), &Default::default()),
            1
        );
    }
}
