//! The value types of the API as plain JavaScript objects with camelCase
//! keys: `WorkSpecMeta`, `WorkUnitMeta`, `WorkUnitQuery`, `AttemptRequest`,
//! `AddWorkUnitItem`, summary records and maps of metas. A field missing
//! from an input object takes the zero value of its type.

use coordinate::{
    AddWorkUnitItem, AttemptRequest, Metas, Summary, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::convert::{
    describe, from_duration, from_i64, from_map, from_opt_instant, is_plain_object, object,
    to_bool, to_duration, to_f64, to_i64, to_opt_instant, to_opt_map, to_string, to_strings,
    to_unit_status, Options,
};
use crate::errors::type_error;
use crate::JsResult;

#[wasm_bindgen(typescript_custom_section)]
const TS_RECORDS: &'static str = r#"
/** A value stored in Coordinate data. Integers beyond ±(2^53-1) come back as `BigInt`. */
export type DataValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | DataValue[]
  | DataMap;
/** A data map as Coordinate returns it: a plain object at every level. */
export interface DataMap {
  [key: string]: DataValue;
}
/** A value accepted as Coordinate data: also `undefined` (stored as `null`), `Map`s with string keys and `ArrayBuffer`s. */
export type DataInput =
  | undefined
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | ArrayBuffer
  | DataInput[]
  | DataMapInput;
/** A data map accepted as input: a plain object or a `Map` with string keys. */
export type DataMapInput = { [key: string]: DataInput } | Map<string, DataInput>;

/** The status of a work unit (the text forms; see the `WorkUnitStatus` object). */
export type WorkUnitStatusText = "any" | "available" | "pending" | "finished" | "failed" | "delayed";
/** The status of an attempt (the text forms; see the `AttemptStatus` object). */
export type AttemptStatusText = "pending" | "expired" | "finished" | "failed" | "retryable";

/** Scheduling metadata of a work spec. Durations are milliseconds; "no time" is `null`. */
export interface WorkSpecMeta {
  priority: number;
  weight: number;
  paused: boolean;
  continuous: boolean;
  canBeContinuous: boolean;
  minMemoryGb: number;
  /** Milliseconds between generated continuous units. */
  interval: number;
  nextContinuous: Date | null;
  maxRunning: number;
  maxAttemptsReturned: number;
  maxRetries: number;
  nextWorkSpecName: string;
  availableCount: number;
  pendingCount: number;
  runtime: string;
}
/** A `WorkSpecMeta` as input: missing fields take their zero values; integers may be `BigInt`s. */
export type WorkSpecMetaInput = {
  [K in keyof WorkSpecMeta]?: WorkSpecMeta[K] extends number ? number | bigint : WorkSpecMeta[K];
};

/** Metadata of a work unit. */
export interface WorkUnitMeta {
  priority: number;
  /** Not handed out before this instant; `null` means no delay. */
  notBefore: Date | null;
}

/** Selects work units; every field is optional. An absent `names` or `statuses` does not filter, an empty one matches nothing. */
export interface WorkUnitQuery {
  names?: string[] | null;
  statuses?: WorkUnitStatusText[] | null;
  previousName?: string;
  limit?: number;
}

/** What a worker asks for; every field is optional. */
export interface AttemptRequest {
  /** Most units to hand out (default 1). */
  numberOfWorkUnits?: number;
  /** Only these work specs. */
  workSpecs?: string[] | null;
  /** Only specs with one of these runtimes. */
  runtimes?: string[] | null;
  /** Lease length in milliseconds (default 15 minutes). */
  lifetime?: number;
  /** Accepted for the API; not used for scheduling. */
  availableGb?: number;
}

/** One unit to add with `addWorkUnits`: a name, `[name, data?, meta?]` or `{key, data?, meta?}`. */
export type AddWorkUnitInput =
  | string
  | [string, (DataMapInput | null)?, (Partial<WorkUnitMeta> | null)?]
  | { key: string; data?: DataMapInput | null; meta?: Partial<WorkUnitMeta> | null };

/** A unit to add, as `extractWorkUnitOutput` and `extractAddWorkUnitItem` return it. */
export interface AddWorkUnitItem {
  key: string;
  data: DataMap;
  meta: WorkUnitMeta;
}

/** How many units of one work spec have one status. */
export interface SummaryRecord {
  namespace: string;
  workSpec: string;
  status: WorkUnitStatusText;
  count: number;
}

/** Metas by work spec name, as the free scheduler functions take them. */
export type MetasInput = Map<string, WorkSpecMetaInput> | { [name: string]: WorkSpecMetaInput };

/** Options of `new Coordinate(...)`. */
export interface CoordinateOptions {
  /** The clock to read; default: the system clock (`Date.now()`). */
  clock?: MockClock | null;
  /** Seed of the scheduler's random choice; default: random. */
  seed?: number | bigint | null;
}
"#;

const META_KEYS: &[&str] = &[
    "priority",
    "weight",
    "paused",
    "continuous",
    "canBeContinuous",
    "minMemoryGb",
    "interval",
    "nextContinuous",
    "maxRunning",
    "maxAttemptsReturned",
    "maxRetries",
    "nextWorkSpecName",
    "availableCount",
    "pendingCount",
    "runtime",
];

/// A `WorkSpecMeta` as a plain object.
pub(crate) fn meta_to_js(m: &WorkSpecMeta) -> JsValue {
    object(&[
        ("priority", from_i64(m.priority)),
        ("weight", from_i64(m.weight)),
        ("paused", m.paused.into()),
        ("continuous", m.continuous.into()),
        ("canBeContinuous", m.can_be_continuous.into()),
        ("minMemoryGb", m.min_memory_gb.into()),
        ("interval", from_duration(m.interval)),
        ("nextContinuous", from_opt_instant(m.next_continuous)),
        ("maxRunning", from_i64(m.max_running)),
        ("maxAttemptsReturned", from_i64(m.max_attempts_returned)),
        ("maxRetries", from_i64(m.max_retries)),
        ("nextWorkSpecName", m.next_work_spec_name.as_str().into()),
        ("availableCount", from_i64(m.available_count)),
        ("pendingCount", from_i64(m.pending_count)),
        ("runtime", m.runtime.as_str().into()),
    ])
}

/// A plain object as a `WorkSpecMeta`; missing fields are zero.
pub(crate) fn meta_from_js(v: &JsValue, arg: &str) -> JsResult<WorkSpecMeta> {
    if v.is_null_or_undefined() {
        return Err(type_error(format!(
            "{arg} must be a WorkSpecMeta object, not {}",
            describe(v)
        )));
    }
    let o = Options::new(v, arg, META_KEYS)?;
    Ok(WorkSpecMeta {
        priority: o.map("priority", to_i64)?.unwrap_or_default(),
        weight: o.map("weight", to_i64)?.unwrap_or_default(),
        paused: o.map("paused", to_bool)?.unwrap_or_default(),
        continuous: o.map("continuous", to_bool)?.unwrap_or_default(),
        can_be_continuous: o.map("canBeContinuous", to_bool)?.unwrap_or_default(),
        min_memory_gb: o.map("minMemoryGb", to_f64)?.unwrap_or_default(),
        interval: o.map("interval", to_duration)?.unwrap_or_default(),
        next_continuous: o.map("nextContinuous", to_opt_instant)?.flatten(),
        max_running: o.map("maxRunning", to_i64)?.unwrap_or_default(),
        max_attempts_returned: o.map("maxAttemptsReturned", to_i64)?.unwrap_or_default(),
        max_retries: o.map("maxRetries", to_i64)?.unwrap_or_default(),
        next_work_spec_name: o.map("nextWorkSpecName", to_string)?.unwrap_or_default(),
        available_count: o.map("availableCount", to_i64)?.unwrap_or_default(),
        pending_count: o.map("pendingCount", to_i64)?.unwrap_or_default(),
        runtime: o.map("runtime", to_string)?.unwrap_or_default(),
    })
}

/// A `WorkUnitMeta` as `{priority, notBefore}`.
pub(crate) fn unit_meta_to_js(m: &WorkUnitMeta) -> JsValue {
    object(&[
        ("priority", m.priority.into()),
        ("notBefore", from_opt_instant(m.not_before)),
    ])
}

/// `{priority, notBefore}` as a `WorkUnitMeta`; `null`/`undefined` and
/// missing fields are zero.
pub(crate) fn unit_meta_from_js(v: &JsValue, arg: &str) -> JsResult<WorkUnitMeta> {
    let o = Options::new(v, arg, &["priority", "notBefore"])?;
    Ok(WorkUnitMeta {
        priority: o.map("priority", to_f64)?.unwrap_or_default(),
        not_before: o.map("notBefore", to_opt_instant)?.flatten(),
    })
}

/// `unit_meta_from_js` for an optional argument.
pub(crate) fn unit_meta_from_opt(v: Option<JsValue>, arg: &str) -> JsResult<WorkUnitMeta> {
    v.map_or(Ok(WorkUnitMeta::default()), |v| unit_meta_from_js(&v, arg))
}

/// `{names, statuses, previousName, limit}` as a `WorkUnitQuery`.
pub(crate) fn query_from_js(v: Option<JsValue>, arg: &str) -> JsResult<WorkUnitQuery> {
    let o = Options::of(v, arg, &["names", "statuses", "previousName", "limit"])?;
    Ok(WorkUnitQuery {
        names: o.map("names", to_strings)?,
        statuses: o.map("statuses", |v, arg| {
            if !Array::is_array(v) {
                return Err(type_error(format!(
                    "{arg} must be an Array of statuses, not {}",
                    describe(v)
                )));
            }
            let array: &Array = v.unchecked_ref();
            array.iter().map(|s| to_unit_status(&s, arg)).collect()
        })?,
        previous_name: o.map("previousName", to_string)?.unwrap_or_default(),
        limit: o.map("limit", to_i64)?.unwrap_or_default(),
    })
}

/// `{numberOfWorkUnits, workSpecs, runtimes, lifetime, availableGb}` as an
/// `AttemptRequest` (`lifetime` in milliseconds).
pub(crate) fn request_from_js(v: Option<JsValue>, arg: &str) -> JsResult<AttemptRequest> {
    let o = Options::of(
        v,
        arg,
        &[
            "numberOfWorkUnits",
            "workSpecs",
            "runtimes",
            "lifetime",
            "availableGb",
        ],
    )?;
    Ok(AttemptRequest {
        available_gb: o.map("availableGb", to_f64)?.unwrap_or_default(),
        lifetime: o.map("lifetime", to_duration)?.unwrap_or_default(),
        number_of_work_units: o.map("numberOfWorkUnits", to_i64)?.unwrap_or_default(),
        work_specs: o.map("workSpecs", to_strings)?.unwrap_or_default(),
        runtimes: o.map("runtimes", to_strings)?.unwrap_or_default(),
    })
}

/// Item `index` of `addWorkUnits`: a name, `[name, data?, meta?]` or
/// `{key, data?, meta?}`. (Argument names for messages, `items[3] data`, are
/// only formatted past the common case of a bare name.)
pub(crate) fn item_from_js(v: &JsValue, index: usize) -> JsResult<AddWorkUnitItem> {
    if let Some(key) = v.as_string() {
        return Ok(AddWorkUnitItem::named(key));
    }
    let arg = format!("items[{index}]");
    let (key, data, meta) = if Array::is_array(v) {
        let parts: &Array = v.unchecked_ref();
        if parts.length() == 0 || parts.length() > 3 {
            return Err(type_error(format!(
                "{arg}: an item Array must be [name, data?, meta?], not {} long",
                parts.length()
            )));
        }
        (parts.get(0), parts.get(1), parts.get(2))
    } else {
        if v.is_null_or_undefined() {
            return Err(item_type_error(v, &arg));
        }
        let o = Options::new(v, &arg, &["key", "data", "meta"])
            .map_err(|_| item_type_error(v, &arg))?;
        (o.get("key"), o.get("data"), o.get("meta"))
    };
    Ok(AddWorkUnitItem {
        key: to_string(&key, &format!("{arg} name"))?,
        data: to_opt_map(&data, &format!("{arg} data"))?.unwrap_or_default(),
        meta: unit_meta_from_js(&meta, &format!("{arg} meta"))?,
    })
}

fn item_type_error(v: &JsValue, arg: &str) -> JsValue {
    type_error(format!(
        "{arg} must be a name, [name, data?, meta?] or {{key, data?, meta?}}, not {}",
        describe(v)
    ))
}

/// An `AddWorkUnitItem` as `{key, data, meta}`.
pub(crate) fn item_to_js(item: &AddWorkUnitItem) -> JsValue {
    object(&[
        ("key", item.key.as_str().into()),
        ("data", from_map(&item.data)),
        ("meta", unit_meta_to_js(&item.meta)),
    ])
}

/// A summary as an Array of `{namespace, workSpec, status, count}`.
pub(crate) fn summary_to_js(summary: &Summary) -> Array {
    summary
        .iter()
        .map(|r| {
            object(&[
                ("namespace", r.namespace.as_str().into()),
                ("workSpec", r.work_spec.as_str().into()),
                ("status", r.status.as_str().into()),
                ("count", from_i64(r.count)),
            ])
        })
        .collect()
}

/// Metas by name from a `Map` or a plain object.
pub(crate) fn metas_from_js(v: &JsValue, arg: &str) -> JsResult<Metas> {
    let mut metas = Metas::new();
    if let Some(m) = v.dyn_ref::<js_sys::Map>() {
        for entry in m.entries() {
            let entry: Array = entry?.unchecked_into();
            let name = to_string(&entry.get(0), &format!("{arg} key"))?;
            let meta = meta_from_js(&entry.get(1), &format!("{arg}[{name:?}]"))?;
            metas.insert(name, meta);
        }
        return Ok(metas);
    }
    if !is_plain_object(v) {
        return Err(type_error(format!(
            "{arg} must be a Map or a plain object of metas by name, not {}",
            describe(v)
        )));
    }
    for key in Object::keys::<JsValue>(v.unchecked_ref()).iter() {
        let name = key.as_string().unwrap_or_default();
        let meta = meta_from_js(&Reflect::get(v, &key)?, &format!("{arg}[{name:?}]"))?;
        metas.insert(name, meta);
    }
    Ok(metas)
}

/// Metas by name as a `Map`.
pub(crate) fn metas_to_js(metas: &Metas) -> js_sys::Map {
    let map = js_sys::Map::new();
    for (name, meta) in metas {
        map.set(&name.as_str().into(), &meta_to_js(meta));
    }
    map
}
