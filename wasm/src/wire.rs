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
//! numbers (ids, name lengths) and the names' UTF-8 bytes into [`Out`] and
//! returns where they are; JavaScript reads them through views of wasm
//! memory (one decode of all the names, then cuts by the lengths). A
//! namespace, spec or worker equal to the previous one of its kind in the
//! same reply is written as `-1` (so the hundred attempts of a batch carry
//! their spec and worker once), and one the reader already keeps (see
//! [`Known`]) as its id alone, so a batch of one attempt carries one name,
//! its unit's. Ids of namespaces, specs, workers and attempts are counters
//! below 2^53 and travel as numbers; a unit id is any `u64` (the memory
//! store puts a slot in its high half) and travels as two `u32` halves.
//!
//! The reader is `js/api.js` (`Reader`); the two must change together.

use std::cell::RefCell;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

use coordinate::backend::{AttemptRef, Id, NsRef, SpecRef, UnitRef, WorkerRef};
use coordinate::{Attempt, Namespace, WorkSpec, WorkUnit, Worker};
use wasm_bindgen::prelude::*;

use crate::handles::JsCoordinate;

thread_local! {
    static OUT: RefCell<Out> = RefCell::new(Out::default());
    static NO_NAME: Arc<str> = Arc::from("");
}

/// How many namespaces, specs and workers one Coordinate's reader keeps
/// by id before both sides start over (a bound on memory, not a limit).
const KNOWN_MAX: usize = 4096;

/// The kinds of record the reader keeps by id.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Ns,
    Spec,
    Worker,
}

/// The set of kept records: ids hashed by one multiplication (they are
/// counters, not attacker-chosen keys).
type KnownSet = HashSet<(Kind, Id), BuildHasherDefault<IdHasher>>;

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_isize(&mut self, n: isize) {
        self.write_u64(n as u64);
    }
}

/// The records (id and name) of one Coordinate that its JavaScript reader
/// has kept: those are sent as their id alone. Names never change for an
/// id (ids are not reused), so a kept record stays true.
#[derive(Default)]
pub(crate) struct Known(KnownSet);

/// The numbers and names of one reply's handles.
///
/// Layout (all `f64`): `[count, names_ptr, names_len, flags]`, then the
/// handles. `flags` bit 0: the names are ASCII; bit 1: the reader drops
/// its kept records first. A namespace, spec or worker is `-1` (the
/// previous one of its kind in this reply), `-2 - id` (a record the
/// reader kept), or `id` followed by its parts and its name's length.
#[derive(Default)]
pub(crate) struct Out {
    nums: Vec<f64>,
    names: Vec<u8>,
    known: KnownSet,
    last_ns: Option<Id>,
    last_spec: Option<Id>,
    last_worker: Option<Id>,
}

/// The wasm memory, for the reader's views (hidden, not API).
#[wasm_bindgen(js_name = "__memory", skip_typescript)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Writes the handles `items` with `put`, for the reader of `c`; returns
/// where the numbers start (a byte offset into wasm memory).
pub(crate) fn reply<T>(
    c: &JsCoordinate,
    items: impl IntoIterator<Item = T>,
    put: impl Fn(&mut Out, T),
) -> u32 {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        let o = &mut *o;
        let mut known = c.known().borrow_mut();
        let mut flags = 0.0;
        if known.0.len() > KNOWN_MAX {
            known.0.clear();
            flags += 2.0;
        }
        std::mem::swap(&mut o.known, &mut known.0);
        o.nums.clear();
        o.names.clear();
        o.last_ns = None;
        o.last_spec = None;
        o.last_worker = None;
        o.nums.extend([0.0; 4]);
        let mut count = 0u32;
        for item in items {
            put(o, item);
            count += 1;
        }
        std::mem::swap(&mut o.known, &mut known.0);
        if o.names.is_ascii() {
            flags += 1.0;
        }
        o.nums[0] = f64::from(count);
        o.nums[1] = o.names.as_ptr() as usize as f64;
        o.nums[2] = o.names.len() as f64;
        o.nums[3] = flags;
        o.nums.as_ptr() as u32
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
        self.names.extend_from_slice(name.as_bytes());
    }

    /// Writes `-1`, `-2 - id` or `id`; true when the record's parts follow.
    fn record(&mut self, kind: Kind, id: Id) -> bool {
        let last = match kind {
            Kind::Ns => &mut self.last_ns,
            Kind::Spec => &mut self.last_spec,
            Kind::Worker => &mut self.last_worker,
        };
        if *last == Some(id) {
            self.nums.push(-1.0);
            return false;
        }
        *last = Some(id);
        if !self.known.insert((kind, id)) {
            self.nums.push(-2.0 - id as f64);
            return false;
        }
        self.nums.push(id as f64);
        true
    }

    /// A namespace: its id, then its name.
    pub(crate) fn ns(&mut self, ns: &Namespace) {
        if self.record(Kind::Ns, ns.id()) {
            self.name(ns.name());
        }
    }

    /// A work spec: its id, then its namespace and its name.
    pub(crate) fn spec(&mut self, spec: &WorkSpec) {
        if self.record(Kind::Spec, spec.id()) {
            self.ns(spec.namespace());
            self.name(spec.name());
        }
    }

    /// A work unit of a spec the reader knows: its id's halves and its name.
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

    /// A worker: its id, then its namespace and its name.
    pub(crate) fn worker(&mut self, worker: &Worker) {
        if self.record(Kind::Worker, worker.id()) {
            self.ns(worker.namespace());
            self.name(worker.name());
        }
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
