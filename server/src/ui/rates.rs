//! Finished/failed rates per work spec over the last hour: the daemon
//! samples every spec's status counts (one `Summarize` of the store) every
//! few seconds into a bounded ring buffer. Nothing is hooked into the
//! request path; a rate is the change of a count between two samples.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use coordinate::{Summary, WorkUnitStatus};

/// The window the chart shows.
pub(crate) const WINDOW: Duration = Duration::from_secs(3600);

/// (namespace, work spec).
pub(crate) type SpecKey = (String, String);

#[derive(Debug)]
struct Sample {
    at: Instant,
    /// (finished, failed) units per spec.
    counts: HashMap<SpecKey, (i64, i64)>,
}

/// The ring buffer: at most `capacity` samples, the oldest dropped first.
#[derive(Debug)]
pub(crate) struct Rates {
    samples: VecDeque<Sample>,
    capacity: usize,
}

/// Finished and failed units per minute.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct PerMinute {
    pub(crate) finished: f64,
    pub(crate) failed: f64,
}

impl Rates {
    /// A buffer holding one hour of samples taken every `every`.
    pub(crate) fn new(every: Duration) -> Rates {
        let every = every.max(Duration::from_millis(100));
        let capacity = usize::try_from(WINDOW.as_millis() / every.as_millis())
            .unwrap_or(usize::MAX)
            .clamp(2, 36_000)
            + 1;
        Rates {
            samples: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// How many samples it holds at most.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many samples it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// Adds the counts of a summary taken at `at`.
    pub(crate) fn push(&mut self, at: Instant, summary: &Summary) {
        let mut counts: HashMap<SpecKey, (i64, i64)> = HashMap::new();
        for r in summary {
            let e = counts
                .entry((r.namespace.clone(), r.work_spec.clone()))
                .or_default();
            match r.status {
                WorkUnitStatus::Finished => e.0 += r.count,
                WorkUnitStatus::Failed => e.1 += r.count,
                _ => {}
            }
        }
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(Sample { at, counts });
    }

    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    fn rate(a: &Sample, b: &Sample, pick: &dyn Fn(&Sample) -> (i64, i64)) -> PerMinute {
        let secs = b.at.duration_since(a.at).as_secs_f64();
        if secs <= 0.0 {
            return PerMinute::default();
        }
        let (fa, xa) = pick(a);
        let (fb, xb) = pick(b);
        // Deleted units make a count fall: that is no negative throughput.
        PerMinute {
            finished: (fb - fa).max(0) as f64 * 60.0 / secs,
            failed: (xb - xa).max(0) as f64 * 60.0 / secs,
        }
    }

    fn picker<'a>(
        spec: Option<&'a SpecKey>,
        ns: Option<&'a str>,
    ) -> impl Fn(&Sample) -> (i64, i64) + 'a {
        move |s: &Sample| match (spec, ns) {
            (Some(k), _) => s.counts.get(k).copied().unwrap_or_default(),
            (None, Some(ns)) => s
                .counts
                .iter()
                .filter(|((n, _), _)| n == ns)
                .fold((0, 0), |acc, (_, c)| (acc.0 + c.0, acc.1 + c.1)),
            (None, None) => s
                .counts
                .values()
                .fold((0, 0), |acc, c| (acc.0 + c.0, acc.1 + c.1)),
        }
    }

    /// The rate over the last minute (or the samples there are) of one
    /// spec, or of a namespace's specs together.
    pub(crate) fn recent(&self, spec: Option<&SpecKey>, ns: Option<&str>) -> PerMinute {
        let Some(last) = self.samples.back() else {
            return PerMinute::default();
        };
        let pick = Self::picker(spec, ns);
        let first = self
            .samples
            .iter()
            .find(|s| last.at.duration_since(s.at) <= Duration::from_secs(60))
            .unwrap_or(last);
        Self::rate(first, last, &pick)
    }

    /// The rate between consecutive samples over the window: (seconds
    /// before the last sample, rate).
    #[cfg(test)]
    pub(crate) fn series(&self, spec: Option<&SpecKey>, ns: Option<&str>) -> Vec<(f64, PerMinute)> {
        self.series_in(spec, ns).0
    }

    /// [`series`](Self::series) and the seconds the samples span (at most
    /// the window), which the chart's x-axis covers.
    pub(crate) fn series_in(
        &self,
        spec: Option<&SpecKey>,
        ns: Option<&str>,
    ) -> (Vec<(f64, PerMinute)>, f64) {
        let span = match (self.samples.front(), self.samples.back()) {
            (Some(a), Some(b)) => b.at.duration_since(a.at).as_secs_f64(),
            _ => 0.0,
        };
        (self.points(spec, ns), span.min(WINDOW.as_secs_f64()))
    }

    fn points(&self, spec: Option<&SpecKey>, ns: Option<&str>) -> Vec<(f64, PerMinute)> {
        let Some(last) = self.samples.back() else {
            return Vec::new();
        };
        let pick = Self::picker(spec, ns);
        self.samples
            .iter()
            .zip(self.samples.iter().skip(1))
            .map(|(a, b)| {
                (
                    last.at.duration_since(b.at).as_secs_f64(),
                    Self::rate(a, b, &pick),
                )
            })
            .collect()
    }
}

/// A small SVG line chart of finished and failed units per minute over
/// the last `span` seconds (the last hour once the daemon has run that long).
pub(crate) fn chart(series: &[(f64, PerMinute)], span: f64, id: &str) -> String {
    const W: f64 = 600.0;
    const H: f64 = 120.0;
    const PAD: f64 = 4.0;
    let max = series
        .iter()
        .map(|(_, r)| r.finished.max(r.failed))
        .fold(0.0_f64, f64::max);
    let top = if max <= 0.0 { 1.0 } else { max * 1.1 };
    let window = span.clamp(1.0, WINDOW.as_secs_f64());
    let label = if window >= WINDOW.as_secs_f64() {
        "last hour".to_owned()
    } else if window >= 120.0 {
        format!("last {:.0} min", window / 60.0)
    } else {
        format!("last {window:.0} s")
    };
    let line = |pick: fn(&PerMinute) -> f64| {
        let mut pts = String::new();
        for (ago, r) in series {
            if *ago > window {
                continue;
            }
            let x = W - ago / window * W;
            let y = H - PAD - pick(r) / top * (H - 2.0 * PAD);
            let _ = write!(pts, "{x:.1},{y:.1} ");
        }
        pts
    };
    let finished = line(|r| r.finished);
    let failed = line(|r| r.failed);
    format!(
        "<figure class=\"chart\" id=\"{id}\" data-points=\"{n}\">\
         <svg viewBox=\"0 0 {W} {H}\" width=\"{W}\" height=\"{H}\" role=\"img\" \
         aria-label=\"finished and failed units per minute over the last hour\">\
         <rect x=\"0\" y=\"0\" width=\"{W}\" height=\"{H}\" class=\"bg\"/>\
         <line x1=\"0\" y1=\"{mid}\" x2=\"{W}\" y2=\"{mid}\" class=\"grid\"/>\
         <polyline class=\"finished\" points=\"{finished}\"/>\
         <polyline class=\"failed\" points=\"{failed}\"/></svg>\
         <figcaption><span class=\"key finished\">finished/min</span> \
         <span class=\"key failed\">failed/min</span> · {label} · top {top:.1}/min · \
         {n} samples</figcaption></figure>",
        n = series.len(),
        mid = H / 2.0,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use coordinate::SummaryRecord;

    fn summary(finished: i64, failed: i64) -> Summary {
        vec![
            SummaryRecord {
                namespace: "ns".into(),
                work_spec: "s".into(),
                status: WorkUnitStatus::Finished,
                count: finished,
            },
            SummaryRecord {
                namespace: "ns".into(),
                work_spec: "s".into(),
                status: WorkUnitStatus::Failed,
                count: failed,
            },
        ]
    }

    #[test]
    fn bounded_and_rates() {
        let mut r = Rates::new(Duration::from_secs(10));
        assert_eq!(r.capacity(), 361);
        let t0 = Instant::now();
        for i in 0..400_u32 {
            r.push(
                t0 + Duration::from_secs(u64::from(i) * 10),
                &summary(i64::from(i) * 5, i64::from(i)),
            );
        }
        assert_eq!(r.len(), 361);
        let key = ("ns".to_owned(), "s".to_owned());
        let recent = r.recent(Some(&key), None);
        assert!((recent.finished - 30.0).abs() < 1e-9, "{recent:?}");
        assert!((recent.failed - 6.0).abs() < 1e-9, "{recent:?}");
        assert_eq!(r.recent(None, Some("ns")), recent);
        assert_eq!(r.recent(None, Some("other")), PerMinute::default());
        let series = r.series(Some(&key), None);
        assert_eq!(series.len(), 360);
        let (series, span) = r.series_in(Some(&key), None);
        assert!((span - 3600.0).abs() < 1e-9);
        let c = chart(&series, span, "c");
        assert!(c.contains("data-points=\"360\""));
        assert!(c.contains("last hour"));
    }

    #[test]
    fn deletions_are_not_negative() {
        let mut r = Rates::new(Duration::from_secs(1));
        let t0 = Instant::now();
        r.push(t0, &summary(10, 10));
        r.push(t0 + Duration::from_secs(1), &summary(0, 0));
        assert_eq!(r.recent(None, None), PerMinute::default());
    }
}
