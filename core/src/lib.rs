//! Coordinate: a job queue for repetitive work over many inputs.
//!
//! Namespaces hold work specs (kinds of job) and workers; work specs hold
//! work units (one input each, with a data map); a worker asks the scheduler
//! for work and gets attempts: leases on work units that expire unless
//! renewed, then finish, fail, retry or expire. The scheduler honours
//! absolute priority, weighted fair share, max-running, max-getwork,
//! max-retries, runtimes, continuous specs, delayed units and chaining of one
//! spec's output into the next.
//!
//! This crate holds the whole model and has no host-specific code: time comes
//! from an injected [`Clock`] and the scheduler's randomness from a seedable
//! RNG, so the Python and JavaScript bindings behave exactly like Rust.
//!
//! ```
//! use chrono::TimeDelta;
//! use coordinate::{map, AttemptRequest, Coordinate, MockClock, WorkUnitStatus};
//!
//! let clock = MockClock::default();
//! let coord = Coordinate::with_clock(clock.clone()).seeded(1);
//! let ns = coord.namespace("example").unwrap();
//! let spec = ns.set_work_spec(map([("name", "count"), ("then", "report")])).unwrap();
//! ns.set_work_spec(map([("name", "report")])).unwrap();
//! spec.add_work_unit("file-1", map([("path", "a.txt")]), Default::default()).unwrap();
//!
//! let worker = ns.worker("w1").unwrap();
//! let attempts = worker.request_attempts(&AttemptRequest::default()).unwrap();
//! let attempt = &attempts[0];
//! attempt.renew(TimeDelta::minutes(5), None).unwrap();
//! // Chain one new unit into the "report" spec.
//! let output = coordinate::Value::List(vec!["report-1".into()]);
//! attempt.finish(Some(map([("output", output)]))).unwrap();
//!
//! assert_eq!(attempt.work_unit().status().unwrap(), WorkUnitStatus::Finished);
//! let report = ns.work_spec("report").unwrap();
//! assert_eq!(report.work_unit("report-1").unwrap().status().unwrap(), WorkUnitStatus::Available);
//! ```
#![cfg_attr(not(test), warn(clippy::unwrap_used))]

mod attempt;
pub mod backend;
mod clock;
mod connect;
mod coordinate;
mod error;
mod extract;
mod memory;
mod meta;
pub mod records;
pub mod rules;
mod scheduler;
mod status;
mod value;
mod work_spec;
mod work_unit;
mod worker;

pub use attempt::Attempt;
pub use backend::Backend;
pub use clock::{
    check_duration, check_instant, check_opt_instant, max_instant, min_instant, seconds,
    try_millis, try_seconds, Clock, MockClock, SystemClock, MAX_DURATION, MAX_DURATION_SECS,
};
pub use connect::{register_scheme, scheme_of, ConnectOptions, Opener};
pub use coordinate::{after_fork_in_child, map, Coordinate, Namespace};
pub use error::{Error, Result, ERROR_CODES};
pub use extract::{
    extract_add_work_unit_item, extract_work_unit_output, parse_add_work_unit, unit_meta_value,
};
pub use memory::{Limits, MemoryBackend, DEFAULT_LIMITS};
pub use meta::{
    extract_work_spec_meta, AddWorkUnitItem, AddWorkUnitMeta, AttemptRequest, Retention, Summary,
    SummaryRecord, WorkSpecData, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery,
};
pub use records::{check_priority, Field, FieldValue, Kind, Record};
pub use scheduler::{limit_metas_to_names, limit_metas_to_runtimes, simplified_scheduler, Metas};
pub use status::{AttemptStatus, WorkUnitStatus};
pub use value::{Map, Value};
pub use work_spec::WorkSpec;
pub use work_unit::WorkUnit;
pub use worker::Worker;

/// Re-exported so users name the same `chrono` types as the API.
pub use chrono;
