//! Free functions: output extraction, meta helpers, the scheduler, and the
//! status conversions behind the `WorkUnitStatus`/`AttemptStatus` objects.

use coordinate::{AttemptStatus, WorkUnitStatus};
use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::convert::{object, to_f64, to_i64, to_instant, to_map, to_seed, to_string, to_strings};
use crate::convert::{to_attempt_status, to_unit_status, to_value, Options};
use crate::errors::to_js;
use crate::records::{item_to_js, meta_from_js, meta_to_js, metas_from_js, metas_to_js};
use crate::JsResult;

/// Turns a finished unit's `output` into the units to add to the next spec,
/// by name. Never throws for a malformed output: it yields nothing.
#[wasm_bindgen(
    js_name = extractWorkUnitOutput,
    unchecked_return_type = "Map<string, AddWorkUnitItem>"
)]
pub fn extract_work_unit_output(
    #[wasm_bindgen(unchecked_param_type = "DataInput")] output: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date")] now: &JsValue,
) -> JsResult<js_sys::Map> {
    let output = to_value(output, "output")?;
    let now = to_instant(now, "now")?;
    let map = js_sys::Map::new();
    for (name, item) in coordinate::extract_work_unit_output(&output, now) {
        map.set(&name.into(), &item_to_js(&item));
    }
    Ok(map)
}

/// Converts one element of a chained output list: a name, or
/// `[name, data, meta?, priority?]`.
#[wasm_bindgen(
    js_name = extractAddWorkUnitItem,
    unchecked_return_type = "AddWorkUnitItem"
)]
pub fn extract_add_work_unit_item(
    #[wasm_bindgen(unchecked_param_type = "DataInput")] obj: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date")] now: &JsValue,
) -> JsResult<JsValue> {
    let obj = to_value(obj, "obj")?;
    let now = to_instant(now, "now")?;
    coordinate::extract_add_work_unit_item(&obj, now)
        .map(|item| item_to_js(&item))
        .map_err(to_js)
}

/// Validates work spec data and derives its metadata: `{name, meta}`.
#[wasm_bindgen(
    js_name = extractWorkSpecMeta,
    unchecked_return_type = "{ name: string; meta: WorkSpecMeta }"
)]
pub fn extract_work_spec_meta(
    #[wasm_bindgen(unchecked_param_type = "DataMapInput")] data: &JsValue,
) -> JsResult<JsValue> {
    let data = to_map(data, "data")?;
    let (name, meta) = coordinate::extract_work_spec_meta(&data).map_err(to_js)?;
    Ok(object(&[
        ("name", name.into()),
        ("meta", meta_to_js(&meta)),
    ]))
}

/// Keeps only the metas of the named specs; an empty list keeps all.
#[wasm_bindgen(
    js_name = limitMetasToNames,
    unchecked_return_type = "Map<string, WorkSpecMeta>"
)]
pub fn limit_metas_to_names(
    #[wasm_bindgen(unchecked_param_type = "MetasInput")] metas: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] names: &JsValue,
) -> JsResult<js_sys::Map> {
    let metas = metas_from_js(metas, "metas")?;
    let names = to_strings(names, "names")?;
    Ok(metas_to_js(&coordinate::limit_metas_to_names(
        metas, &names,
    )))
}

/// Keeps only the metas whose runtime is one of `runtimes`; an empty list
/// keeps all.
#[wasm_bindgen(
    js_name = limitMetasToRuntimes,
    unchecked_return_type = "Map<string, WorkSpecMeta>"
)]
pub fn limit_metas_to_runtimes(
    #[wasm_bindgen(unchecked_param_type = "MetasInput")] metas: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "string[]")] runtimes: &JsValue,
) -> JsResult<js_sys::Map> {
    let metas = metas_from_js(metas, "metas")?;
    let runtimes = to_strings(runtimes, "runtimes")?;
    Ok(metas_to_js(&coordinate::limit_metas_to_runtimes(
        metas, &runtimes,
    )))
}

/// Picks the spec to work on, as the scheduler does; throws `NoWorkError`
/// when nothing can run. `{seed}` makes the choice reproducible.
#[wasm_bindgen(js_name = simplifiedScheduler)]
pub fn simplified_scheduler(
    #[wasm_bindgen(unchecked_param_type = "MetasInput")] metas: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date")] now: &JsValue,
    #[wasm_bindgen(js_name = availableGb, unchecked_param_type = "number")] available_gb: &JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "{ seed?: number | bigint | null }")]
    options: Option<JsValue>,
) -> JsResult<String> {
    let metas = metas_from_js(metas, "metas")?;
    let now = to_instant(now, "now")?;
    let available_gb = to_f64(available_gb, "availableGb")?;
    let o = Options::of(options, "options", &["seed"])?;
    let seed = o.map("seed", to_seed)?;
    coordinate::simplified_scheduler(&metas, now, available_gb, seed).map_err(to_js)
}

/// Whether the scheduler may pick a spec with this meta at `now`.
#[wasm_bindgen(js_name = canDoWork)]
pub fn can_do_work(
    #[wasm_bindgen(unchecked_param_type = "WorkSpecMetaInput")] meta: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date")] now: &JsValue,
) -> JsResult<bool> {
    let meta = meta_from_js(meta, "meta")?;
    Ok(meta.can_do_work(to_instant(now, "now")?))
}

/// Whether a continuous unit may be generated for a spec with this meta at `now`.
#[wasm_bindgen(js_name = canStartContinuous)]
pub fn can_start_continuous(
    #[wasm_bindgen(unchecked_param_type = "WorkSpecMetaInput")] meta: &JsValue,
    #[wasm_bindgen(unchecked_param_type = "Date")] now: &JsValue,
) -> JsResult<bool> {
    let meta = meta_from_js(meta, "meta")?;
    Ok(meta.can_start_continuous(to_instant(now, "now")?))
}

// ------------------------------------------------------------------- statuses
// Used by the `WorkUnitStatus` and `AttemptStatus` objects of js/api.js
// (`fromText`, `fromCode`, `codeOf`); not exported to TypeScript directly.

/// The text forms of every status, in code order: `{workUnit, attempt}`.
#[wasm_bindgen(js_name = "__statusTexts", skip_typescript)]
pub fn status_texts() -> JsValue {
    let texts = |all: &mut dyn Iterator<Item = &'static str>| -> JsValue {
        all.map(JsValue::from_str).collect::<Array>().into()
    };
    object(&[
        (
            "workUnit",
            texts(&mut WorkUnitStatus::ALL.iter().map(|s| s.as_str())),
        ),
        (
            "attempt",
            texts(&mut AttemptStatus::ALL.iter().map(|s| s.as_str())),
        ),
    ])
}

/// `"available"` for 1; `InvalidStatusError` for a code with no status.
#[wasm_bindgen(js_name = "__workUnitStatusFromCode", skip_typescript)]
pub fn work_unit_status_from_code(code: &JsValue) -> JsResult<String> {
    let code = to_i64(code, "code")?;
    WorkUnitStatus::text_of_code(code)
        .map(str::to_owned)
        .map_err(to_js)
}

/// The status a text names; `InvalidStatusError` if none.
#[wasm_bindgen(js_name = "__workUnitStatusFromText", skip_typescript)]
pub fn work_unit_status_from_text(text: &JsValue) -> JsResult<String> {
    to_unit_status(text, "text").map(|s| s.as_str().to_owned())
}

/// The numeric code of a status text; `InvalidStatusError` if none.
#[wasm_bindgen(js_name = "__workUnitStatusCode", skip_typescript)]
pub fn work_unit_status_code(status: &JsValue) -> JsResult<f64> {
    to_unit_status(status, "status").map(|s| s.code() as f64)
}

/// `"expired"` for 1; `InvalidStatusError` for a code with no status.
#[wasm_bindgen(js_name = "__attemptStatusFromCode", skip_typescript)]
pub fn attempt_status_from_code(code: &JsValue) -> JsResult<String> {
    let code = to_i64(code, "code")?;
    AttemptStatus::text_of_code(code)
        .map(str::to_owned)
        .map_err(to_js)
}

/// The status a text names; `InvalidStatusError` if none.
#[wasm_bindgen(js_name = "__attemptStatusFromText", skip_typescript)]
pub fn attempt_status_from_text(text: &JsValue) -> JsResult<String> {
    to_attempt_status(text, "text").map(|s| s.as_str().to_owned())
}

/// The numeric code of a status text; `InvalidStatusError` if none.
#[wasm_bindgen(js_name = "__attemptStatusCode", skip_typescript)]
pub fn attempt_status_code(status: &JsValue) -> JsResult<f64> {
    to_attempt_status(status, "status").map(|s| s.code() as f64)
}

/// Panics with `message`: lets the tests check that a Rust panic reaches
/// JavaScript as a thrown `Error` (not an `unreachable` trap) and that the
/// module keeps working afterwards. Not part of the public API.
#[wasm_bindgen(js_name = "__panicForTest", skip_typescript)]
pub fn panic_for_test(message: &JsValue) -> JsResult<()> {
    let message = to_string(message, "message")?;
    panic!("{message}");
}

/// The size of the module's linear memory in bytes, for the tests' leak
/// check. Not part of the public API.
#[wasm_bindgen(js_name = "__wasmMemoryBytes", skip_typescript)]
pub fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64
}

/// The drain workload run entirely inside WebAssembly (no JavaScript per
/// unit): `n` empty units, one worker, request `batch` + finish each.
/// Returns the drain's duration as measured by calling `now` (e.g.
/// `performance.now`) before and after. For the benchmark, which sets it
/// beside the same loop driven from JavaScript to split the cost between the
/// engine compiled to wasm and the binding. Not part of the public API.
#[wasm_bindgen(js_name = "__benchDrainInWasm", skip_typescript)]
pub fn bench_drain_in_wasm(n: u32, batch: u32, now: &js_sys::Function) -> JsResult<f64> {
    let clock = || -> JsResult<f64> { Ok(now.call0(&JsValue::NULL)?.as_f64().unwrap_or(f64::NAN)) };
    use coordinate::{map, AddWorkUnitItem, AttemptRequest, Coordinate, MockClock};
    let coord = Coordinate::with_options(std::sync::Arc::new(MockClock::default()), Some(1));
    let ns = coord.namespace("bench").map_err(to_js)?;
    let spec = ns.set_work_spec(map([("name", "s")])).map_err(to_js)?;
    let items = (0..n)
        .map(|i| AddWorkUnitItem::named(format!("u{i:07}")))
        .collect();
    spec.add_work_units(items).map_err(to_js)?;
    let worker = ns.worker("w").map_err(to_js)?;
    let req = AttemptRequest {
        number_of_work_units: i64::from(batch),
        ..Default::default()
    };
    let start = clock()?;
    loop {
        let attempts = worker.request_attempts(&req).map_err(to_js)?;
        if attempts.is_empty() {
            break;
        }
        for a in &attempts {
            a.finish(None).map_err(to_js)?;
        }
    }
    Ok(clock()? - start)
}
