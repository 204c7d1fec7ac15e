//! What `/metrics` reports, in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use coordinate::backend::{Op, Reply};
use coordinate::Summary;

/// Upper bounds (seconds) of the latency histogram buckets.
const BUCKETS: [f64; 16] = [
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|&b| secs <= b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// The counters and histograms of one daemon.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    latency: RwLock<BTreeMap<String, Histogram>>,
    started: AtomicU64,
    finished: AtomicU64,
    failed: AtomicU64,
    expired: AtomicU64,
    retried: AtomicU64,
    ops: AtomicU64,
}

/// What an operation's success means to the attempt counters.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Counted {
    Started,
    Finished,
    Failed,
    Expired,
    Retried,
    Other,
}

impl Counted {
    /// The counter an operation moves when it succeeds.
    pub(crate) fn of(op: &Op) -> Counted {
        match op {
            Op::RequestAttempts { .. } | Op::MakeAttempt { .. } => Counted::Started,
            Op::Finish { .. } => Counted::Finished,
            Op::Fail { .. } => Counted::Failed,
            Op::Expire { .. } => Counted::Expired,
            Op::Retry { .. } => Counted::Retried,
            _ => Counted::Other,
        }
    }
}

impl Metrics {
    /// Counts one operation's result.
    pub(crate) fn count(&self, kind: Counted, result: &coordinate::Result<Reply>) {
        self.ops.fetch_add(1, Ordering::Relaxed);
        let Ok(reply) = result else { return };
        let (counter, n) = match (kind, reply) {
            (Counted::Started, Reply::Attempts(v)) => (&self.started, v.len() as u64),
            (Counted::Started, Reply::Attempt(Some(_))) => (&self.started, 1),
            (Counted::Finished, _) => (&self.finished, 1),
            (Counted::Failed, _) => (&self.failed, 1),
            (Counted::Expired, _) => (&self.expired, 1),
            (Counted::Retried, _) => (&self.retried, 1),
            _ => return,
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Records how long a request on `route` took.
    pub(crate) fn observe(&self, route: &str, elapsed: Duration) {
        {
            let map = self.latency.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(h) = map.get(route) {
                h.observe(elapsed);
                return;
            }
        }
        let mut map = self.latency.write().unwrap_or_else(PoisonError::into_inner);
        map.entry(route.to_owned()).or_default().observe(elapsed);
    }

    /// The Prometheus text: the counters, the latency histograms and the
    /// unit counts of `summary` (the main store's, if it could be read).
    pub(crate) fn render(&self, summary: Option<&Summary>, test_stores: usize) -> String {
        let mut out = String::new();
        let counters = [
            (
                "coordinate_attempts_started_total",
                "Attempts handed out (request_attempts, make_attempt).",
                &self.started,
            ),
            (
                "coordinate_attempts_finished_total",
                "Attempts finished through this server.",
                &self.finished,
            ),
            (
                "coordinate_attempts_failed_total",
                "Attempts failed through this server.",
                &self.failed,
            ),
            (
                "coordinate_attempts_expired_total",
                "Attempts expired through this server (expire calls).",
                &self.expired,
            ),
            (
                "coordinate_attempts_retried_total",
                "Attempts retried through this server.",
                &self.retried,
            ),
            (
                "coordinate_operations_total",
                "Store operations run.",
                &self.ops,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
            let _ = writeln!(out, "{name} {}", value.load(Ordering::Relaxed));
        }
        let _ = writeln!(
            out,
            "# HELP coordinate_test_stores Test stores open.\n# TYPE coordinate_test_stores gauge\ncoordinate_test_stores {test_stores}"
        );
        let _ = writeln!(
            out,
            "# HELP coordinate_work_units Work units of the main store by namespace, work spec and status.\n# TYPE coordinate_work_units gauge"
        );
        match summary {
            Some(summary) => {
                for r in summary {
                    let _ = writeln!(
                        out,
                        "coordinate_work_units{{namespace=\"{}\",work_spec=\"{}\",status=\"{}\"}} {}",
                        escape(&r.namespace),
                        escape(&r.work_spec),
                        r.status.as_str(),
                        r.count
                    );
                }
                let _ = writeln!(out, "coordinate_store_up 1");
            }
            None => {
                let _ = writeln!(out, "coordinate_store_up 0");
            }
        }
        let name = "coordinate_http_request_duration_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} HTTP request latency by route.\n# TYPE {name} histogram"
        );
        let map = self.latency.read().unwrap_or_else(PoisonError::into_inner);
        for (route, h) in map.iter() {
            let route = escape(route);
            let mut cumulative = 0;
            for (bound, bucket) in BUCKETS.iter().zip(&h.buckets) {
                cumulative += bucket.load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "{name}_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let sum = h.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
            let _ = writeln!(
                out,
                "{name}_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "{name}_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(out, "{name}_count{{route=\"{route}\"}} {count}");
        }
        out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.observe("/v1/call", Duration::from_micros(50));
        m.observe("/v1/call", Duration::from_millis(3));
        m.observe("/v1/call", Duration::from_secs(60));
        let text = m.render(None, 0);
        assert!(
            text.contains("route=\"/v1/call\",le=\"0.0001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("route=\"/v1/call\",le=\"0.005\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("route=\"/v1/call\",le=\"10\"} 2\n"), "{text}");
        assert!(
            text.contains("route=\"/v1/call\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("coordinate_store_up 0"));
    }

    #[test]
    fn labels_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
