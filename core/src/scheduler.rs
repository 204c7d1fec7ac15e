//! Choosing which work spec a worker gets work from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand::{Rng, RngExt, SeedableRng};

use crate::error::{Error, Result};
use crate::meta::WorkSpecMeta;

/// Metas keyed by spec name, in name order (the order the scheduler walks).
pub type Metas = BTreeMap<String, WorkSpecMeta>;

/// Keeps only the named specs; an empty list keeps everything.
pub fn limit_metas_to_names(metas: Metas, names: &[String]) -> Metas {
    if names.is_empty() {
        return metas;
    }
    let mut metas = metas;
    names.iter().filter_map(|n| metas.remove_entry(n)).collect()
}

/// Keeps only specs whose runtime equals one of `runtimes`; an empty list keeps everything.
pub fn limit_metas_to_runtimes(metas: Metas, runtimes: &[String]) -> Metas {
    if runtimes.is_empty() {
        return metas;
    }
    metas
        .into_iter()
        .filter(|(_, m)| runtimes.contains(&m.runtime))
        .collect()
}

/// Picks a spec: eligible specs only, highest priority only, then a weighted
/// draw that steers pending counts toward the specs' weights.
///
/// `seed` makes the choice reproducible; `None` seeds from the OS.
pub fn simplified_scheduler(
    metas: &Metas,
    now: DateTime<Utc>,
    available_gb: f64,
    seed: Option<u64>,
) -> Result<String> {
    let mut rng = match seed {
        Some(seed) => rand::rngs::StdRng::seed_from_u64(seed),
        None => rand::make_rng(),
    };
    let _ = available_gb; // accepted for the API; no backend filters by memory
    choose(metas.iter().map(|(n, m)| (n.as_str(), m)), now, &mut rng).map(str::to_owned)
}

/// The scheduler over `(name, meta)` pairs in ascending name order, drawing
/// from a caller's random source. Allocates nothing.
pub(crate) fn choose<'a, I, R>(metas: I, now: DateTime<Utc>, rng: &mut R) -> Result<&'a str>
where
    I: Iterator<Item = (&'a str, &'a WorkSpecMeta)> + Clone,
    R: Rng + ?Sized,
{
    let eligible = metas.filter(move |(_, m)| m.can_do_work(now));
    let top = eligible
        .clone()
        .map(|(_, m)| m.priority)
        .max()
        .ok_or(Error::NoWork)?;
    let candidates = eligible.filter(move |(_, m)| m.priority == top);
    // Scores are W * (fair share of P+1 pending units - pending); they sum to W > 0.
    let (total_weight, total_pending) =
        candidates.clone().fold((0i128, 0i128), |(w, p), (_, m)| {
            (w + m.weight as i128, p + m.pending_count as i128)
        });
    let score = move |m: &WorkSpecMeta| {
        m.weight as i128 * (total_pending + 1) - total_weight * m.pending_count as i128
    };
    let positive = candidates.filter(move |(_, m)| score(m) > 0);
    let (count, sum) = positive
        .clone()
        .fold((0usize, 0i128), |(c, s), (_, m)| (c + 1, s + score(m)));
    let mut walk = positive.clone();
    if count == 1 {
        return walk.next().map(|(n, _)| n).ok_or(Error::NoWork);
    }
    let sum = u128::try_from(sum).map_err(|_| Error::NoWork)?;
    if sum == 0 {
        return Err(Error::NoWork);
    }
    let mut r = rng.random_range(0..sum) as i128;
    let mut last = Err(Error::NoWork);
    for (name, m) in walk {
        let s = score(m);
        if r < s {
            return Ok(name);
        }
        r -= s;
        last = Ok(name);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(weight: i64, available: i64, pending: i64) -> WorkSpecMeta {
        WorkSpecMeta {
            weight,
            available_count: available,
            pending_count: pending,
            ..Default::default()
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(0, 0).unwrap()
    }

    #[test]
    fn empty_and_zero_weight_have_no_work() {
        assert_eq!(
            simplified_scheduler(&Metas::new(), now(), 1.0, Some(1)),
            Err(Error::NoWork)
        );
        let metas: Metas = [("one".to_string(), meta(0, 1000, 0))].into();
        assert_eq!(
            simplified_scheduler(&metas, now(), 1.0, Some(1)),
            Err(Error::NoWork)
        );
    }

    #[test]
    fn overfull_spec_is_never_chosen() {
        let metas: Metas = [
            ("one".to_string(), meta(1, 1000, 0)),
            ("two".to_string(), meta(5, 1000, 0)),
            ("three".to_string(), meta(1, 1000, 99)),
        ]
        .into();
        let mut counts = BTreeMap::new();
        for seed in 0..1000 {
            *counts
                .entry(simplified_scheduler(&metas, now(), 1.0, Some(seed)).unwrap())
                .or_insert(0) += 1;
        }
        assert!(!counts.contains_key("three"));
        // 1/6 of 1000 is 166; 3 sigma is about 35.
        assert!((131..=201).contains(&counts["one"]), "{counts:?}");
    }

    #[test]
    fn same_seed_same_choice() {
        let metas: Metas = [
            ("a".to_string(), meta(1, 5, 0)),
            ("b".to_string(), meta(1, 5, 0)),
        ]
        .into();
        let first = simplified_scheduler(&metas, now(), 1.0, Some(42));
        for _ in 0..10 {
            assert_eq!(simplified_scheduler(&metas, now(), 1.0, Some(42)), first);
        }
    }

    #[test]
    fn limits() {
        let metas: Metas = [
            (
                "a".to_string(),
                WorkSpecMeta {
                    runtime: "go".into(),
                    ..Default::default()
                },
            ),
            ("b".to_string(), WorkSpecMeta::default()),
        ]
        .into();
        let names = |m: Metas| m.into_keys().collect::<Vec<_>>();
        assert_eq!(names(limit_metas_to_names(metas.clone(), &[])), ["a", "b"]);
        assert_eq!(
            names(limit_metas_to_names(
                metas.clone(),
                &["b".into(), "c".into()]
            )),
            ["b"]
        );
        assert_eq!(
            names(limit_metas_to_runtimes(metas.clone(), &["".into()])),
            ["b"]
        );
        assert_eq!(names(limit_metas_to_runtimes(metas, &["go".into()])), ["a"]);
    }
}
