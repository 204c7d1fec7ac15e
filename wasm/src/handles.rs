//! The handle classes `MockClock`, `Coordinate`, `Namespace`, `WorkSpec` and
//! `WorkUnit` (`Worker` and `Attempt` are in `worker.rs`), and how a handle
//! passed back as an argument is recognised.
//!
//! Each class wraps one core handle. The core handles are unwind-safe in
//! practice (the core's state sits behind a mutex that survives poisoning,
//! and every call is atomic), so they are wrapped in `AssertUnwindSafe` as
//! wasm-bindgen's `panic=unwind` support asks of `&self` receivers.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use coordinate::{Attempt, Coordinate, MockClock, Namespace, WorkSpec, WorkUnit, Worker};
use js_sys::{Array, Function, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::convert::{
    describe, from_i64, from_instant, from_map, opt_map, to_duration, to_instant, to_map,
    to_priority, to_seed, to_string, Options,
};
use crate::errors::{to_js, type_error};
use crate::records::{
    item_from_js, meta_from_js, meta_to_js, query_from_js, summary_to_js, unit_meta_from_js,
    unit_meta_from_opt, unit_meta_to_js,
};
use crate::worker::{JsAttempt, JsWorker};
use crate::JsResult;

// ------------------------------------------------------ handles as arguments

/// The core handle behind one of this package's handle objects.
pub(crate) enum Handle {
    Clock(MockClock),
    Coordinate(Coordinate),
    Namespace(Namespace),
    WorkSpec(WorkSpec),
    WorkUnit(WorkUnit),
    Worker(Worker),
    Attempt(Attempt),
}

thread_local! {
    // Where a handle object's hidden method leaves its core handle for
    // `handle_of` to take: wasm-bindgen can lend a handle object to Rust only
    // as a typed top-level parameter, not out of an options object or a
    // `JsValue`, and its `TryFromJsValue` would consume the JS object.
    static STASH: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// The hidden method every handle class has (see `handle_class!`).
const STASH_METHOD: &str = "__coordinateHandle";

pub(crate) fn stash(handle: Handle) {
    STASH.with(|s| *s.borrow_mut() = Some(handle));
}

/// The core handle behind `v`, or `None` when `v` is not a handle object.
fn handle_of(v: &JsValue, arg: &str) -> JsResult<Option<Handle>> {
    if !v.is_object() {
        return Ok(None);
    }
    let method = Reflect::get(v, &STASH_METHOD.into())?;
    let Some(method) = method.dyn_ref::<Function>() else {
        return Ok(None);
    };
    STASH.with(|s| s.borrow_mut().take());
    method
        .call0(v)
        .map_err(|_| type_error(format!("{arg} is {} that was already freed", describe(v))))?;
    Ok(STASH.with(|s| s.borrow_mut().take()))
}

macro_rules! handle_arg {
    ($(#[$doc:meta])* $fn:ident -> $ty:ty, $variant:ident, $js:literal) => {
        $(#[$doc])*
        pub(crate) fn $fn(v: &JsValue, arg: &str) -> JsResult<$ty> {
            match handle_of(v, arg)? {
                Some(Handle::$variant(h)) => Ok(h),
                _ => Err(type_error(format!(
                    concat!("{} must be a ", $js, ", not {}"),
                    arg,
                    describe(v)
                ))),
            }
        }
    };
}

handle_arg!(
    /// A `MockClock` argument.
    clock_arg -> MockClock, Clock, "MockClock");
handle_arg!(
    /// A `WorkUnit` argument.
    work_unit_arg -> WorkUnit, WorkUnit, "WorkUnit");
handle_arg!(
    /// A `Worker` argument.
    worker_arg -> Worker, Worker, "Worker");

/// Gives a handle class the hidden stash method, `equals(other)` and
/// `toString()`.
macro_rules! handle_class {
    ($rust:ident, $js:ident, $variant:ident, |$h:ident| $show:expr) => {
        #[wasm_bindgen(js_class = $js)]
        impl $rust {
            /// Hands the core handle to `handle_of` (hidden; not API).
            #[wasm_bindgen(js_name = "__coordinateHandle", skip_typescript)]
            pub fn stash_handle(&self) {
                crate::handles::stash(crate::handles::Handle::$variant((*self.0).clone()));
            }

            /// Whether `other` is a handle to the same object (`false` for
            /// anything that is not a handle of this class).
            pub fn equals(&self, other: &JsValue) -> JsResult<bool> {
                Ok(matches!(
                    crate::handles::handle_of_any(other)?,
                    Some(crate::handles::Handle::$variant(o)) if o == *self.0
                ))
            }

            /// A readable description, e.g. `WorkUnit(spec/unit)`.
            #[wasm_bindgen(js_name = toString)]
            pub fn to_display(&self) -> String {
                let $h = &*self.0;
                $show
            }
        }
    };
}
pub(crate) use handle_class;

/// `handle_of` for `equals`, where a freed handle is simply not equal.
pub(crate) fn handle_of_any(v: &JsValue) -> JsResult<Option<Handle>> {
    Ok(handle_of(v, "other").unwrap_or(None))
}

// ------------------------------------------------------------------ MockClock

/// A clock that moves only when told to. Give it to `new Coordinate({clock})`
/// and keep it to step time: `clock.advance(60_000)`.
#[wasm_bindgen(js_name = MockClock)]
pub struct JsMockClock(AssertUnwindSafe<MockClock>);

#[wasm_bindgen(js_class = MockClock)]
impl JsMockClock {
    /// A clock stopped at `start` (default 2026-01-01T00:00:00Z).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "Date")] start: Option<JsValue>,
    ) -> JsResult<JsMockClock> {
        let clock = if let Some(start) = start {
            MockClock::new(to_instant(&start, "start")?)
        } else {
            MockClock::default()
        };
        Ok(JsMockClock(AssertUnwindSafe(clock)))
    }
    /// The instant the clock shows.
    #[wasm_bindgen(unchecked_return_type = "Date")]
    pub fn now(&self) -> JsValue {
        from_instant(self.0.now())
    }

    /// Moves the clock forward by `ms` milliseconds (negative moves it back).
    pub fn advance(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] ms: &JsValue,
    ) -> JsResult<()> {
        self.0.try_advance(to_duration(ms, "ms")?).map_err(to_js)
    }

    /// Moves the clock to `instant`.
    pub fn set(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Date")] instant: &JsValue,
    ) -> JsResult<()> {
        self.0
            .try_set(to_instant(instant, "instant")?)
            .map_err(to_js)
    }

    /// Hands the core handle to `handle_of` (hidden; not API).
    #[wasm_bindgen(js_name = "__coordinateHandle", skip_typescript)]
    pub fn stash_handle(&self) {
        stash(Handle::Clock((*self.0).clone()));
    }

    /// `MockClock(<ISO instant>)`.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_display(&self) -> String {
        format!("MockClock({})", self.0.now().to_rfc3339())
    }
}

// ----------------------------------------------------------------- Coordinate

/// The root of a Coordinate system: holds namespaces by name.
///
/// ```js
/// const clock = new MockClock(new Date("2026-01-01T00:00:00Z"));
/// const coord = new Coordinate({ clock, seed: 1 });
/// const ns = coord.namespace("demo");
/// ```
#[wasm_bindgen(js_name = Coordinate)]
pub struct JsCoordinate(AssertUnwindSafe<Coordinate>);

#[wasm_bindgen(js_class = Coordinate)]
impl JsCoordinate {
    /// A Coordinate on `clock` (default: the system clock) whose scheduler
    /// draws from `seed` (default: a random seed), holding at most
    /// `maxUnits` work units and `maxBytes` accounted bytes (defaults:
    /// `coordinate::DEFAULT_LIMITS`; past them adds throw `CapacityError`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "CoordinateOptions")] options: Option<
            JsValue,
        >,
    ) -> JsResult<JsCoordinate> {
        let o = Options::of(
            options,
            "options",
            &["clock", "seed", "maxUnits", "maxBytes"],
        )?;
        let clock: Arc<dyn coordinate::Clock> = match o.map("clock", clock_arg)? {
            Some(clock) => Arc::new(clock),
            None => Arc::new(coordinate::SystemClock),
        };
        let seed = o.map("seed", to_seed)?;
        let mut limits = coordinate::Limits::default();
        if let Some(n) = o.map("maxUnits", to_seed)? {
            limits.max_units = n;
        }
        if let Some(n) = o.map("maxBytes", to_seed)? {
            limits.max_bytes = n;
        }
        let backend = coordinate::MemoryBackend::with_limits(clock, seed, limits);
        Ok(JsCoordinate(AssertUnwindSafe(Coordinate::from_backend(
            Arc::new(backend),
        ))))
    }

    /// The namespace called `name` (default `""`), created if absent.
    pub fn namespace(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] name: Option<JsValue>,
    ) -> JsResult<JsNamespace> {
        let name = match name {
            None => String::new(),
            Some(name) => to_string(&name, "name")?,
        };
        self.0
            .namespace(&name)
            .map(JsNamespace::wrap)
            .map_err(to_js)
    }

    /// Every live namespace by name.
    #[wasm_bindgen(unchecked_return_type = "Map<string, Namespace>")]
    pub fn namespaces(&self) -> JsResult<js_sys::Map> {
        let map = js_sys::Map::new();
        for (name, ns) in self.0.namespaces().map_err(to_js)? {
            map.set(&name.into(), &JsNamespace::wrap(ns).into());
        }
        Ok(map)
    }

    /// Unit counts by namespace, work spec and status.
    #[wasm_bindgen(unchecked_return_type = "SummaryRecord[]")]
    pub fn summarize(&self) -> JsResult<Array> {
        self.0.summarize().map(|s| summary_to_js(&s)).map_err(to_js)
    }

    /// The current time of this Coordinate's clock.
    #[wasm_bindgen(unchecked_return_type = "Date")]
    pub fn now(&self) -> JsValue {
        from_instant(self.0.now())
    }
}

handle_class!(JsCoordinate, Coordinate, Coordinate, |_c| "Coordinate"
    .into());

// ------------------------------------------------------------------ Namespace

/// A namespace: holds work specs and workers by name.
#[wasm_bindgen(js_name = Namespace)]
pub struct JsNamespace(AssertUnwindSafe<Namespace>);

impl JsNamespace {
    pub(crate) fn wrap(ns: Namespace) -> Self {
        JsNamespace(AssertUnwindSafe(ns))
    }
}

#[wasm_bindgen(js_class = Namespace)]
impl JsNamespace {
    /// The namespace's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.0.name().to_owned()
    }

    /// Deletes the namespace with its work specs, units, attempts and
    /// workers. Destroying it again does nothing.
    pub fn destroy(&self) -> JsResult<()> {
        self.0.destroy().map_err(to_js)
    }

    /// Creates or updates the work spec named by `data.name`.
    #[wasm_bindgen(js_name = setWorkSpec)]
    pub fn set_work_spec(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DataMapInput")] data: &JsValue,
    ) -> JsResult<JsWorkSpec> {
        let data = to_map(data, "data")?;
        self.0
            .set_work_spec(data)
            .map(JsWorkSpec::wrap)
            .map_err(to_js)
    }

    /// The work spec called `name` (throws `NoSuchWorkSpecError`).
    #[wasm_bindgen(js_name = workSpec)]
    pub fn work_spec(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: &JsValue,
    ) -> JsResult<JsWorkSpec> {
        let name = to_string(name, "name")?;
        self.0.work_spec(&name).map(JsWorkSpec::wrap).map_err(to_js)
    }

    /// Deletes the work spec called `name` with its units and attempts.
    #[wasm_bindgen(js_name = destroyWorkSpec)]
    pub fn destroy_work_spec(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: &JsValue,
    ) -> JsResult<()> {
        let name = to_string(name, "name")?;
        self.0.destroy_work_spec(&name).map_err(to_js)
    }

    /// The names of every work spec, sorted.
    #[wasm_bindgen(js_name = workSpecNames)]
    pub fn work_spec_names(&self) -> JsResult<Vec<String>> {
        self.0.work_spec_names().map_err(to_js)
    }

    /// The worker called `name`, created if absent.
    pub fn worker(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: &JsValue,
    ) -> JsResult<JsWorker> {
        let name = to_string(name, "name")?;
        self.0.worker(&name).map(JsWorker::wrap).map_err(to_js)
    }

    /// Every worker of the namespace by name.
    #[wasm_bindgen(unchecked_return_type = "Map<string, Worker>")]
    pub fn workers(&self) -> JsResult<js_sys::Map> {
        let map = js_sys::Map::new();
        for (name, w) in self.0.workers().map_err(to_js)? {
            map.set(&name.into(), &JsWorker::wrap(w).into());
        }
        Ok(map)
    }

    /// Unit counts by work spec and status.
    #[wasm_bindgen(unchecked_return_type = "SummaryRecord[]")]
    pub fn summarize(&self) -> JsResult<Array> {
        self.0.summarize().map(|s| summary_to_js(&s)).map_err(to_js)
    }
}

handle_class!(JsNamespace, Namespace, Namespace, |ns| format!(
    "Namespace({:?})",
    ns.name()
));

// ------------------------------------------------------------------- WorkSpec

/// A work spec: a kind of job, with its data, its scheduling metadata and
/// its work units.
#[wasm_bindgen(js_name = WorkSpec)]
pub struct JsWorkSpec(AssertUnwindSafe<WorkSpec>);

impl JsWorkSpec {
    pub(crate) fn wrap(spec: WorkSpec) -> Self {
        JsWorkSpec(AssertUnwindSafe(spec))
    }
}

#[wasm_bindgen(js_class = WorkSpec)]
impl JsWorkSpec {
    /// The work spec's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.0.name().to_owned()
    }

    /// The work spec's data, exactly as last set.
    #[wasm_bindgen(unchecked_return_type = "DataMap")]
    pub fn data(&self) -> JsResult<JsValue> {
        self.0.data().map(|d| from_map(&d)).map_err(to_js)
    }

    /// Replaces the data and recomputes the metadata; the name may not change.
    #[wasm_bindgen(js_name = setData)]
    pub fn set_data(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DataMapInput")] data: &JsValue,
    ) -> JsResult<()> {
        let data = to_map(data, "data")?;
        self.0.set_data(data).map_err(to_js)
    }

    /// The scheduling metadata; `{withCounts: true}` also counts available
    /// and pending units.
    #[wasm_bindgen(unchecked_return_type = "WorkSpecMeta")]
    pub fn meta(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "{ withCounts?: boolean }")] options: Option<
            JsValue,
        >,
    ) -> JsResult<JsValue> {
        let o = Options::of(options, "options", &["withCounts"])?;
        let with_counts = o
            .map("withCounts", crate::convert::to_bool)?
            .unwrap_or(false);
        self.0
            .meta(with_counts)
            .map(|m| meta_to_js(&m))
            .map_err(to_js)
    }

    /// Updates the adjustable metadata fields (missing fields are zero).
    #[wasm_bindgen(js_name = setMeta)]
    pub fn set_meta(
        &self,
        #[wasm_bindgen(unchecked_param_type = "WorkSpecMetaInput")] meta: &JsValue,
    ) -> JsResult<()> {
        let meta = meta_from_js(meta, "meta")?;
        self.0.set_meta(&meta).map_err(to_js)
    }

    /// Adds the unit `name`, or replaces the data and metadata of the unit of
    /// that name. No `data` means `{}`; no `meta` means zero metadata.
    #[wasm_bindgen(js_name = addWorkUnit)]
    pub fn add_work_unit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: &JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DataMapInput | null")] data: Option<
            JsValue,
        >,
        #[wasm_bindgen(unchecked_optional_param_type = "Partial<WorkUnitMeta> | null")]
        meta: Option<JsValue>,
    ) -> JsResult<JsWorkUnit> {
        let name = to_string(name, "name")?;
        let data = opt_map(data, "data")?.unwrap_or_default();
        let meta = unit_meta_from_opt(meta, "meta")?;
        self.0
            .add_work_unit(&name, data, meta)
            .map(JsWorkUnit::wrap)
            .map_err(to_js)
    }

    /// Adds or updates many units in one call; returns how many.
    #[wasm_bindgen(js_name = addWorkUnits)]
    pub fn add_work_units(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Iterable<AddWorkUnitInput>")] items: &JsValue,
    ) -> JsResult<usize> {
        let mut all = Vec::new();
        let now = self.0.namespace().coordinate().now();
        if Array::is_array(items) {
            // The common case, one call per item (an iterator takes three).
            let array: &Array = items.unchecked_ref();
            all.reserve(array.length() as usize);
            for (i, item) in array.iter().enumerate() {
                all.push(item_from_js(&item, i, now)?);
            }
        } else {
            let iter = js_sys::try_iter(items)
                .ok()
                .flatten()
                .filter(|_| items.as_string().is_none())
                .ok_or_else(|| {
                    type_error(format!(
                        "items must be an Array of work units to add, not {}",
                        describe(items)
                    ))
                })?;
            for (i, item) in iter.enumerate() {
                all.push(item_from_js(&item?, i, now)?);
            }
        }
        self.0.add_work_units(all).map_err(to_js)
    }

    /// The unit called `name` (throws `NoSuchWorkUnitError`).
    #[wasm_bindgen(js_name = workUnit)]
    pub fn work_unit(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: &JsValue,
    ) -> JsResult<JsWorkUnit> {
        let name = to_string(name, "name")?;
        self.0.work_unit(&name).map(JsWorkUnit::wrap).map_err(to_js)
    }

    /// The units the query selects (default: all), by name.
    #[wasm_bindgen(js_name = workUnits, unchecked_return_type = "Map<string, WorkUnit>")]
    pub fn work_units(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "WorkUnitQuery")] query: Option<JsValue>,
    ) -> JsResult<js_sys::Map> {
        let query = query_from_js(query, "query")?;
        let map = js_sys::Map::new();
        for (name, unit) in self.0.work_units(&query).map_err(to_js)? {
            map.set(&name.into(), &JsWorkUnit::wrap(unit).into());
        }
        Ok(map)
    }

    /// How many units have each status (statuses with no units are absent).
    #[wasm_bindgen(
        js_name = countWorkUnitStatus,
        unchecked_return_type = "Map<WorkUnitStatusText, number>"
    )]
    pub fn count_work_unit_status(&self) -> JsResult<js_sys::Map> {
        let map = js_sys::Map::new();
        for (status, n) in self.0.count_work_unit_status().map_err(to_js)? {
            map.set(&status.as_str().into(), &from_i64(n));
        }
        Ok(map)
    }

    /// Sets the priority of every unit the query selects (default: all).
    #[wasm_bindgen(js_name = setWorkUnitPriorities)]
    pub fn set_work_unit_priorities(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] priority: &JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "WorkUnitQuery")] query: Option<JsValue>,
    ) -> JsResult<()> {
        let priority = to_priority(priority, "priority")?;
        let query = query_from_js(query, "query")?;
        self.0
            .set_work_unit_priorities(&query, priority)
            .map_err(to_js)
    }

    /// Adds `adjustment` to the priority of every unit the query selects.
    #[wasm_bindgen(js_name = adjustWorkUnitPriorities)]
    pub fn adjust_work_unit_priorities(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] adjustment: &JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "WorkUnitQuery")] query: Option<JsValue>,
    ) -> JsResult<()> {
        let adjustment = to_priority(adjustment, "adjustment")?;
        let query = query_from_js(query, "query")?;
        self.0
            .adjust_work_unit_priorities(&query, adjustment)
            .map_err(to_js)
    }

    /// Deletes the units the query selects (default: all); returns how many.
    #[wasm_bindgen(js_name = deleteWorkUnits)]
    pub fn delete_work_units(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "WorkUnitQuery")] query: Option<JsValue>,
    ) -> JsResult<usize> {
        let query = query_from_js(query, "query")?;
        self.0.delete_work_units(&query).map_err(to_js)
    }

    /// Unit counts by status.
    #[wasm_bindgen(unchecked_return_type = "SummaryRecord[]")]
    pub fn summarize(&self) -> JsResult<Array> {
        self.0.summarize().map(|s| summary_to_js(&s)).map_err(to_js)
    }
}

handle_class!(JsWorkSpec, WorkSpec, WorkSpec, |s| format!(
    "WorkSpec({:?})",
    s.name()
));

// ------------------------------------------------------------------- WorkUnit

/// A work unit: one input of a work spec, with its data, metadata and
/// attempts.
#[wasm_bindgen(js_name = WorkUnit)]
pub struct JsWorkUnit(AssertUnwindSafe<WorkUnit>);

impl JsWorkUnit {
    pub(crate) fn wrap(unit: WorkUnit) -> Self {
        JsWorkUnit(AssertUnwindSafe(unit))
    }
}

#[wasm_bindgen(js_class = WorkUnit)]
impl JsWorkUnit {
    /// The unit's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.0.name().to_owned()
    }

    /// The work spec the unit belongs to.
    #[wasm_bindgen(getter, js_name = workSpec)]
    pub fn work_spec(&self) -> JsWorkSpec {
        JsWorkSpec::wrap(self.0.work_spec().clone())
    }

    /// The unit's data.
    #[wasm_bindgen(unchecked_return_type = "DataMap")]
    pub fn data(&self) -> JsResult<JsValue> {
        self.0.data().map(|d| from_map(&d)).map_err(to_js)
    }

    /// The unit's status (`"available"`, `"pending"`, ...).
    #[wasm_bindgen(unchecked_return_type = "WorkUnitStatusText")]
    pub fn status(&self) -> JsResult<JsValue> {
        self.0.status().map(|s| s.as_str().into()).map_err(to_js)
    }

    /// The unit's metadata `{priority, notBefore}`.
    #[wasm_bindgen(unchecked_return_type = "WorkUnitMeta")]
    pub fn meta(&self) -> JsResult<JsValue> {
        self.0.meta().map(|m| unit_meta_to_js(&m)).map_err(to_js)
    }

    /// Replaces the unit's metadata (missing fields are zero).
    #[wasm_bindgen(js_name = setMeta)]
    pub fn set_meta(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Partial<WorkUnitMeta>")] meta: &JsValue,
    ) -> JsResult<()> {
        let meta = unit_meta_from_js(meta, "meta")?;
        self.0.set_meta(meta).map_err(to_js)
    }

    /// The unit's priority.
    pub fn priority(&self) -> JsResult<f64> {
        self.0.priority().map_err(to_js)
    }

    /// Sets the unit's priority.
    #[wasm_bindgen(js_name = setPriority)]
    pub fn set_priority(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] priority: &JsValue,
    ) -> JsResult<()> {
        let priority = to_priority(priority, "priority")?;
        self.0.set_priority(priority).map_err(to_js)
    }

    /// The attempt that decides the unit's status, or `null`.
    #[wasm_bindgen(js_name = activeAttempt, unchecked_return_type = "Attempt | null")]
    pub fn active_attempt(&self) -> JsResult<JsValue> {
        self.0
            .active_attempt()
            .map(|a| a.map_or(JsValue::NULL, |a| JsAttempt::wrap(a).into()))
            .map_err(to_js)
    }

    /// Forgets the active attempt, making the unit available again.
    #[wasm_bindgen(js_name = clearActiveAttempt)]
    pub fn clear_active_attempt(&self) -> JsResult<()> {
        self.0.clear_active_attempt().map_err(to_js)
    }

    /// Every attempt on the unit, oldest first.
    pub fn attempts(&self) -> JsResult<Vec<JsAttempt>> {
        self.0
            .attempts()
            .map(|v| v.into_iter().map(JsAttempt::wrap).collect())
            .map_err(to_js)
    }

    /// How many attempts the unit has had.
    #[wasm_bindgen(js_name = numAttempts)]
    pub fn num_attempts(&self) -> JsResult<usize> {
        self.0.num_attempts().map_err(to_js)
    }
}

handle_class!(JsWorkUnit, WorkUnit, WorkUnit, |u| format!(
    "WorkUnit({:?}/{:?})",
    u.work_spec().name(),
    u.name()
));
