//! Handles as ids: how the JavaScript classes name core objects, and how
//! handles a call returns reach them.
//!
//! The handle classes (`Namespace`, `WorkSpec`, `WorkUnit`, `Worker`,
//! `Attempt`) are plain JavaScript objects (`js/api.js`) holding their
//! `Coordinate`'s engine object and the store ids of the object and its
//! parents, plus the names to show. They own nothing in wasm memory, so
//! returning one costs no allocation here and no `FinalizationRegistry`
//! entry there, and a dropped one is ordinary garbage.
//!
//! A call on a handle passes those ids back, and [`unit`], [`attempt`], ...
//! rebuild the core handle from them (`Attempt::from_ref`): only ids reach
//! the store, so a rebuilt handle carries no names (the JavaScript object
//! has them), and a handle to a deleted object gets `GoneError` from the
//! store, as every core handle does.
//!
//! Returned handles travel the other way through one buffer: a call writes
//! numbers (ids, name lengths) into [`Out`], which JavaScript reads as a
//! `Float64Array` over wasm memory, and the names into one string, returned
//! as the call's value and cut by the lengths. A namespace, spec or worker
//! equal to the previous one of its kind in the same reply is written as
//! `-1` (so the hundred attempts of a batch carry their spec and worker
//! once). Ids of namespaces, specs, workers and attempts are counters below
//! 2^53 and travel as numbers; a unit id is any `u64` (the memory store puts
//! a slot in its high half) and travels as two `u32` halves.
//!
//! The reader is `js/api.js` (`Reader`); the two must change together.

use std::cell::RefCell;
use std::sync::Arc;

use coordinate::backend::{AttemptRef, Id, NsRef, SpecRef, UnitRef, WorkerRef};
use coordinate::{Attempt, Namespace, WorkSpec, WorkUnit, Worker};
use wasm_bindgen::prelude::*;

use crate::handles::JsCoordinate;

thread_local! {
    static OUT: RefCell<Out> = RefCell::new(Out::default());
    static NO_NAME: Arc<str> = Arc::from("");
}

/// The numbers and names of one reply's handles.
#[derive(Default)]
pub(crate) struct Out {
    nums: Vec<f64>,
    names: String,
    last_ns: Option<Id>,
    last_spec: Option<Id>,
    last_worker: Option<Id>,
}

/// Where the numbers of the last reply start (a byte offset into wasm
/// memory; hidden, not API). The first number is the count of handles.
#[wasm_bindgen(js_name = "__outPtr", skip_typescript)]
pub fn out_ptr() -> u32 {
    OUT.with(|o| o.borrow().nums.as_ptr() as u32)
}

/// The wasm memory, for the reader's `Float64Array` (hidden, not API).
#[wasm_bindgen(js_name = "__memory", skip_typescript)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Writes the handles `items` with `put`; returns the names string.
pub(crate) fn reply<T>(items: impl IntoIterator<Item = T>, put: impl Fn(&mut Out, T)) -> JsValue {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        o.nums.clear();
        o.names.clear();
        o.last_ns = None;
        o.last_spec = None;
        o.last_worker = None;
        o.nums.push(0.0);
        let mut count = 0u32;
        for item in items {
            put(&mut o, item);
            count += 1;
        }
        o.nums[0] = f64::from(count);
        JsValue::from_str(&o.names)
    })
}

/// The length of `s` in UTF-16 code units (what `String.prototype.slice` counts).
fn utf16_len(s: &str) -> f64 {
    let n = if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    };
    n as f64
}

impl Out {
    fn name(&mut self, name: &str) {
        self.nums.push(utf16_len(name));
        self.names.push_str(name);
    }

    /// A namespace: `-1`, or its id and name.
    pub(crate) fn ns(&mut self, ns: &Namespace) {
        if self.last_ns == Some(ns.id()) {
            self.nums.push(-1.0);
            return;
        }
        self.last_ns = Some(ns.id());
        self.nums.push(ns.id() as f64);
        self.name(ns.name());
    }

    /// A work spec: `-1`, or its id, its namespace and its name.
    pub(crate) fn spec(&mut self, spec: &WorkSpec) {
        if self.last_spec == Some(spec.id()) {
            self.nums.push(-1.0);
            return;
        }
        self.last_spec = Some(spec.id());
        self.nums.push(spec.id() as f64);
        self.ns(spec.namespace());
        self.name(spec.name());
    }

    /// A work unit of a spec the reader knows: its id and name.
    pub(crate) fn unit_in_spec(&mut self, unit: &WorkUnit) {
        let id = unit.key().unit;
        self.nums.push((id >> 32) as f64);
        self.nums.push((id & 0xffff_ffff) as f64);
        self.name(unit.name());
    }

    /// A work unit: its spec, then `unit_in_spec`.
    pub(crate) fn unit(&mut self, unit: &WorkUnit) {
        self.spec(unit.work_spec());
        self.unit_in_spec(unit);
    }

    /// A worker: `-1`, or its id, its namespace and its name.
    pub(crate) fn worker(&mut self, worker: &Worker) {
        if self.last_worker == Some(worker.id()) {
            self.nums.push(-1.0);
            return;
        }
        self.last_worker = Some(worker.id());
        self.nums.push(worker.id() as f64);
        self.ns(worker.namespace());
        self.name(worker.name());
    }

    /// An attempt: its unit, its worker and its id.
    pub(crate) fn attempt(&mut self, attempt: &Attempt) {
        self.unit(attempt.work_unit());
        self.worker(attempt.worker());
        self.nums.push(attempt.id() as f64);
    }
}

// ------------------------------------------------- core handles from ids

fn no_name() -> Arc<str> {
    NO_NAME.with(Arc::clone)
}

fn id(v: f64) -> Id {
    v as Id
}

fn ns_ref(ns: f64) -> NsRef {
    NsRef {
        id: id(ns),
        name: no_name(),
    }
}

fn spec_ref(ns: f64, spec: f64) -> SpecRef {
    SpecRef {
        ns: ns_ref(ns),
        id: id(spec),
        name: no_name(),
    }
}

fn unit_ref(ns: f64, spec: f64, hi: u32, lo: u32) -> UnitRef {
    UnitRef {
        spec: spec_ref(ns, spec),
        id: (u64::from(hi) << 32) | u64::from(lo),
        name: no_name(),
    }
}

fn worker_ref(ns: f64, worker: f64) -> WorkerRef {
    WorkerRef {
        ns: ns_ref(ns),
        id: id(worker),
        name: no_name(),
    }
}

/// The namespace with id `ns`.
pub(crate) fn namespace(c: &JsCoordinate, ns: f64) -> Namespace {
    c.core().namespace_handle(ns_ref(ns))
}

/// The work spec with id `spec` in namespace `ns`.
pub(crate) fn spec(c: &JsCoordinate, ns: f64, spec: f64) -> WorkSpec {
    WorkSpec::from_ref(c.core(), spec_ref(ns, spec))
}

/// The work unit `hi`/`lo` of spec `spec` in namespace `ns`.
pub(crate) fn unit(c: &JsCoordinate, ns: f64, spec_id: f64, hi: u32, lo: u32) -> WorkUnit {
    WorkUnit::from_ref(spec(c, ns, spec_id), unit_ref(ns, spec_id, hi, lo))
}

/// The worker with id `worker` in namespace `ns`.
pub(crate) fn worker(c: &JsCoordinate, ns: f64, worker: f64) -> Worker {
    Worker::from_ref(c.core(), worker_ref(ns, worker))
}

/// The attempt with id `attempt` (of the unit and worker given by their ids).
#[allow(clippy::too_many_arguments)]
pub(crate) fn attempt(
    c: &JsCoordinate,
    ns: f64,
    spec: f64,
    hi: u32,
    lo: u32,
    worker_ns: f64,
    worker: f64,
    attempt: f64,
) -> Attempt {
    Attempt::from_ref(
        c.core(),
        AttemptRef {
            id: id(attempt),
            unit: unit_ref(ns, spec, hi, lo),
            worker: worker_ref(worker_ns, worker),
        },
    )
}
