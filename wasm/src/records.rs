//! The value types of the API as plain JavaScript objects with camelCase
//! keys: `WorkSpecMeta`, `WorkUnitMeta`, `WorkUnitQuery`, `AttemptRequest`,
//! `AddWorkUnitItem`, summary records and maps of metas. A field missing
//! from an input object takes the zero value of its type.

use chrono::{DateTime, Utc};
use coordinate::{
    AddWorkUnitItem, AttemptRequest, FieldValue, Kind, Metas, Record, Summary, Value, WorkSpecMeta,
    WorkUnitMeta, WorkUnitQuery,
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::convert::{
    check_text, describe, from_duration, from_i64, from_map, from_opt_instant, is_plain_object,
    set, to_bool, to_duration, to_f64, to_i64, to_map, to_opt_instant, to_opt_map, to_string,
    to_strings, to_unit_status, Options,
};
use crate::errors::{to_js, type_error};
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
  /**
   * Most work units held at once; past it adds throw `CapacityError`
   * (default 2,000,000, which keeps the module well inside wasm's 4 GiB).
   */
  maxUnits?: number | bigint | null;
  /**
   * Most accounted bytes held (each unit and attempt: 256 plus its data's
   * size, docs/semantics.md §6.1.1); default 1 GiB.
   */
  maxBytes?: number | bigint | null;
}
"#;

// ------------------------------------------------------- field conversions
// Every record goes through its core field table (coordinate::records):
// keys are the table's camelCase names, values converted by kind.

/// A field value as a JavaScript value, by kind.
fn field_to_js(v: FieldValue) -> JsValue {
    match v {
        FieldValue::Int(i) => from_i64(i),
        FieldValue::Float(f) => f.into(),
        FieldValue::Bool(b) => b.into(),
        FieldValue::Text(s) => s.into(),
        FieldValue::Duration(d) => from_duration(d),
        FieldValue::Instant(t) => from_opt_instant(t),
        FieldValue::Strings(l) | FieldValue::OptStrings(Some(l)) => strings_to_js(&l),
        FieldValue::OptStrings(None) | FieldValue::OptStatuses(None) => JsValue::NULL,
        FieldValue::OptStatuses(Some(l)) => l
            .iter()
            .map(|s| JsValue::from_str(s.as_str()))
            .collect::<Array>()
            .into(),
        FieldValue::Status(s) => s.as_str().into(),
        FieldValue::Data(m) => from_map(&m),
        FieldValue::UnitMeta(m) => record_to_js(&m),
    }
}

fn strings_to_js(l: &[String]) -> JsValue {
    l.iter()
        .map(|s| JsValue::from_str(s))
        .collect::<Array>()
        .into()
}

/// A JavaScript value (neither `null` nor `undefined`) as a field value of
/// `kind`, naming `arg` in errors.
fn field_from_js(kind: Kind, v: &JsValue, arg: &str) -> JsResult<FieldValue> {
    Ok(match kind {
        Kind::Int => FieldValue::Int(to_i64(v, arg)?),
        Kind::Float | Kind::Seconds => FieldValue::Float(to_f64(v, arg)?),
        Kind::Bool => FieldValue::Bool(to_bool(v, arg)?),
        Kind::Text => FieldValue::Text(to_string(v, arg)?),
        Kind::Duration => FieldValue::Duration(to_duration(v, arg)?),
        Kind::Instant => FieldValue::Instant(to_opt_instant(v, arg)?),
        Kind::Strings => FieldValue::Strings(to_strings(v, arg)?),
        Kind::OptStrings => FieldValue::OptStrings(Some(to_strings(v, arg)?)),
        Kind::OptStatuses => {
            if !Array::is_array(v) {
                return Err(type_error(format!(
                    "{arg} must be an Array of statuses, not {}",
                    describe(v)
                )));
            }
            let array: &Array = v.unchecked_ref();
            FieldValue::OptStatuses(Some(
                array
                    .iter()
                    .map(|s| to_unit_status(&s, arg))
                    .collect::<JsResult<_>>()?,
            ))
        }
        Kind::Status => FieldValue::Status(to_unit_status(v, arg)?),
        Kind::Data => FieldValue::Data(to_map(v, arg)?),
        Kind::UnitMeta => FieldValue::UnitMeta(record_from_js::<WorkUnitMeta>(v, arg)?),
    })
}

thread_local! {
    // Each record's camelCase keys, made once from its table.
    static KEYS: std::cell::RefCell<Vec<(&'static str, &'static [&'static str])>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The camelCase keys of `R`'s fields, in table order.
fn js_keys<R: Record>() -> &'static [&'static str] {
    KEYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, keys)) = cache.iter().find(|(n, _)| *n == R::NAME) {
            return *keys;
        }
        let keys: &'static [&'static str] = Box::leak(
            R::FIELDS
                .iter()
                .map(|f| f.js_name)
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        cache.push((R::NAME, keys));
        keys
    })
}

/// A record as a plain object with camelCase keys.
pub(crate) fn record_to_js<R: Record>(r: &R) -> JsValue {
    let o = Object::new();
    for f in R::FIELDS {
        set(&o, f.js_name, &field_to_js((f.get)(r)));
    }
    o.into()
}

/// A plain object (or `null`/`undefined`: every field blank) as a record: a
/// missing, `null` or `undefined` key takes the blank value; an unknown key
/// is a `TypeError`; the core's checks then apply (`OutOfRangeError`,
/// `BadPriorityError`).
pub(crate) fn record_from_js<R: Record>(v: &JsValue, arg: &str) -> JsResult<R> {
    let o = Options::new(v, arg, js_keys::<R>())?;
    let mut r = R::blank();
    for f in R::FIELDS {
        if let Some(value) = o.map(f.js_name, |v, key| field_from_js(f.kind, v, key))? {
            (f.set)(&mut r, value).map_err(to_js)?;
        }
    }
    Ok(r)
}

/// A `WorkSpecMeta` as a plain object.
pub(crate) fn meta_to_js(m: &WorkSpecMeta) -> JsValue {
    record_to_js(m)
}

/// A plain object as a `WorkSpecMeta`; missing fields are zero.
pub(crate) fn meta_from_js(v: &JsValue, arg: &str) -> JsResult<WorkSpecMeta> {
    if v.is_null_or_undefined() {
        return Err(type_error(format!(
            "{arg} must be a WorkSpecMeta object, not {}",
            describe(v)
        )));
    }
    record_from_js(v, arg)
}

/// A `WorkUnitMeta` as `{priority, notBefore}`.
pub(crate) fn unit_meta_to_js(m: &WorkUnitMeta) -> JsValue {
    record_to_js(m)
}

/// `{priority, notBefore}` as a `WorkUnitMeta`; `null`/`undefined` and
/// missing fields are zero.
pub(crate) fn unit_meta_from_js(v: &JsValue, arg: &str) -> JsResult<WorkUnitMeta> {
    record_from_js(v, arg)
}

/// `unit_meta_from_js` for an optional argument.
pub(crate) fn unit_meta_from_opt(v: Option<JsValue>, arg: &str) -> JsResult<WorkUnitMeta> {
    v.map_or(Ok(WorkUnitMeta::default()), |v| unit_meta_from_js(&v, arg))
}

/// `{names, statuses, previousName, limit}` as a `WorkUnitQuery`.
pub(crate) fn query_from_js(v: Option<JsValue>, arg: &str) -> JsResult<WorkUnitQuery> {
    v.map_or(Ok(WorkUnitQuery::default()), |v| record_from_js(&v, arg))
}

/// `{numberOfWorkUnits, availableGb, lifetime, workSpecs, runtimes}` as an
/// `AttemptRequest` (`lifetime` in milliseconds).
/// (`null` and `undefined` never get here: `js/api.js` sends those to the
/// export of the default request.)
pub(crate) fn request_from_js(v: &JsValue, arg: &str) -> JsResult<AttemptRequest> {
    record_from_js(v, arg)
}

/// Item `index` of `addWorkUnits`: a name, `[name, data?, meta?]` or
/// `{key, data?, meta?}`, converted to the core grammar's `Value` and parsed
/// by `coordinate::parse_add_work_unit` at `now`. (Argument names for
/// messages, `items[3] data`, are only formatted past the common case of a
/// bare name.)
pub(crate) fn item_from_js(
    v: &JsValue,
    index: usize,
    now: DateTime<Utc>,
) -> JsResult<AddWorkUnitItem> {
    if let Some(key) = v.as_string() {
        check_text(v, &key, || format!("items[{index}]"))?;
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
    let key = to_string(&key, &format!("{arg} name"))?;
    let data = to_opt_map(&data, &format!("{arg} data"))?.unwrap_or_default();
    let meta = unit_meta_from_js(&meta, &format!("{arg} meta"))?;
    let value = Value::List(vec![
        Value::String(key),
        Value::Map(data),
        coordinate::unit_meta_value(&meta),
    ]);
    coordinate::parse_add_work_unit(&value, now).map_err(to_js)
}

fn item_type_error(v: &JsValue, arg: &str) -> JsValue {
    type_error(format!(
        "{arg} must be a name, [name, data?, meta?] or {{key, data?, meta?}}, not {}",
        describe(v)
    ))
}

/// An `AddWorkUnitItem` as `{key, data, meta}`.
pub(crate) fn item_to_js(item: &AddWorkUnitItem) -> JsValue {
    record_to_js(item)
}

/// A summary as an Array of `{namespace, workSpec, status, count}`.
pub(crate) fn summary_to_js(summary: &Summary) -> Array {
    summary.iter().map(record_to_js).collect()
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
        let name = to_string(&key, &format!("{arg} key"))?;
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
