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
    choose(metas, now, available_gb, &mut rng).map(str::to_owned)
}

/// The scheduler with a caller's random source.
pub(crate) fn choose<'a, R: Rng + ?Sized>(
    metas: &'a Metas,
    now: DateTime<Utc>,
    _available_gb: f64,
    rng: &mut R,
) -> Result<&'a str> {
    let eligible: Vec<(&str, &WorkSpecMeta)> = metas
        .iter()
        .filter(|(_, m)| m.can_do_work(now))
        .map(|(n, m)| (n.as_str(), m))
        .collect();
    let top = eligible
        .iter()
        .map(|(_, m)| m.priority)
        .max()
        .ok_or(Error::NoWork)?;
    let candidates: Vec<(&str, &WorkSpecMeta)> = eligible
        .into_iter()
        .filter(|(_, m)| m.priority == top)
        .collect();
    // Scores are W * (fair share of P+1 pending units - pending); they sum to W > 0.
    let total_weight: i128 = candidates.iter().map(|(_, m)| m.weight as i128).sum();
    let total_pending: i128 = candidates
        .iter()
        .map(|(_, m)| m.pending_count as i128)
        .sum();
    let scored: Vec<(&str, i128)> = candidates
        .iter()
        .map(|(n, m)| {
            let score =
                m.weight as i128 * (total_pending + 1) - total_weight * m.pending_count as i128;
            (*n, score)
        })
        .filter(|(_, s)| *s > 0)
        .collect();
    let sum: i128 = scored.iter().map(|(_, s)| s).sum();
    if scored.len() == 1 {
        return Ok(scored[0].0);
    }
    let sum = u128::try_from(sum).map_err(|_| Error::NoWork)?;
    let mut r = rng.random_range(0..sum) as i128;
    for (name, score) in &scored {
        if r < *score {
            return Ok(name);
        }
        r -= score;
    }
    scored.last().map(|(n, _)| *n).ok_or(Error::NoWork)
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
