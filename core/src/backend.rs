//! The one seam between the public handles and whatever stores the state.
//!
//! Every call of the public API is one [`Op`]: a plain value naming the
//! object by its store id and carrying the arguments. A [`Backend`] answers
//! it with one [`Reply`]. The memory engine, the SQL stores and the HTTP
//! client are each one implementation; the handles (`Coordinate`,
//! `Namespace`, ...) never know which one they talk to.
//!
//! Because operations are data:
//! - a SQL backend runs one operation as one transaction (and may run it
//!   again after a serialization failure: an operation never consumes
//!   anything but its own value);
//! - the HTTP client sends the operation as it is, and the server hands it
//!   to its own backend, so no call is written twice;
//! - [`Backend::batch`] runs several operations in one transaction or round
//!   trip (finish these attempts, then request the next ones).
//!
//! Ids are the store's own: a handle to a deleted object answers
//! [`Error::Gone`](crate::Error::Gone) and never reaches a new object of the
//! same name, on every backend.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::meta::{
    AddWorkUnitItem, AttemptRequest, Summary, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery,
};
use crate::status::{AttemptStatus, WorkUnitStatus};
use crate::value::Map;

/// The id a store gives an object; unique among objects of its kind for the
/// life of the store.
pub type Id = u64;

/// A work unit's id: its spec's id and its own (which a store may encode as
/// it likes, e.g. a slot and a generation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnitId {
    /// The id of the unit's work spec.
    pub spec: Id,
    /// The id of the unit within the store.
    pub unit: Id,
}

/// What a reply says about a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NsRef {
    /// The store's id.
    pub id: Id,
    /// The namespace's name.
    pub name: Arc<str>,
}

/// What a reply says about a work spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecRef {
    /// The namespace holding the spec.
    pub ns: NsRef,
    /// The store's id.
    pub id: Id,
    /// The spec's name.
    pub name: Arc<str>,
}

/// What a reply says about a work unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRef {
    /// The spec holding the unit.
    pub spec: SpecRef,
    /// The store's id of the unit (`UnitId::unit`).
    pub id: Id,
    /// The unit's name.
    pub name: Arc<str>,
}

impl UnitRef {
    /// The id an operation on this unit carries.
    pub fn key(&self) -> UnitId {
        UnitId {
            spec: self.spec.id,
            unit: self.id,
        }
    }
}

/// What a reply says about a worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerRef {
    /// The namespace holding the worker.
    pub ns: NsRef,
    /// The store's id.
    pub id: Id,
    /// The worker's name.
    pub name: Arc<str>,
}

/// What a reply says about an attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRef {
    /// The store's id.
    pub id: Id,
    /// The unit the attempt is for.
    pub unit: UnitRef,
    /// The worker holding it.
    pub worker: WorkerRef,
}

/// Durations on the wire: whole seconds and nanoseconds, lossless over
/// the whole range of `TimeDelta`.
pub(crate) mod duration_serde {
    use chrono::TimeDelta;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(d: &TimeDelta, s: S) -> Result<S::Ok, S::Error> {
        (d.num_seconds(), d.subsec_nanos()).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeDelta, D::Error> {
        let (secs, nanos) = <(i64, i32)>::deserialize(d)?;
        let whole = TimeDelta::try_seconds(secs)
            .ok_or_else(|| serde::de::Error::custom("duration out of range"))?;
        whole
            .checked_add(&TimeDelta::nanoseconds(i64::from(nanos)))
            .ok_or_else(|| serde::de::Error::custom("duration out of range"))
    }
}

/// One call of the public API, as data. Object arguments are store ids.
///
/// The variants are named for the call (`Finish` is `Attempt::finish`); the
/// doc of each public method names the operation it sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[allow(missing_docs)] // each variant is the public method of the same name
pub enum Op {
    // Coordinate
    Namespace {
        name: String,
    },
    Namespaces,
    Summarize,
    // Namespace
    DestroyNamespace {
        ns: Id,
    },
    SetWorkSpec {
        ns: Id,
        data: Map,
    },
    WorkSpec {
        ns: Id,
        name: String,
    },
    DestroyWorkSpec {
        ns: Id,
        name: String,
    },
    WorkSpecNames {
        ns: Id,
    },
    Worker {
        ns: Id,
        name: String,
    },
    Workers {
        ns: Id,
    },
    SummarizeNamespace {
        ns: Id,
    },
    // WorkSpec
    SpecData {
        spec: Id,
    },
    SetSpecData {
        spec: Id,
        data: Map,
    },
    SpecMeta {
        spec: Id,
        with_counts: bool,
    },
    SetSpecMeta {
        spec: Id,
        meta: Box<WorkSpecMeta>,
    },
    AddWorkUnit {
        spec: Id,
        name: String,
        data: Map,
        meta: WorkUnitMeta,
    },
    AddWorkUnits {
        spec: Id,
        items: Vec<AddWorkUnitItem>,
    },
    WorkUnit {
        spec: Id,
        name: String,
    },
    WorkUnits {
        spec: Id,
        query: WorkUnitQuery,
    },
    CountWorkUnitStatus {
        spec: Id,
    },
    SetWorkUnitPriorities {
        spec: Id,
        query: WorkUnitQuery,
        priority: f64,
    },
    AdjustWorkUnitPriorities {
        spec: Id,
        query: WorkUnitQuery,
        adjustment: f64,
    },
    DeleteWorkUnits {
        spec: Id,
        query: WorkUnitQuery,
    },
    SummarizeSpec {
        spec: Id,
    },
    // WorkUnit
    UnitData {
        unit: UnitId,
    },
    UnitStatus {
        unit: UnitId,
    },
    UnitMeta {
        unit: UnitId,
    },
    SetUnitMeta {
        unit: UnitId,
        meta: WorkUnitMeta,
    },
    SetUnitPriority {
        unit: UnitId,
        priority: f64,
    },
    ActiveAttempt {
        unit: UnitId,
    },
    ClearActiveAttempt {
        unit: UnitId,
    },
    UnitAttempts {
        unit: UnitId,
    },
    NumAttempts {
        unit: UnitId,
    },
    // Attempt
    AttemptStatus {
        attempt: Id,
    },
    AttemptData {
        attempt: Id,
    },
    AttemptStartTime {
        attempt: Id,
    },
    AttemptEndTime {
        attempt: Id,
    },
    AttemptExpiration {
        attempt: Id,
    },
    Renew {
        attempt: Id,
        #[serde(with = "duration_serde")]
        extend: TimeDelta,
        data: Option<Map>,
    },
    Expire {
        attempt: Id,
        data: Option<Map>,
    },
    Finish {
        attempt: Id,
        data: Option<Map>,
    },
    Fail {
        attempt: Id,
        data: Option<Map>,
    },
    Retry {
        attempt: Id,
        data: Option<Map>,
        #[serde(with = "duration_serde")]
        delay: TimeDelta,
    },
    // Worker
    WorkerParent {
        worker: Id,
    },
    SetParent {
        worker: Id,
        parent: Option<Id>,
    },
    Children {
        worker: Id,
    },
    WorkerActive {
        worker: Id,
    },
    Deactivate {
        worker: Id,
    },
    WorkerMode {
        worker: Id,
    },
    WorkerData {
        worker: Id,
    },
    WorkerExpiration {
        worker: Id,
    },
    WorkerLastUpdate {
        worker: Id,
    },
    UpdateWorker {
        worker: Id,
        data: Map,
        now: DateTime<Utc>,
        expiration: DateTime<Utc>,
        mode: String,
    },
    RequestAttempts {
        worker: Id,
        request: AttemptRequest,
    },
    MakeAttempt {
        worker: Id,
        unit: UnitId,
        #[serde(with = "duration_serde")]
        lifetime: TimeDelta,
    },
    ActiveAttempts {
        worker: Id,
    },
    AllAttempts {
        worker: Id,
    },
    ChildAttempts {
        worker: Id,
    },
}

impl Op {
    /// Whether running the operation twice has the effect of running it
    /// once, so a client may resend it after a transport failure.
    pub fn is_idempotent(&self) -> bool {
        !matches!(
            self,
            Op::AddWorkUnits { .. }
                | Op::AdjustWorkUnitPriorities { .. }
                | Op::DeleteWorkUnits { .. }
                | Op::RequestAttempts { .. }
                | Op::MakeAttempt { .. }
                | Op::Renew { .. }
                | Op::Expire { .. }
                | Op::Finish { .. }
                | Op::Fail { .. }
                | Op::Retry { .. }
                | Op::AddWorkUnit { .. }
                | Op::ClearActiveAttempt { .. }
        )
    }
}

/// The answer to one [`Op`]. Each operation has one reply variant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "reply", content = "value", rename_all = "snake_case")]
#[allow(missing_docs)] // each variant is the result type it names
pub enum Reply {
    Done,
    Bool(bool),
    Count(u64),
    Text(String),
    Names(Vec<String>),
    Data(Map),
    Time(DateTime<Utc>),
    MaybeTime(Option<DateTime<Utc>>),
    Namespace(NsRef),
    Namespaces(Vec<NsRef>),
    Spec(SpecRef),
    SpecMeta(Box<WorkSpecMeta>),
    Unit(UnitRef),
    Units(Vec<UnitRef>),
    UnitMeta(WorkUnitMeta),
    UnitStatus(WorkUnitStatus),
    StatusCounts(BTreeMap<WorkUnitStatus, i64>),
    Summary(Summary),
    Attempt(Option<Box<AttemptRef>>),
    Attempts(Vec<AttemptRef>),
    AttemptStatus(AttemptStatus),
    Worker(Option<WorkerRef>),
    Workers(Vec<WorkerRef>),
}

impl Reply {
    /// The error for a reply of the wrong kind: a store or server that does
    /// not follow the protocol.
    pub fn unexpected(&self) -> Error {
        Error::Storage {
            reason: format!("the store answered with an unexpected reply: {self:?}"),
        }
    }
}

/// A store of Coordinate state. Implementations run each operation
/// atomically (wholly or not at all, also across processes) and read time
/// from their clock.
pub trait Backend: Send + Sync + fmt::Debug {
    /// Runs one operation.
    fn call(&self, op: Op) -> Result<Reply>;

    /// Runs operations in order, as one transaction or round trip where the
    /// store can. Each operation succeeds or fails on its own (a failed
    /// `Finish` does not undo the ones before it); the outer error means
    /// none ran (for example, the store could not be reached).
    fn batch(&self, ops: Vec<Op>) -> Result<Vec<Result<Reply>>> {
        Ok(ops.into_iter().map(|op| self.call(op)).collect())
    }

    /// The current time of the clock this store reads.
    fn now(&self) -> DateTime<Utc>;

    /// Reseeds the random source of the scheduler's weighted draws.
    fn reseed(&self, seed: u64);

    /// Releases the store (files, connections); later calls give `Gone`.
    fn close(&self) -> Result<()> {
        Ok(())
    }

    /// Whether a call may wait on something outside the process (a file, a
    /// lock held by another process, the network). A server runs the calls
    /// of a store that answers `false` (the memory engine: a lock held for
    /// microseconds) on its own threads instead of handing each to a thread
    /// pool. The default is `true`, the safe answer.
    fn blocking(&self) -> bool {
        true
    }
}
