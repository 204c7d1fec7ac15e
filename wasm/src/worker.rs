//! The calls of `Worker` and `Attempt` (hidden functions; see `handles.rs`).

use coordinate::AttemptRequest;
use wasm_bindgen::prelude::*;

use crate::convert::{
    from_instant, from_map, from_opt_instant, opt_duration, opt_map, to_duration, to_instant,
    to_map, to_string,
};
use crate::errors::{or_keep, to_js};
use crate::handles::{exports, JsCoordinate};
use crate::records::request_from_js;
use crate::wire::{attempt, reply, unit, worker};
use crate::JsResult;

// --------------------------------------------------------------------- Worker

exports! {
    "__workerParent" fn worker_parent(c: &JsCoordinate, ns: f64, w: f64) -> u32 {
        let p = worker(c, ns, w).parent().map_err(to_js)?;
        Ok(reply(c, p, |o, p| o.worker(&p)))
    }
    "__workerSetParent" fn worker_set_parent(
        c: &JsCoordinate, ns: f64, w: f64, pc: &JsCoordinate, pns: f64, pw: f64
    ) -> () {
        let parent = worker(pc, pns, pw);
        worker(c, ns, w).set_parent(Some(&parent)).map_err(to_js)
    }
    "__workerClearParent" fn worker_clear_parent(c: &JsCoordinate, ns: f64, w: f64) -> () {
        worker(c, ns, w).set_parent(None).map_err(to_js)
    }
    "__workerChildren" fn worker_children(c: &JsCoordinate, ns: f64, w: f64) -> u32 {
        let all = worker(c, ns, w).children().map_err(to_js)?;
        Ok(reply(c, all, |o, w| o.worker(&w)))
    }
    "__workerActive" fn worker_active(c: &JsCoordinate, ns: f64, w: f64) -> bool {
        worker(c, ns, w).active().map_err(to_js)
    }
    "__workerDeactivate" fn worker_deactivate(c: &JsCoordinate, ns: f64, w: f64) -> () {
        worker(c, ns, w).deactivate().map_err(to_js)
    }
    "__workerMode" fn worker_mode(c: &JsCoordinate, ns: f64, w: f64) -> String {
        worker(c, ns, w).mode().map_err(to_js)
    }
    "__workerData" fn worker_data(c: &JsCoordinate, ns: f64, w: f64) -> JsValue {
        worker(c, ns, w).data().map(|d| from_map(&d)).map_err(to_js)
    }
    "__workerExpiration" fn worker_expiration(c: &JsCoordinate, ns: f64, w: f64) -> JsValue {
        worker(c, ns, w).expiration().map(from_instant).map_err(to_js)
    }
    "__workerLastUpdate" fn worker_last_update(c: &JsCoordinate, ns: f64, w: f64) -> JsValue {
        worker(c, ns, w).last_update().map(from_instant).map_err(to_js)
    }
    "__workerUpdate" fn worker_update(
        c: &JsCoordinate, ns: f64, w: f64, data: &JsValue, now: &JsValue, expiration: &JsValue, mode: &JsValue
    ) -> () {
        let data = to_map(data, "data")?;
        let now = to_instant(now, "now")?;
        let expiration = to_instant(expiration, "expiration")?;
        let mode = to_string(mode, "mode")?;
        worker(c, ns, w).update(data, now, expiration, &mode).map_err(to_js)
    }
    "__workerRequestAttemptsWith" fn worker_request_attempts_with(
        c: &JsCoordinate, ns: f64, w: f64, request: &JsValue
    ) -> u32 {
        let request = request_from_js(request, "request")?;
        request_attempts(c, ns, w, &request)
    }
    "__workerMakeAttempt" fn worker_make_attempt(
        c: &JsCoordinate, ns: f64, w: f64,
        uc: &JsCoordinate, uns: f64, us: f64, hi: u32, lo: u32,
        lifetime_ms: Option<JsValue>
    ) -> u32 {
        let u = unit(uc, uns, us, hi, lo);
        let lifetime = opt_duration(lifetime_ms, "lifetimeMs")?;
        let a = worker(c, ns, w).make_attempt(&u, lifetime).map_err(to_js)?;
        Ok(reply(c, [a], |o, a| o.attempt(&a)))
    }
    "__workerActiveAttempts" fn worker_active_attempts(c: &JsCoordinate, ns: f64, w: f64) -> u32 {
        let all = worker(c, ns, w).active_attempts().map_err(to_js)?;
        Ok(reply(c, all, |o, a| o.attempt(&a)))
    }
    "__workerAllAttempts" fn worker_all_attempts(c: &JsCoordinate, ns: f64, w: f64) -> u32 {
        let all = worker(c, ns, w).all_attempts().map_err(to_js)?;
        Ok(reply(c, all, |o, a| o.attempt(&a)))
    }
    "__workerChildAttempts" fn worker_child_attempts(c: &JsCoordinate, ns: f64, w: f64) -> u32 {
        let all = worker(c, ns, w).child_attempts().map_err(to_js)?;
        Ok(reply(c, all, |o, a| o.attempt(&a)))
    }
}

/// The attempts `request` gives worker `w`, as a reply (see `wire.rs`).
fn request_attempts(c: &JsCoordinate, ns: f64, w: f64, request: &AttemptRequest) -> JsResult<u32> {
    let all = worker(c, ns, w).request_attempts(request).map_err(to_js)?;
    Ok(reply(c, all, |o, a| o.attempt(&a)))
}

// The two calls of a worker's loop without arguments, `requestAttempts()`
// and `finish()`, are the hottest of the module, so they have exports of
// their own that take no `Option<JsValue>` (wasm-bindgen tests a passed
// one for `undefined` with a call into JavaScript) and return no `Result`
// (see `or_keep`): 0 or `false` means "throw `__takeError()`". `js/api.js`
// calls them when the argument is `undefined` or `null`, which the general
// exports above and below take as absent too.

/// `requestAttempts()`: the default request; 0 on failure.
#[wasm_bindgen(js_name = "__workerRequestAttempts", skip_typescript)]
pub fn worker_request_attempts(c: &JsCoordinate, ns: f64, w: f64) -> u32 {
    or_keep(request_attempts(c, ns, w, &AttemptRequest::default()), 0)
}

/// `finish()`: no new data; `false` on failure.
#[wasm_bindgen(js_name = "__attFinish", skip_typescript)]
#[allow(clippy::too_many_arguments)]
pub fn att_finish(
    c: &JsCoordinate,
    ns: f64,
    s: f64,
    hi: u32,
    lo: u32,
    wns: f64,
    w: f64,
    id: f64,
) -> bool {
    let a = attempt(c, ns, s, hi, lo, wns, w, id);
    or_keep(a.finish(None).map(|()| true).map_err(to_js), false)
}

// -------------------------------------------------------------------- Attempt

// Every attempt call takes the attempt's ids: its unit's (namespace, spec,
// unit halves), its worker's (namespace, worker) and its own.
exports! {
    "__attStatus" fn att_status(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64
    ) -> JsValue {
        let a = attempt(c, ns, s, hi, lo, wns, w, id);
        a.status().map(|s| s.as_str().into()).map_err(to_js)
    }
    "__attData" fn att_data(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64
    ) -> JsValue {
        let a = attempt(c, ns, s, hi, lo, wns, w, id);
        a.data().map(|d| from_map(&d)).map_err(to_js)
    }
    "__attStartTime" fn att_start_time(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64
    ) -> JsValue {
        let a = attempt(c, ns, s, hi, lo, wns, w, id);
        a.start_time().map(from_instant).map_err(to_js)
    }
    "__attEndTime" fn att_end_time(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64
    ) -> JsValue {
        let a = attempt(c, ns, s, hi, lo, wns, w, id);
        a.end_time().map(from_opt_instant).map_err(to_js)
    }
    "__attExpirationTime" fn att_expiration_time(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64
    ) -> JsValue {
        let a = attempt(c, ns, s, hi, lo, wns, w, id);
        a.expiration_time().map(from_instant).map_err(to_js)
    }
    "__attRenew" fn att_renew(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64,
        ms: &JsValue, data: Option<JsValue>
    ) -> () {
        let d = to_duration(ms, "ms")?;
        let data = opt_map(data, "data")?;
        attempt(c, ns, s, hi, lo, wns, w, id).renew(d, data).map_err(to_js)
    }
    "__attExpire" fn att_expire(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64,
        data: Option<JsValue>
    ) -> () {
        let data = opt_map(data, "data")?;
        attempt(c, ns, s, hi, lo, wns, w, id).expire(data).map_err(to_js)
    }
    "__attFinishWith" fn att_finish_with(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64,
        data: &JsValue
    ) -> () {
        let data = to_map(data, "data")?;
        attempt(c, ns, s, hi, lo, wns, w, id).finish(Some(data)).map_err(to_js)
    }
    "__attFail" fn att_fail(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64,
        data: Option<JsValue>
    ) -> () {
        let data = opt_map(data, "data")?;
        attempt(c, ns, s, hi, lo, wns, w, id).fail(data).map_err(to_js)
    }
    "__attRetry" fn att_retry(
        c: &JsCoordinate, ns: f64, s: f64, hi: u32, lo: u32, wns: f64, w: f64, id: f64,
        data: Option<JsValue>, delay_ms: Option<JsValue>
    ) -> () {
        let data = opt_map(data, "data")?;
        let delay = opt_duration(delay_ms, "delayMs")?;
        attempt(c, ns, s, hi, lo, wns, w, id).retry(data, delay).map_err(to_js)
    }
}
