//! Conversions between JavaScript values and core values: data values and
//! maps, instants, durations, statuses, plain arguments and options objects.
//!
//! Every conversion names the argument it converts, so a wrong type throws
//! `TypeError("data: ...")`. The data mapping (docs/api.md, "Data values"):
//!
//! | core | JavaScript in | JavaScript out |
//! |---|---|---|
//! | null | `null`, `undefined` | `null` |
//! | bool | `boolean` | `boolean` |
//! | integer | a `number` that is a safe integer, a `BigInt` in i64 range | `number` within ±(2^53-1), else `BigInt` |
//! | float | any other `number` | `number` |
//! | string | `string` | `string` |
//! | bytes | `Uint8Array` (also a Node `Buffer`), `ArrayBuffer` | `Uint8Array` |
//! | list | `Array` | `Array` |
//! | map | plain object, `Map` with string keys | plain object |

use std::cell::RefCell;

use chrono::{DateTime, TimeDelta, Utc};
use coordinate::{AttemptStatus, Map, Value, WorkUnitStatus};
use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{range_error, to_js, type_error};
use crate::JsResult;

/// Data nested deeper than this is refused: it is almost surely a cycle, and
/// unbounded recursion would overflow the stack instead of throwing.
const MAX_DEPTH: usize = 200;

/// The largest integer a `number` holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE: i64 = (1 << 53) - 1;

/// "a string", "null", "a Date", ...: what a value is, for error messages.
pub(crate) fn describe(v: &JsValue) -> String {
    if v.is_null() {
        return "null".into();
    }
    if v.is_undefined() {
        return "undefined".into();
    }
    let kind = v.js_typeof().as_string().unwrap_or_default();
    if kind != "object" {
        return article(&kind);
    }
    let name = Reflect::get(v, &"constructor".into())
        .ok()
        .and_then(|c| Reflect::get(&c, &"name".into()).ok())
        .and_then(|n| n.as_string())
        .filter(|n| !n.is_empty());
    article(name.as_deref().unwrap_or("object"))
}

fn article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

fn is_nullish(v: &JsValue) -> bool {
    v.is_null_or_undefined()
}

/// A plain object: its prototype is `null` or a prototype-less object
/// (`Object.prototype` of any realm). Class instances, `Date`s, handles and
/// boxed primitives are not plain.
///
/// Four calls into JavaScript, for any value but `null` and `undefined`:
/// primitives, Arrays and functions have a prototype whose prototype is
/// `Object.prototype`, so they are not plain either.
pub(crate) fn is_plain_object(v: &JsValue) -> bool {
    if v.is_null_or_undefined() {
        return false;
    }
    let proto = Object::get_prototype_of(v);
    proto.is_null() || Object::get_prototype_of(&proto).is_null()
}

// ---------------------------------------------------------------- data values

/// A JavaScript value as a core `Value` (see the table above).
pub(crate) fn to_value(v: &JsValue, arg: &str) -> JsResult<Value> {
    value_at(v, arg, 0)
}

fn value_at(v: &JsValue, arg: &str, depth: usize) -> JsResult<Value> {
    if depth > MAX_DEPTH {
        return Err(range_error(format!(
            "{arg}: data nested more than {MAX_DEPTH} levels deep (is it cyclic?)"
        )));
    }
    if is_nullish(v) {
        return Ok(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(f) = v.as_f64() {
        return Ok(number_value(f));
    }
    if let Some(s) = text(v, arg)? {
        return Ok(Value::String(s));
    }
    if v.is_bigint() {
        return bigint(v, arg).map(Value::Int);
    }
    if Array::is_array(v) {
        let array: &Array = v.unchecked_ref();
        let mut items = Vec::with_capacity(array.length() as usize);
        for item in array.iter() {
            items.push(value_at(&item, arg, depth + 1)?);
        }
        return Ok(Value::List(items));
    }
    if let Some(bytes) = v.dyn_ref::<Uint8Array>() {
        return Ok(Value::Bytes(bytes.to_vec()));
    }
    if let Some(buffer) = v.dyn_ref::<ArrayBuffer>() {
        return Ok(Value::Bytes(Uint8Array::new(buffer).to_vec()));
    }
    if v.is_instance_of::<js_sys::Map>() || is_plain_object(v) {
        return map_at(v, arg, depth + 1).map(Value::Map);
    }
    Err(type_error(format!(
        "{arg}: {} cannot be stored in Coordinate data (use null, boolean, number, \
         BigInt, string, Uint8Array, Array, a plain object or a Map)",
        describe(v)
    )))
}

/// A safe integer is an integer; any other number (fractions, NaN, infinities,
/// integers too large to be exact) is a float.
fn number_value(f: f64) -> Value {
    if f.fract() == 0.0 && f.abs() <= MAX_SAFE as f64 {
        Value::Int(f as i64)
    } else {
        Value::Float(f)
    }
}

fn bigint(v: &JsValue, arg: &str) -> JsResult<i64> {
    i64::try_from(v.clone()).map_err(|_| {
        range_error(format!(
            "{arg}: BigInt {v:?} does not fit in 64 signed bits"
        ))
    })
}

/// The entries of a plain object or a `Map` with string keys.
fn map_at(v: &JsValue, arg: &str, depth: usize) -> JsResult<Map> {
    let mut map = Map::new();
    if let Some(m) = v.dyn_ref::<js_sys::Map>() {
        let mut failure = None;
        m.for_each(&mut |value, key| {
            if failure.is_some() {
                return;
            }
            let key = match text(&key, arg) {
                Ok(Some(key)) => key,
                Ok(None) => {
                    failure = Some(type_error(format!(
                        "{arg}: map keys must be strings, not {}",
                        describe(&key)
                    )));
                    return;
                }
                Err(e) => {
                    failure = Some(e);
                    return;
                }
            };
            match value_at(&value, arg, depth) {
                Ok(value) => {
                    map.insert(key, value);
                }
                Err(e) => failure = Some(e),
            }
        });
        return failure.map_or(Ok(map), Err);
    }
    for entry in Object::entries(v.unchecked_ref()).iter() {
        let entry: Array = entry.unchecked_into();
        let key = text(&entry.get(0), arg)?.unwrap_or_default();
        map.insert(key, value_at(&entry.get(1), arg, depth)?);
    }
    Ok(map)
}

/// A data map argument: a plain object or a `Map` with string keys.
pub(crate) fn to_map(v: &JsValue, arg: &str) -> JsResult<Map> {
    if v.is_instance_of::<js_sys::Map>() || is_plain_object(v) {
        map_at(v, arg, 1)
    } else {
        Err(type_error(format!(
            "{arg} must be a plain object or a Map, not {}",
            describe(v)
        )))
    }
}

/// An optional data map: `null` or `undefined` means "no data".
pub(crate) fn to_opt_map(v: &JsValue, arg: &str) -> JsResult<Option<Map>> {
    if is_nullish(v) {
        Ok(None)
    } else {
        to_map(v, arg).map(Some)
    }
}

/// An optional data map from an optional argument (`Option<JsValue>`, where
/// wasm-bindgen has already turned `null` and `undefined` into `None`).
pub(crate) fn opt_map(v: Option<JsValue>, arg: &str) -> JsResult<Option<Map>> {
    v.map(|v| to_map(&v, arg)).transpose()
}

/// A core value as a JavaScript value (see the table above).
pub(crate) fn from_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Int(i) => from_i64(*i),
        Value::Float(f) => JsValue::from_f64(*f),
        Value::String(s) => JsValue::from_str(s),
        Value::Bytes(b) => Uint8Array::from(b.as_slice()).into(),
        Value::List(items) => items.iter().map(from_value).collect::<Array>().into(),
        Value::Map(m) => from_map(m),
    }
}

/// A core data map as a plain object.
pub(crate) fn from_map(m: &Map) -> JsValue {
    let object = Object::new();
    for (k, v) in m {
        set(&object, k, &from_value(v));
    }
    object.into()
}

/// `object[key] = value` as an own data property, even for `"__proto__"`
/// (where plain assignment would replace the prototype instead).
pub(crate) fn set(object: &Object, key: &str, value: &JsValue) {
    if key == "__proto__" {
        let descriptor = Object::new();
        for (k, v) in [
            ("value", value.clone()),
            ("writable", JsValue::TRUE),
            ("enumerable", JsValue::TRUE),
            ("configurable", JsValue::TRUE),
        ] {
            let _ = Reflect::set(&descriptor, &k.into(), &v);
        }
        Object::define_property(object, &key.into(), &descriptor);
    } else {
        let _ = Reflect::set(object, &key.into(), value);
    }
}

/// An integer as a `number` when it is exact there, else a `BigInt`.
pub(crate) fn from_i64(i: i64) -> JsValue {
    if (-MAX_SAFE..=MAX_SAFE).contains(&i) {
        JsValue::from_f64(i as f64)
    } else {
        JsValue::from(i)
    }
}

// ------------------------------------------------------------------ plain args

#[wasm_bindgen(inline_js = r#"
export function loneSurrogate(s) {
  const m = /\p{Cs}/u.exec(s);
  return m === null ? -1 : m.index;
}
"#)]
extern "C" {
    /// The index of the first lone surrogate of the string `s`, or -1.
    #[wasm_bindgen(js_name = loneSurrogate)]
    fn lone_surrogate(s: &JsValue) -> i32;
}

/// `v` as a Rust string when it is a JavaScript string (`None` when it is
/// not one). A string with a lone surrogate (half of a UTF-16 pair, e.g.
/// `"\ud800"`) is not Unicode text and has no UTF-8 form: it throws
/// `TypeError` naming `arg`, as Python refuses one (`surrogates not
/// allowed`), instead of becoming U+FFFD and silently equal to every other
/// such string. Costs nothing extra for strings without U+FFFD.
pub(crate) fn text(v: &JsValue, arg: &str) -> JsResult<Option<String>> {
    let Some(s) = v.as_string() else {
        return Ok(None);
    };
    check_text(v, &s, || arg.to_owned())?;
    Ok(Some(s))
}

/// `text`'s check of `s`, converted from the string `v`; `arg` is only
/// formatted when the check fails.
pub(crate) fn check_text(v: &JsValue, s: &str, arg: impl FnOnce() -> String) -> JsResult<()> {
    if !s.contains('\u{FFFD}') {
        return Ok(());
    }
    let at = lone_surrogate(v);
    if at < 0 {
        return Ok(());
    }
    let unit = js_sys::JsString::from(v.clone()).char_code_at(at as u32);
    Err(type_error(format!(
        "{}: the string has a lone surrogate ('\\u{:x}' at index {at}): \
         surrogates not allowed (strings must be valid Unicode)",
        arg(),
        unit as u32
    )))
}

/// A `string` argument.
pub(crate) fn to_string(v: &JsValue, arg: &str) -> JsResult<String> {
    text(v, arg)?.ok_or_else(|| type_error(format!("{arg} must be a string, not {}", describe(v))))
}

/// An Array of strings (a bare string is refused, not split into characters).
pub(crate) fn to_strings(v: &JsValue, arg: &str) -> JsResult<Vec<String>> {
    if !Array::is_array(v) {
        return Err(type_error(format!(
            "{arg} must be an Array of strings, not {}",
            describe(v)
        )));
    }
    let array: &Array = v.unchecked_ref();
    array
        .iter()
        .map(|item| {
            text(&item, arg)?.ok_or_else(|| {
                type_error(format!(
                    "{arg} must be an Array of strings, but holds {}",
                    describe(&item)
                ))
            })
        })
        .collect()
}

/// A `number` argument (a `BigInt` is accepted and converted).
pub(crate) fn to_f64(v: &JsValue, arg: &str) -> JsResult<f64> {
    if let Some(f) = v.as_f64() {
        return Ok(f);
    }
    if v.is_bigint() {
        return bigint(v, arg).map(|i| i as f64);
    }
    Err(type_error(format!(
        "{arg} must be a number, not {}",
        describe(v)
    )))
}

/// An integer argument: an integral `number` or a `BigInt`, within i64.
pub(crate) fn to_i64(v: &JsValue, arg: &str) -> JsResult<i64> {
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(&f) => {
            Ok(f as i64)
        }
        Some(f) => Err(range_error(format!("{arg} must be an integer, not {f}"))),
        None if v.is_bigint() => bigint(v, arg),
        None => Err(type_error(format!(
            "{arg} must be an integer (number or BigInt), not {}",
            describe(v)
        ))),
    }
}

/// A seed: a non-negative integer below 2^53 as a `number`, or any `BigInt`
/// in u64 range.
pub(crate) fn to_seed(v: &JsValue, arg: &str) -> JsResult<u64> {
    if v.is_bigint() {
        return u64::try_from(v.clone())
            .map_err(|_| range_error(format!("{arg}: BigInt {v:?} is not in 0..2^64")));
    }
    match v.as_f64() {
        Some(f) if f.fract() == 0.0 && (0.0..=MAX_SAFE as f64).contains(&f) => Ok(f as u64),
        Some(f) => Err(range_error(format!(
            "{arg} must be an integer in 0..2^53 (or a BigInt), not {f}"
        ))),
        None => Err(type_error(format!(
            "{arg} must be a number or a BigInt, not {}",
            describe(v)
        ))),
    }
}

/// A unit priority (or adjustment): a number, not NaN (`BadPriorityError`);
/// ±Infinity is allowed.
pub(crate) fn to_priority(v: &JsValue, arg: &str) -> JsResult<f64> {
    coordinate::check_priority(to_f64(v, arg)?).map_err(to_js)
}

/// A `boolean` argument.
pub(crate) fn to_bool(v: &JsValue, arg: &str) -> JsResult<bool> {
    v.as_bool()
        .ok_or_else(|| type_error(format!("{arg} must be a boolean, not {}", describe(v))))
}

// --------------------------------------------------------------- time values

/// A `Date` as an instant.
pub(crate) fn to_instant(v: &JsValue, arg: &str) -> JsResult<DateTime<Utc>> {
    let Some(date) = v.dyn_ref::<js_sys::Date>() else {
        return Err(type_error(format!(
            "{arg} must be a Date, not {}",
            describe(v)
        )));
    };
    let ms = date.get_time();
    if ms.is_nan() {
        return Err(range_error(format!("{arg} is an invalid Date")));
    }
    let t = DateTime::from_timestamp_millis(ms as i64)
        .ok_or_else(|| range_error(format!("{arg} is out of range")))?;
    coordinate::check_instant(t, arg).map_err(to_js)
}

/// A `Date`, or `null`/`undefined` for "no time".
pub(crate) fn to_opt_instant(v: &JsValue, arg: &str) -> JsResult<Option<DateTime<Utc>>> {
    if is_nullish(v) {
        Ok(None)
    } else {
        to_instant(v, arg).map(Some)
    }
}

/// An instant as a `Date` (millisecond precision).
pub(crate) fn from_instant(t: DateTime<Utc>) -> JsValue {
    js_sys::Date::new(&JsValue::from_f64(t.timestamp_millis() as f64)).into()
}

/// An instant as a `Date`, "no time" as `null`.
pub(crate) fn from_opt_instant(t: Option<DateTime<Utc>>) -> JsValue {
    t.map_or(JsValue::NULL, from_instant)
}

/// A duration in milliseconds (fractions allowed) in the core's valid
/// range (|d| <= 10^12 ms): NaN, infinities and values beyond it throw
/// `OutOfRangeError` naming `arg`.
pub(crate) fn to_duration(v: &JsValue, arg: &str) -> JsResult<TimeDelta> {
    let ms = to_f64(v, arg)?;
    coordinate::try_millis(ms, arg).map_err(to_js)
}

/// An optional duration from an optional argument: `None` is 0.
pub(crate) fn opt_duration(v: Option<JsValue>, arg: &str) -> JsResult<TimeDelta> {
    v.map_or(Ok(TimeDelta::zero()), |v| to_duration(&v, arg))
}

/// A duration as a `number` of milliseconds.
pub(crate) fn from_duration(d: TimeDelta) -> JsValue {
    let ms = d
        .num_nanoseconds()
        .map_or(d.num_milliseconds() as f64, |ns| ns as f64 / 1e6);
    JsValue::from_f64(ms)
}

// ------------------------------------------------------------------- statuses

/// A work unit status from its text form (`"available"`).
pub(crate) fn to_unit_status(v: &JsValue, arg: &str) -> JsResult<WorkUnitStatus> {
    to_string(v, arg)?.parse().map_err(to_js)
}

/// An attempt status from its text form (`"pending"`).
pub(crate) fn to_attempt_status(v: &JsValue, arg: &str) -> JsResult<AttemptStatus> {
    to_string(v, arg)?.parse().map_err(to_js)
}

// ------------------------------------------------------------ options objects

// Reading an options object key by key from Rust costs a call into
// JavaScript per check, and with panic=unwind each such call is wrapped in
// an exception guard; this helper reads the whole object in one call and
// hands back only the values present.
#[wasm_bindgen(inline_js = r#"
let values = [];
let unknown = '';
// -1: not a plain object; -2: a key not in `keys` (see unknownOption);
// else the bit mask of the keys whose value is neither undefined nor null.
// Reentrant: a getter (or a Proxy trap) of `obj` may call the API, which
// reads its own options here; so the values go to a local array, which
// becomes the shared one only after the last user code of `obj` has run,
// and Rust takes them all (optionValue) before running any other.
export function readOptions(obj, keys) {
  const proto = Object.getPrototypeOf(obj);
  if (proto !== null && Object.getPrototypeOf(proto) !== null) return -1;
  const local = [];
  let mask = 0;
  for (const key of Object.keys(obj)) {
    const i = keys.indexOf(key);
    if (i < 0) {
      unknown = key;
      return -2;
    }
    const value = obj[key];
    local[i] = value;
    if (value !== undefined && value !== null) mask |= 1 << i;
  }
  values = local;
  return mask;
}
export function optionValue(i) {
  const value = values[i];
  values[i] = undefined;
  return value;
}
export function unknownOption() {
  return unknown;
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = readOptions)]
    fn read_options(obj: &JsValue, keys: &JsValue) -> i32;
    #[wasm_bindgen(js_name = optionValue)]
    fn option_value(i: u32) -> JsValue;
    #[wasm_bindgen(js_name = unknownOption)]
    fn unknown_option() -> String;
}

thread_local! {
    // The JS Array of each call site's option names, made once.
    static KEY_ARRAYS: RefCell<Vec<(usize, JsValue)>> = const { RefCell::new(Vec::new()) };
}

fn key_array(keys: &'static [&'static str]) -> JsValue {
    let id = keys.as_ptr() as usize;
    KEY_ARRAYS.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some((_, array)) = cache.iter().find(|(k, _)| *k == id) {
            return array.clone();
        }
        let array: JsValue = keys
            .iter()
            .map(|k| JsValue::from_str(k))
            .collect::<Array>()
            .into();
        cache.push((id, array.clone()));
        array
    })
}

/// An options object (`{numberOfWorkUnits, workSpecs}`): `undefined` or `null`
/// means every option takes its default; a key that is not an option of the
/// call is a `TypeError` (it is almost surely a typo). `null` or `undefined`
/// as a value means the option's default.
pub(crate) struct Options {
    keys: &'static [&'static str],
    /// By key position; `None` for absent, `undefined` or `null`.
    values: Vec<Option<JsValue>>,
}

impl Options {
    pub(crate) fn new(v: &JsValue, arg: &str, keys: &'static [&'static str]) -> JsResult<Options> {
        debug_assert!(keys.len() <= 31);
        let mut values = Vec::new();
        if is_nullish(v) {
            return Ok(Options { keys, values });
        }
        let mask = read_options(v, &key_array(keys));
        if mask == -1 {
            return Err(type_error(format!(
                "{arg} must be a plain object, not {}",
                describe(v)
            )));
        }
        if mask == -2 {
            return Err(type_error(format!(
                "{arg}: unknown option {:?} (expected one of: {})",
                unknown_option(),
                keys.join(", ")
            )));
        }
        for i in 0..keys.len() {
            if mask & (1 << i) != 0 {
                values.resize(i, None);
                values.push(Some(option_value(i as u32)));
            }
        }
        Ok(Options { keys, values })
    }

    /// `new` for an optional argument: `None` (`null`, `undefined`) costs no
    /// call into JavaScript.
    pub(crate) fn of(
        v: Option<JsValue>,
        arg: &str,
        keys: &'static [&'static str],
    ) -> JsResult<Options> {
        match v {
            None => Ok(Options {
                keys,
                values: Vec::new(),
            }),
            Some(v) => Options::new(&v, arg, keys),
        }
    }

    /// The option's value; `undefined` when absent or `null`.
    pub(crate) fn get(&self, key: &str) -> JsValue {
        self.keys
            .iter()
            .position(|k| *k == key)
            .and_then(|i| self.values.get(i).cloned().flatten())
            .unwrap_or(JsValue::UNDEFINED)
    }

    /// The option converted by `f`, or `None` when absent, `undefined` or `null`.
    pub(crate) fn map<T>(
        &self,
        key: &str,
        f: impl FnOnce(&JsValue, &str) -> JsResult<T>,
    ) -> JsResult<Option<T>> {
        let i = self.keys.iter().position(|k| *k == key);
        match i.and_then(|i| self.values.get(i)) {
            Some(Some(v)) => f(v, key).map(Some),
            _ => Ok(None),
        }
    }
}

/// Builds a plain object from `(key, value)` pairs (for records).
pub(crate) fn object(pairs: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    for (k, v) in pairs {
        set(&object, k, v);
    }
    object.into()
}
