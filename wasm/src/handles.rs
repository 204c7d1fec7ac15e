//! The engine object behind a JavaScript `Coordinate`, `MockClock`, and the
//! calls of `Namespace`, `WorkSpec` and `WorkUnit` (`Worker` and `Attempt`
//! are in `worker.rs`).
//!
//! Only `MockClock` and the engine object `CoordinateCore` are wasm-bindgen
//! classes (one per clock or store, so their `FinalizationRegistry` entries
//! cost nothing that matters). The handle classes are plain JavaScript in
//! `js/api.js`; their methods call the hidden functions here with the ids
//! the handle keeps (see `wire.rs`). These functions are not API: their
//! names start with `__` and they have no TypeScript types.
//!
//! The core handles are unwind-safe in practice (the core's state sits
//! behind a mutex that survives poisoning, and every call is atomic), so
//! they are wrapped in `AssertUnwindSafe` as wasm-bindgen's `panic=unwind`
//! support asks of `&self` receivers.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use coordinate::{Coordinate, MockClock};
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
use crate::wire::{namespace, reply, spec, unit, Known};
use crate::JsResult;

// ------------------------------------------------------ a clock as argument

thread_local! {
    // Where `MockClock`'s hidden method leaves its core clock for `clock_arg`
    // to take: wasm-bindgen can lend a class instance to Rust only as a
    // typed top-level parameter, not out of an options object.
    static STASH: RefCell<Option<MockClock>> = const { RefCell::new(None) };
}

/// The hidden method of `MockClock`.
const STASH_METHOD: &str = "__coordinateHandle";

/// A `MockClock` argument (`clock` of `new Coordinate({clock})`).
fn clock_arg(v: &JsValue, arg: &str) -> JsResult<MockClock> {
    let wrong = || type_error(format!("{arg} must be a MockClock, not {}", describe(v)));
    if !v.is_object() {
        return Err(wrong());
    }
    let method = Reflect::get(v, &STASH_METHOD.into())?;
    let Some(method) = method.dyn_ref::<Function>() else {
        return Err(wrong());
    };
    STASH.with(|s| s.borrow_mut().take());
    // A freed MockClock throws here (js/api.js guards its methods).
    method.call0(v)?;
    STASH.with(|s| s.borrow_mut().take()).ok_or_else(wrong)
}

/// Throws the `TypeError` for a handle argument of the wrong kind:
/// `"{arg} must be a {class}, not {what v is}"` (hidden; `js/api.js` calls it).
#[wasm_bindgen(js_name = "__badHandle", skip_typescript)]
pub fn bad_handle(v: &JsValue, arg: &str, class: &str) -> JsValue {
    type_error(format!("{arg} must be a {class}, not {}", describe(v)))
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

    /// Hands the core clock to `clock_arg` (hidden; not API).
    #[wasm_bindgen(js_name = "__coordinateHandle", skip_typescript)]
    pub fn stash_handle(&self) {
        STASH.with(|s| *s.borrow_mut() = Some((*self.0).clone()));
    }

    /// `MockClock(<ISO instant>)`.
    #[wasm_bindgen(js_name = toString)]
    pub fn to_display(&self) -> String {
        format!("MockClock({})", self.0.now().to_rfc3339())
    }
}

// ------------------------------------------------------------- CoordinateCore

/// The store behind one JavaScript `Coordinate` (hidden; `js/api.js` wraps
/// it). Every handle of the store holds this object.
#[wasm_bindgen(js_name = CoordinateCore, skip_typescript)]
pub struct JsCoordinate {
    core: AssertUnwindSafe<Coordinate>,
    /// The records its JavaScript reader keeps (see `wire.rs`).
    known: AssertUnwindSafe<RefCell<Known>>,
}

impl JsCoordinate {
    pub(crate) fn core(&self) -> &Coordinate {
        &self.core
    }

    pub(crate) fn known(&self) -> &RefCell<Known> {
        &self.known
    }
}

#[wasm_bindgen(js_class = CoordinateCore)]
impl JsCoordinate {
    /// A Coordinate on `clock` (default: the system clock) whose scheduler
    /// draws from `seed` (default: a random seed), holding at most
    /// `maxUnits` work units and `maxBytes` accounted bytes (defaults:
    /// `coordinate::DEFAULT_LIMITS`; past them adds throw `CapacityError`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: Option<JsValue>) -> JsResult<JsCoordinate> {
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
        Ok(JsCoordinate {
            core: AssertUnwindSafe(Coordinate::from_backend(Arc::new(backend))),
            known: AssertUnwindSafe(RefCell::default()),
        })
    }

    /// The namespace called `name` (default `""`), created if absent.
    pub fn namespace(&self, name: Option<JsValue>) -> JsResult<u32> {
        let name = match name {
            None => String::new(),
            Some(name) => to_string(&name, "name")?,
        };
        let ns = self.core.namespace(&name).map_err(to_js)?;
        Ok(reply(self, [ns], |o, ns| o.ns(&ns)))
    }

    /// Every live namespace, by name.
    pub fn namespaces(&self) -> JsResult<u32> {
        let all = self.core.namespaces().map_err(to_js)?;
        Ok(reply(self, all.values(), |o, ns| o.ns(ns)))
    }

    /// Unit counts by namespace, work spec and status.
    pub fn summarize(&self) -> JsResult<Array> {
        self.core
            .summarize()
            .map(|s| summary_to_js(&s))
            .map_err(to_js)
    }

    /// The current time of this Coordinate's clock.
    pub fn now(&self) -> JsValue {
        from_instant(self.core.now())
    }
}

/// Declares hidden exported functions: `name(c, ids..., args...) -> T`.
macro_rules! exports {
    ($($js:literal fn $fn:ident($($arg:ident: $ty:ty),*) -> $ret:ty $body:block)*) => {
        $(
            #[wasm_bindgen(js_name = $js, skip_typescript)]
            #[allow(clippy::too_many_arguments)]
            pub fn $fn($($arg: $ty),*) -> JsResult<$ret> $body
        )*
    };
}
pub(crate) use exports;

// ------------------------------------------------------------------ Namespace

exports! {
    "__nsDestroy" fn ns_destroy(c: &JsCoordinate, ns: f64) -> () {
        namespace(c, ns).destroy().map_err(to_js)
    }
    "__nsSetWorkSpec" fn ns_set_work_spec(c: &JsCoordinate, ns: f64, data: &JsValue) -> u32 {
        let data = to_map(data, "data")?;
        let spec = namespace(c, ns).set_work_spec(data).map_err(to_js)?;
        Ok(reply(c, [spec], |o, s| o.spec(&s)))
    }
    "__nsWorkSpec" fn ns_work_spec(c: &JsCoordinate, ns: f64, name: &JsValue) -> u32 {
        let name = to_string(name, "name")?;
        let spec = namespace(c, ns).work_spec(&name).map_err(to_js)?;
        Ok(reply(c, [spec], |o, s| o.spec(&s)))
    }
    "__nsDestroyWorkSpec" fn ns_destroy_work_spec(c: &JsCoordinate, ns: f64, name: &JsValue) -> () {
        let name = to_string(name, "name")?;
        namespace(c, ns).destroy_work_spec(&name).map_err(to_js)
    }
    "__nsWorkSpecNames" fn ns_work_spec_names(c: &JsCoordinate, ns: f64) -> Vec<String> {
        namespace(c, ns).work_spec_names().map_err(to_js)
    }
    "__nsWorker" fn ns_worker(c: &JsCoordinate, ns: f64, name: &JsValue) -> u32 {
        let name = to_string(name, "name")?;
        let w = namespace(c, ns).worker(&name).map_err(to_js)?;
        Ok(reply(c, [w], |o, w| o.worker(&w)))
    }
    "__nsWorkers" fn ns_workers(c: &JsCoordinate, ns: f64) -> u32 {
        let all = namespace(c, ns).workers().map_err(to_js)?;
        Ok(reply(c, all.values(), |o, w| o.worker(w)))
    }
    "__nsSummarize" fn ns_summarize(c: &JsCoordinate, ns: f64) -> Array {
        namespace(c, ns).summarize().map(|s| summary_to_js(&s)).map_err(to_js)
    }
}

// ------------------------------------------------------------------- WorkSpec

exports! {
    "__specData" fn spec_data(c: &JsCoordinate, ns: f64, s: f64) -> JsValue {
        spec(c, ns, s).data().map(|d| from_map(&d)).map_err(to_js)
    }
    "__specSetData" fn spec_set_data(c: &JsCoordinate, ns: f64, s: f64, data: &JsValue) -> () {
        let data = to_map(data, "data")?;
        spec(c, ns, s).set_data(data).map_err(to_js)
    }
    "__specMeta" fn spec_meta(c: &JsCoordinate, ns: f64, s: f64, options: Option<JsValue>) -> JsValue {
        let o = Options::of(options, "options", &["withCounts"])?;
        let with_counts = o
            .map("withCounts", crate::convert::to_bool)?
            .unwrap_or(false);
        spec(c, ns, s)
            .meta(with_counts)
            .map(|m| meta_to_js(&m))
            .map_err(to_js)
    }
    "__specSetMeta" fn spec_set_meta(c: &JsCoordinate, ns: f64, s: f64, meta: &JsValue) -> () {
        let meta = meta_from_js(meta, "meta")?;
        spec(c, ns, s).set_meta(&meta).map_err(to_js)
    }
    "__specAddWorkUnit" fn spec_add_work_unit(
        c: &JsCoordinate, ns: f64, s: f64, name: &JsValue, data: Option<JsValue>, meta: Option<JsValue>
    ) -> u32 {
        let name = to_string(name, "name")?;
        let data = opt_map(data, "data")?.unwrap_or_default();
        let meta = unit_meta_from_opt(meta, "meta")?;
        let u = spec(c, ns, s).add_work_unit(&name, data, meta).map_err(to_js)?;
        Ok(reply(c, [u], |o, u| o.unit_in_spec(&u)))
    }
    "__specAddWorkUnits" fn spec_add_work_units(c: &JsCoordinate, ns: f64, s: f64, items: &JsValue) -> usize {
        let mut all = Vec::new();
        let now = c.core().now();
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
        spec(c, ns, s).add_work_units(all).map_err(to_js)
    }
    "__specWorkUnit" fn spec_work_unit(c: &JsCoordinate, ns: f64, s: f64, name: &JsValue) -> u32 {
        let name = to_string(name, "name")?;
        let u = spec(c, ns, s).work_unit(&name).map_err(to_js)?;
        Ok(reply(c, [u], |o, u| o.unit_in_spec(&u)))
    }
    "__specWorkUnits" fn spec_work_units(c: &JsCoordinate, ns: f64, s: f64, query: Option<JsValue>) -> u32 {
        let query = query_from_js(query, "query")?;
        let all = spec(c, ns, s).work_units(&query).map_err(to_js)?;
        Ok(reply(c, all.values(), |o, u| o.unit_in_spec(u)))
    }
    "__specCountWorkUnitStatus" fn spec_count_work_unit_status(c: &JsCoordinate, ns: f64, s: f64) -> js_sys::Map {
        let map = js_sys::Map::new();
        for (status, n) in spec(c, ns, s).count_work_unit_status().map_err(to_js)? {
            map.set(&status.as_str().into(), &from_i64(n));
        }
        Ok(map)
    }
    "__specSetWorkUnitPriorities" fn spec_set_work_unit_priorities(
        c: &JsCoordinate, ns: f64, s: f64, priority: &JsValue, query: Option<JsValue>
    ) -> () {
        let priority = to_priority(priority, "priority")?;
        let query = query_from_js(query, "query")?;
        spec(c, ns, s).set_work_unit_priorities(&query, priority).map_err(to_js)
    }
    "__specAdjustWorkUnitPriorities" fn spec_adjust_work_unit_priorities(
        c: &JsCoordinate, ns: f64, s: f64, adjustment: &JsValue, query: Option<JsValue>
    ) -> () {
        let adjustment = to_priority(adjustment, "adjustment")?;
        let query = query_from_js(query, "query")?;
        spec(c, ns, s).adjust_work_unit_priorities(&query, adjustment).map_err(to_js)
    }
    "__specDeleteWorkUnits" fn spec_delete_work_units(c: &JsCoordinate, ns: f64, s: f64, query: Option<JsValue>) -> usize {
        let query = query_from_js(query, "query")?;
        spec(c, ns, s).delete_work_units(&query).map_err(to_js)
    }
    "__specSummarize" fn spec_summarize(c: &JsCoordinate, ns: f64, s: f64) -> Array {
        spec(c, ns, s).summarize().map(|s| summary_to_js(&s)).map_err(to_js)
    }
}

// ------------------------------------------------------------------- WorkUnit

exports! {
    "__unitData" fn unit_data(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> JsValue {
        unit(c, ns, s, hi, lo).data().map(|d| from_map(&d)).map_err(to_js)
    }
    "__unitStatus" fn unit_status(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> JsValue {
        unit(c, ns, s, hi, lo).status().map(|s| s.as_str().into()).map_err(to_js)
    }
    "__unitMeta" fn unit_meta(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> JsValue {
        unit(c, ns, s, hi, lo).meta().map(|m| unit_meta_to_js(&m)).map_err(to_js)
    }
    "__unitSetMeta" fn unit_set_meta(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, meta: &JsValue) -> () {
        let meta = unit_meta_from_js(meta, "meta")?;
        unit(c, ns, s, hi, lo).set_meta(meta).map_err(to_js)
    }
    "__unitPriority" fn unit_priority(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> f64 {
        unit(c, ns, s, hi, lo).priority().map_err(to_js)
    }
    "__unitSetPriority" fn unit_set_priority(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, priority: &JsValue) -> () {
        let priority = to_priority(priority, "priority")?;
        unit(c, ns, s, hi, lo).set_priority(priority).map_err(to_js)
    }
    "__unitActiveAttempt" fn unit_active_attempt(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> u32 {
        let a = unit(c, ns, s, hi, lo).active_attempt().map_err(to_js)?;
        Ok(reply(c, a, |o, a| o.attempt(&a)))
    }
    "__unitClearActiveAttempt" fn unit_clear_active_attempt(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> () {
        unit(c, ns, s, hi, lo).clear_active_attempt().map_err(to_js)
    }
    "__unitAttempts" fn unit_attempts(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> u32 {
        let all = unit(c, ns, s, hi, lo).attempts().map_err(to_js)?;
        Ok(reply(c, all, |o, a| o.attempt(&a)))
    }
    "__unitNumAttempts" fn unit_num_attempts(c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32) -> usize {
        unit(c, ns, s, hi, lo).num_attempts().map_err(to_js)
    }
}
