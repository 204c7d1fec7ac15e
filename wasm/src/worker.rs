//! The handle classes `Worker` and `Attempt`.

use std::panic::AssertUnwindSafe;

use coordinate::{Attempt, Worker};
use wasm_bindgen::prelude::*;

use crate::convert::{
    from_instant, from_map, from_opt_instant, opt_duration, opt_map, to_duration, to_instant,
    to_map, to_string,
};
use crate::errors::to_js;
use crate::handles::{handle_class, work_unit_arg, worker_arg, JsNamespace, JsWorkUnit};
use crate::records::request_from_js;
use crate::JsResult;

fn attempts(v: coordinate::Result<Vec<Attempt>>) -> JsResult<Vec<JsAttempt>> {
    v.map(|v| v.into_iter().map(JsAttempt::wrap).collect())
        .map_err(to_js)
}

// --------------------------------------------------------------------- Worker

/// A worker: asks for work and holds attempts. Workers form a tree
/// (`parent()`, `children()`).
#[wasm_bindgen(js_name = Worker)]
pub struct JsWorker(AssertUnwindSafe<Worker>);

impl JsWorker {
    pub(crate) fn wrap(worker: Worker) -> Self {
        JsWorker(AssertUnwindSafe(worker))
    }
}

#[wasm_bindgen(js_class = Worker)]
impl JsWorker {
    /// The worker's name.
    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.0.name().to_owned()
    }

    /// The namespace the worker belongs to.
    #[wasm_bindgen(getter)]
    pub fn namespace(&self) -> JsNamespace {
        JsNamespace::wrap(self.0.namespace().clone())
    }

    /// The parent worker, or `null`.
    #[wasm_bindgen(unchecked_return_type = "Worker | null")]
    pub fn parent(&self) -> JsResult<JsValue> {
        self.0
            .parent()
            .map(|p| p.map_or(JsValue::NULL, |p| JsWorker::wrap(p).into()))
            .map_err(to_js)
    }

    /// Moves this worker under `parent`, or makes it a root with `null`.
    #[wasm_bindgen(js_name = setParent)]
    pub fn set_parent(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Worker | null")] parent: &JsValue,
    ) -> JsResult<()> {
        let parent = if parent.is_null_or_undefined() {
            None
        } else {
            Some(worker_arg(parent, "parent")?)
        };
        self.0.set_parent(parent.as_ref()).map_err(to_js)
    }

    /// The worker's children, sorted by name.
    pub fn children(&self) -> JsResult<Vec<JsWorker>> {
        self.0
            .children()
            .map(|v| v.into_iter().map(JsWorker::wrap).collect())
            .map_err(to_js)
    }

    /// Whether the worker is active.
    pub fn active(&self) -> JsResult<bool> {
        self.0.active().map_err(to_js)
    }

    /// Marks the worker inactive.
    pub fn deactivate(&self) -> JsResult<()> {
        self.0.deactivate().map_err(to_js)
    }

    /// The mode last reported by `update` (`""` before).
    pub fn mode(&self) -> JsResult<String> {
        self.0.mode().map_err(to_js)
    }

    /// The data last reported by `update` (`{}` before).
    #[wasm_bindgen(unchecked_return_type = "DataMap")]
    pub fn data(&self) -> JsResult<JsValue> {
        self.0.data().map(|d| from_map(&d)).map_err(to_js)
    }

    /// When the worker's last report expires.
    #[wasm_bindgen(unchecked_return_type = "Date")]
    pub fn expiration(&self) -> JsResult<JsValue> {
        self.0.expiration().map(from_instant).map_err(to_js)
    }

    /// When the worker last reported (or was created).
    #[wasm_bindgen(js_name = lastUpdate, unchecked_return_type = "Date")]
    pub fn last_update(&self) -> JsResult<JsValue> {
        self.0.last_update().map(from_instant).map_err(to_js)
    }

    /// Records the worker's state as reported by it and marks it active;
    /// `now` and `expiration` are stored as given.
    pub fn update(
        &self,
        #[wasm_bindgen(unchecked_param_type = "DataMapInput")] data: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "Date")] now: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "Date")] expiration: &JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] mode: &JsValue,
    ) -> JsResult<()> {
        let data = to_map(data, "data")?;
        let now = to_instant(now, "now")?;
        let expiration = to_instant(expiration, "expiration")?;
        let mode = to_string(mode, "mode")?;
        self.0.update(data, now, expiration, &mode).map_err(to_js)
    }

    /// Asks the scheduler for work; an empty Array when there is none.
    #[wasm_bindgen(js_name = requestAttempts)]
    pub fn request_attempts(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "AttemptRequest")] request: Option<JsValue>,
    ) -> JsResult<Vec<JsAttempt>> {
        let request = request_from_js(request, "request")?;
        attempts(self.0.request_attempts(&request))
    }

    /// Starts an attempt on `workUnit` regardless of its state; `lifetimeMs`
    /// 0 or absent means 15 minutes.
    #[wasm_bindgen(js_name = makeAttempt)]
    pub fn make_attempt(
        &self,
        #[wasm_bindgen(js_name = workUnit, unchecked_param_type = "WorkUnit")] work_unit: &JsValue,
        #[wasm_bindgen(js_name = lifetimeMs, unchecked_optional_param_type = "number")] lifetime_ms: Option<
            JsValue,
        >,
    ) -> JsResult<JsAttempt> {
        let unit = work_unit_arg(work_unit, "workUnit")?;
        let lifetime = opt_duration(lifetime_ms, "lifetimeMs")?;
        self.0
            .make_attempt(&unit, lifetime)
            .map(JsAttempt::wrap)
            .map_err(to_js)
    }

    /// The worker's attempts not yet completed, oldest first.
    #[wasm_bindgen(js_name = activeAttempts)]
    pub fn active_attempts(&self) -> JsResult<Vec<JsAttempt>> {
        attempts(self.0.active_attempts())
    }

    /// Every attempt the worker ever had, oldest first.
    #[wasm_bindgen(js_name = allAttempts)]
    pub fn all_attempts(&self) -> JsResult<Vec<JsAttempt>> {
        attempts(self.0.all_attempts())
    }

    /// The active attempts of the worker's children.
    #[wasm_bindgen(js_name = childAttempts)]
    pub fn child_attempts(&self) -> JsResult<Vec<JsAttempt>> {
        attempts(self.0.child_attempts())
    }
}

handle_class!(JsWorker, Worker, Worker, |w| format!(
    "Worker({:?})",
    w.name()
));

// -------------------------------------------------------------------- Attempt

/// An attempt: one worker's lease on one work unit. Renew it to keep it,
/// then finish, fail, retry or let it expire.
#[wasm_bindgen(js_name = Attempt)]
pub struct JsAttempt(AssertUnwindSafe<Attempt>);

impl JsAttempt {
    pub(crate) fn wrap(attempt: Attempt) -> Self {
        JsAttempt(AssertUnwindSafe(attempt))
    }
}

#[wasm_bindgen(js_class = Attempt)]
impl JsAttempt {
    /// The work unit the attempt is for.
    #[wasm_bindgen(getter, js_name = workUnit)]
    pub fn work_unit(&self) -> JsWorkUnit {
        JsWorkUnit::wrap(self.0.work_unit().clone())
    }

    /// The worker holding the attempt.
    #[wasm_bindgen(getter)]
    pub fn worker(&self) -> JsWorker {
        JsWorker::wrap(self.0.worker().clone())
    }

    /// The attempt's status (`"pending"`, `"finished"`, ...).
    #[wasm_bindgen(unchecked_return_type = "AttemptStatusText")]
    pub fn status(&self) -> JsResult<JsValue> {
        self.0.status().map(|s| s.as_str().into()).map_err(to_js)
    }

    /// The attempt's data.
    #[wasm_bindgen(unchecked_return_type = "DataMap")]
    pub fn data(&self) -> JsResult<JsValue> {
        self.0.data().map(|d| from_map(&d)).map_err(to_js)
    }

    /// When the attempt started.
    #[wasm_bindgen(js_name = startTime, unchecked_return_type = "Date")]
    pub fn start_time(&self) -> JsResult<JsValue> {
        self.0.start_time().map(from_instant).map_err(to_js)
    }

    /// When the attempt completed, or `null` while pending.
    #[wasm_bindgen(js_name = endTime, unchecked_return_type = "Date | null")]
    pub fn end_time(&self) -> JsResult<JsValue> {
        self.0.end_time().map(from_opt_instant).map_err(to_js)
    }

    /// When the lease runs out unless renewed.
    #[wasm_bindgen(js_name = expirationTime, unchecked_return_type = "Date")]
    pub fn expiration_time(&self) -> JsResult<JsValue> {
        self.0.expiration_time().map(from_instant).map_err(to_js)
    }

    /// Extends the lease to `ms` milliseconds from now, optionally replacing
    /// the data.
    pub fn renew(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] ms: &JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "DataMapInput | null")] data: Option<
            JsValue,
        >,
    ) -> JsResult<()> {
        let d = to_duration(ms, "ms")?;
        let data = opt_map(data, "data")?;
        self.0.renew(d, data).map_err(to_js)
    }

    /// Gives up the lease (status `"expired"`), optionally replacing the data.
    pub fn expire(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "DataMapInput | null")] data: Option<
            JsValue,
        >,
    ) -> JsResult<()> {
        let data = opt_map(data, "data")?;
        self.0.expire(data).map_err(to_js)
    }

    /// Completes the work, optionally replacing the data (its `output`
    /// chains into the spec's `then` spec).
    pub fn finish(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "DataMapInput | null")] data: Option<
            JsValue,
        >,
    ) -> JsResult<()> {
        let data = opt_map(data, "data")?;
        self.0.finish(data).map_err(to_js)
    }

    /// Fails the work for good, optionally replacing the data.
    pub fn fail(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "DataMapInput | null")] data: Option<
            JsValue,
        >,
    ) -> JsResult<()> {
        let data = opt_map(data, "data")?;
        self.0.fail(data).map_err(to_js)
    }

    /// Fails the work so it can be retried after `delayMs` milliseconds
    /// (default 0), optionally replacing the data.
    pub fn retry(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "DataMapInput | null")] data: Option<
            JsValue,
        >,
        #[wasm_bindgen(js_name = delayMs, unchecked_optional_param_type = "number")]
        delay_ms: Option<JsValue>,
    ) -> JsResult<()> {
        let data = opt_map(data, "data")?;
        let delay = opt_duration(delay_ms, "delayMs")?;
        self.0.retry(data, delay).map_err(to_js)
    }
}

handle_class!(JsAttempt, Attempt, Attempt, |a| format!(
    "Attempt({:?}/{:?} @ {:?})",
    a.work_unit().work_spec().name(),
    a.work_unit().name(),
    a.worker().name()
));
