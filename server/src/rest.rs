//! Go coordinate's REST protocol (REST-PROTOCOL.md), as one adapter: each
//! route becomes operations ([`Op`]) on the daemon's backend. No scheduling,
//! status, expiry or chaining rule lives here; the adapter only resolves
//! names to store ids, converts JSON to values and renders replies.
//!
//! Differences from Go's server, all allowed by the protocol document:
//! attempt URLs end in the attempt's store id (unique and stable, §9); a
//! missing work unit in a path is 404 (Go: 400); `previous` is name-decoded
//! (§10); bad `status`/`limit` query values are 400 (Go: 500); a `parent`
//! key in a worker PUT only sets the parent (§6.6); times are emitted in UTC.

use std::str::FromStr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use coordinate::backend::{AttemptRef, NsRef, Op, Reply, SpecRef, UnitRef, WorkerRef};
use coordinate::{
    AttemptRequest, Backend, Error, Map, Summary, Value, WorkSpecMeta, WorkUnitMeta, WorkUnitQuery,
    WorkUnitStatus,
};
use serde_json::{json, Map as JMap, Value as J};

use crate::daemon::{store_work, App, Flavor, Refusal, RouteLabel, INLINE_BODY_BYTES};
use crate::wire::json_depth;

/// The preferred media type; every response body is sent with it.
pub(crate) const V1_JSON: &str = "application/vnd.diffeo.coordinate.v1+json";

/// The four media types Go treats as the same JSON.
const JSON_TYPES: [&str; 4] = [
    V1_JSON,
    "application/vnd.diffeo.coordinate+json",
    "application/json",
    "text/json",
];

/// Go's ErrorResponse: `{"error", "message", "value"?}` (plus our `code`).
pub(crate) fn error_response(
    status: StatusCode,
    error: &str,
    message: &str,
    value: Option<&str>,
) -> Response {
    let mut body = JMap::new();
    body.insert("error".into(), J::from(error));
    body.insert("message".into(), J::from(message));
    if let Some(v) = value {
        body.insert("value".into(), J::from(v));
    }
    json_response(status, V1_JSON, Some(&J::Object(body)), None)
}

fn json_response(
    status: StatusCode,
    media: &'static str,
    body: Option<&J>,
    location: Option<&str>,
) -> Response {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap_or_default());
    let mut response = (status, bytes.unwrap_or_default()).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    if let Some(l) = location.and_then(|l| HeaderValue::from_str(l).ok()) {
        headers.insert(header::LOCATION, l);
    }
    response
}

/// Why a route failed: a Coordinate error, or a protocol-level one.
#[derive(Debug)]
enum Fail {
    Core(Error),
    Status(StatusCode, String),
}

impl From<Error> for Fail {
    fn from(e: Error) -> Self {
        Fail::Core(e)
    }
}

fn bad(message: impl Into<String>) -> Fail {
    Fail::Status(StatusCode::BAD_REQUEST, message.into())
}

/// Go's error code for a Coordinate error, and the `value` it carries.
fn go_code(e: &Error) -> (&'static str, Option<&str>) {
    match e {
        Error::NoSuchWorkSpec { name } => ("ErrNoSuchWorkSpec", Some(name)),
        Error::NoSuchWorkUnit { name } => ("ErrNoSuchWorkUnit", Some(name)),
        Error::Gone => ("ErrGone", None),
        Error::LostLease => ("ErrLostLease", None),
        Error::NotPending => ("ErrNotPending", None),
        Error::NoWork => ("ErrNoWork", None),
        Error::CannotBecomeContinuous => ("ErrCannotBecomeContinuous", None),
        Error::ChangedName => ("ErrChangedName", None),
        Error::NoWorkSpecName => ("ErrNoWorkSpecName", None),
        Error::BadWorkSpecName => ("ErrBadWorkSpecName", None),
        Error::WrongBackend => ("ErrWrongBackend", None),
        Error::WorkUnitNotList => ("ErrWorkUnitNotList", None),
        Error::WorkUnitTooShort => ("ErrWorkUnitTooShort", None),
        Error::BadPriority => ("ErrBadPriority", None),
        Error::Unauthorized => ("Unauthorized", None),
        _ => ("error", None),
    }
}

fn fail_response(f: Fail) -> Response {
    match f {
        Fail::Core(e) => {
            let status = match &e {
                Error::NoSuchWorkSpec { .. } | Error::NoSuchWorkUnit { .. } => {
                    StatusCode::NOT_FOUND
                }
                Error::NoWorkSpecName
                | Error::BadWorkSpecName
                | Error::OutOfRange { .. }
                | Error::InvalidArgument { .. } => StatusCode::BAD_REQUEST,
                Error::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
                Error::Capacity { .. } => StatusCode::INSUFFICIENT_STORAGE,
                Error::Unauthorized => StatusCode::UNAUTHORIZED,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let (code, value) = go_code(&e);
            error_response(status, code, &e.to_string(), value)
        }
        Fail::Status(status, message) => error_response(status, "error", &message, None),
    }
}

// ---------------------------------------------------------------- names

/// A name as a path segment: as is when safe, else `-` + base64url.
pub(crate) fn encode_name(name: &str) -> String {
    let safe = !name.is_empty()
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b));
    if safe {
        name.to_owned()
    } else {
        format!("-{}", URL_SAFE_NO_PAD.encode(name))
    }
}

/// A path segment (already percent-decoded) back to a name.
pub(crate) fn decode_name(segment: &str) -> Result<String, String> {
    match segment.strip_prefix('-') {
        None => Ok(segment.to_owned()),
        Some(b64) => {
            let bytes = URL_SAFE_NO_PAD
                .decode(b64.trim_end_matches('='))
                .map_err(|e| format!("illegal base64 data: {e}"))?;
            String::from_utf8(bytes).map_err(|_| "names must be UTF-8 text".to_owned())
        }
    }
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| format!("bad percent-encoding in {s:?}"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("path segment {s:?} is not UTF-8"))
}

// ---------------------------------------------------------------- links

fn ns_url(ns: &str) -> String {
    format!("/namespace/{}", encode_name(ns))
}
fn spec_url(ns: &str, spec: &str) -> String {
    format!("{}/work_spec/{}", ns_url(ns), encode_name(spec))
}
fn unit_url(u: &UnitRef) -> String {
    format!(
        "{}/work_unit/{}",
        spec_url(&u.spec.ns.name, &u.spec.name),
        encode_name(&u.name)
    )
}
fn worker_url(w: &WorkerRef) -> String {
    format!("{}/worker/{}", ns_url(&w.ns.name), encode_name(&w.name))
}
fn attempt_url(a: &AttemptRef) -> String {
    format!(
        "{}/attempt/{}/{}",
        unit_url(&a.unit),
        encode_name(&a.worker.name),
        a.id
    )
}

const QUERY_TEMPLATE: &str = "{?name*,status*,previous,limit}";

// ---------------------------------------------------------------- JSON values

fn time_json(t: Option<DateTime<Utc>>) -> J {
    match t {
        Some(t) => J::from(t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
        None => J::Null,
    }
}

fn nanos(d: TimeDelta) -> i64 {
    d.num_nanoseconds().unwrap_or(if d < TimeDelta::zero() {
        i64::MIN
    } else {
        i64::MAX
    })
}

fn value_to_json(v: &Value) -> J {
    match v {
        Value::Null => J::Null,
        Value::Bool(b) => J::Bool(*b),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::String(s) => J::from(s.as_str()),
        Value::Bytes(b) => J::from(STANDARD.encode(b)),
        Value::List(items) => J::Array(items.iter().map(value_to_json).collect()),
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), value_to_json(v)))
                .collect(),
        ),
    }
}

/// Whether JSON cannot carry the value (bytes, NaN, infinities).
fn needs_cbor(v: &Value) -> bool {
    match v {
        Value::Bytes(_) => true,
        Value::Float(f) => !f.is_finite(),
        Value::List(items) => items.iter().any(needs_cbor),
        Value::Map(m) => m.values().any(needs_cbor),
        _ => false,
    }
}

fn value_to_cbor(v: &Value) -> ciborium::Value {
    use ciborium::Value as C;
    match v {
        Value::Null => C::Null,
        Value::Bool(b) => C::Bool(*b),
        Value::Int(i) => C::Integer((*i).into()),
        Value::Float(f) => C::Float(*f),
        Value::String(s) => C::Text(s.clone()),
        Value::Bytes(b) => C::Bytes(b.clone()),
        Value::List(items) => C::Array(items.iter().map(value_to_cbor).collect()),
        Value::Map(m) => C::Map(
            m.iter()
                .map(|(k, v)| (C::Text(k.clone()), value_to_cbor(v)))
                .collect(),
        ),
    }
}

fn value_from_cbor(c: ciborium::Value) -> Result<Value, String> {
    use ciborium::Value as C;
    Ok(match c {
        C::Null => Value::Null,
        C::Bool(b) => Value::Bool(b),
        C::Integer(i) => Value::Int(
            i64::try_from(i128::from(i)).map_err(|_| "a CBOR integer does not fit in 64 bits")?,
        ),
        C::Float(f) => Value::Float(f),
        C::Text(s) => Value::String(s),
        C::Bytes(b) => Value::Bytes(b),
        C::Array(items) => Value::List(
            items
                .into_iter()
                .map(value_from_cbor)
                .collect::<Result<_, _>>()?,
        ),
        C::Map(pairs) => Value::Map(cbor_map(pairs)?),
        // 128: a Python tuple (a list here); 37: a UUID (its 16 bytes).
        C::Tag(_, inner) => value_from_cbor(*inner)?,
        _ => return Err("unsupported CBOR value".into()),
    })
}

fn cbor_map(pairs: Vec<(ciborium::Value, ciborium::Value)>) -> Result<Map, String> {
    let mut m = Map::new();
    for (k, v) in pairs {
        let key = match k {
            ciborium::Value::Text(s) => s,
            ciborium::Value::Bytes(b) => {
                String::from_utf8(b).map_err(|_| "a CBOR map key is not UTF-8")?
            }
            _ => return Err("CBOR map keys must be strings".into()),
        };
        m.insert(key, value_from_cbor(v)?);
    }
    Ok(m)
}

/// A data dictionary for JSON: an object, or the base64 CBOR string when
/// JSON cannot carry it (REST-PROTOCOL.md §3.5).
fn data_json(m: &Map) -> J {
    if m.values().any(needs_cbor) {
        let mut bytes = Vec::new();
        let cbor = ciborium::Value::Map(
            m.iter()
                .map(|(k, v)| (ciborium::Value::Text(k.clone()), value_to_cbor(v)))
                .collect(),
        );
        if ciborium::into_writer(&cbor, &mut bytes).is_ok() {
            return J::from(STANDARD.encode(bytes));
        }
    }
    J::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), value_to_json(v)))
            .collect(),
    )
}

fn value_from_json(j: &J) -> Result<Value, String> {
    Ok(match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if !n.is_f64() => Value::Int(i),
            (_, Some(f)) if n.is_f64() => Value::Float(f),
            _ => return Err(format!("the number {n} does not fit in 64 signed bits")),
        },
        J::String(s) => Value::String(s.clone()),
        J::Array(items) => Value::List(
            items
                .iter()
                .map(value_from_json)
                .collect::<Result<_, _>>()?,
        ),
        J::Object(o) => Value::Map(json_map(o)?),
    })
}

fn json_map(o: &JMap<String, J>) -> Result<Map, String> {
    o.iter()
        .map(|(k, v)| Ok((k.clone(), value_from_json(v)?)))
        .collect()
}

/// A data dictionary from JSON: `None` for absent or null.
fn data_from(body: &J, key: &str, max_depth: usize) -> Result<Option<Map>, Fail> {
    match body.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(J::Object(o)) => json_map(o).map(Some).map_err(bad),
        Some(J::String(s)) => {
            let bytes = STANDARD
                .decode(s)
                .map_err(|e| bad(format!("{key}: not base64 CBOR: {e}")))?;
            let cbor: ciborium::Value =
                ciborium::de::from_reader_with_recursion_limit(&bytes[..], max_depth)
                    .map_err(|e| bad(format!("{key}: bad CBOR: {e}")))?;
            match cbor {
                ciborium::Value::Map(pairs) => cbor_map(pairs).map(Some).map_err(bad),
                _ => Err(bad(format!("{key}: CBOR data must be a map"))),
            }
        }
        Some(_) => Err(bad(format!(
            "{key} must be an object or a base64 CBOR string"
        ))),
    }
}

fn int_field(body: &J, key: &str) -> Result<i64, Fail> {
    match body.get(key) {
        None | Some(J::Null) => Ok(0),
        Some(J::Number(n)) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
            .ok_or_else(|| bad(format!("{key} must be a 64-bit integer"))),
        Some(_) => Err(bad(format!("{key} must be an integer"))),
    }
}

fn float_field(body: &J, key: &str) -> Result<f64, Fail> {
    match body.get(key) {
        None | Some(J::Null) => Ok(0.0),
        Some(J::Number(n)) => n.as_f64().ok_or_else(|| bad(format!("{key}: bad number"))),
        Some(_) => Err(bad(format!("{key} must be a number"))),
    }
}

fn bool_field(body: &J, key: &str) -> Result<bool, Fail> {
    match body.get(key) {
        None | Some(J::Null) => Ok(false),
        Some(J::Bool(b)) => Ok(*b),
        Some(_) => Err(bad(format!("{key} must be a boolean"))),
    }
}

fn text_field(body: &J, key: &str) -> Result<String, Fail> {
    match body.get(key) {
        None | Some(J::Null) => Ok(String::new()),
        Some(J::String(s)) => Ok(s.clone()),
        Some(_) => Err(bad(format!("{key} must be a string"))),
    }
}

fn texts_field(body: &J, key: &str) -> Result<Vec<String>, Fail> {
    match body.get(key) {
        None | Some(J::Null) => Ok(Vec::new()),
        Some(J::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad(format!("{key} must be a list of strings")))
            })
            .collect(),
        Some(_) => Err(bad(format!("{key} must be a list of strings"))),
    }
}

fn duration_field(body: &J, key: &str) -> Result<TimeDelta, Fail> {
    Ok(TimeDelta::nanoseconds(int_field(body, key)?))
}

/// A time: RFC 3339, or absent, null or Go's zero time for "no time".
fn time_field(body: &J, key: &str) -> Result<Option<DateTime<Utc>>, Fail> {
    match body.get(key) {
        None | Some(J::Null) => Ok(None),
        Some(J::String(s)) => {
            let t = DateTime::parse_from_rfc3339(s)
                .map_err(|e| bad(format!("{key}: {s:?} is not an RFC 3339 time: {e}")))?
                .with_timezone(&Utc);
            let zero = DateTime::parse_from_rfc3339("0001-01-01T00:00:00Z")
                .map(|z| z.with_timezone(&Utc))
                .ok();
            Ok((Some(t) != zero).then_some(t))
        }
        Some(_) => Err(bad(format!("{key} must be a time string"))),
    }
}

fn unit_meta_from(j: &J) -> Result<WorkUnitMeta, Fail> {
    Ok(WorkUnitMeta {
        priority: float_field(j, "priority")?,
        not_before: time_field(j, "not_before")?,
    })
}

fn unit_meta_json(m: &WorkUnitMeta) -> J {
    json!({"priority": m.priority, "not_before": time_json(m.not_before)})
}

fn spec_meta_json(m: &WorkSpecMeta) -> J {
    let mut o = JMap::new();
    o.insert("priority".into(), J::from(m.priority));
    o.insert("weight".into(), J::from(m.weight));
    o.insert("paused".into(), J::from(m.paused));
    o.insert("continuous".into(), J::from(m.continuous));
    o.insert("can_be_continuous".into(), J::from(m.can_be_continuous));
    if m.min_memory_gb != 0.0 {
        o.insert(
            "min_memory_gb".into(),
            serde_json::Number::from_f64(m.min_memory_gb).map_or(J::Null, J::Number),
        );
    }
    o.insert("interval".into(), J::from(nanos(m.interval)));
    o.insert("next_continuous".into(), time_json(m.next_continuous));
    o.insert("max_running".into(), J::from(m.max_running));
    o.insert(
        "max_attempts_returned".into(),
        J::from(m.max_attempts_returned),
    );
    o.insert("max_retries".into(), J::from(m.max_retries));
    o.insert(
        "next_work_spec_name".into(),
        J::from(m.next_work_spec_name.as_str()),
    );
    o.insert("available_count".into(), J::from(m.available_count));
    o.insert("pending_count".into(), J::from(m.pending_count));
    o.insert("runtime".into(), J::from(m.runtime.as_str()));
    J::Object(o)
}

fn spec_meta_from(j: &J) -> Result<WorkSpecMeta, Fail> {
    Ok(WorkSpecMeta {
        priority: int_field(j, "priority")?,
        weight: int_field(j, "weight")?,
        paused: bool_field(j, "paused")?,
        continuous: bool_field(j, "continuous")?,
        can_be_continuous: bool_field(j, "can_be_continuous")?,
        min_memory_gb: float_field(j, "min_memory_gb")?,
        interval: duration_field(j, "interval")?,
        next_continuous: time_field(j, "next_continuous")?,
        max_running: int_field(j, "max_running")?,
        max_attempts_returned: int_field(j, "max_attempts_returned")?,
        max_retries: int_field(j, "max_retries")?,
        next_work_spec_name: text_field(j, "next_work_spec_name")?,
        available_count: int_field(j, "available_count")?,
        pending_count: int_field(j, "pending_count")?,
        runtime: text_field(j, "runtime")?,
    })
}

fn summary_json(s: &Summary) -> J {
    J::Array(
        s.iter()
            .map(|r| {
                json!({"Namespace": r.namespace, "WorkSpec": r.work_spec,
                       "Status": r.status.as_str(), "Count": r.count})
            })
            .collect(),
    )
}

// ---------------------------------------------------------------- routes

/// A route of the protocol, with its path names decoded.
#[derive(Debug)]
enum Route {
    Root,
    Summary,
    Namespaces,
    Namespace(String),
    NsSummary(String),
    Specs(String),
    Spec(String, String),
    Meta(String, String),
    Counts(String, String),
    Change(String, String),
    Adjust(String, String),
    SpecSummary(String, String),
    Units(String, String),
    Unit(String, String, String),
    UnitAttempts(String, String, String),
    NumAttempts(String, String, String),
    NoHandler(&'static str),
    Attempt(String, String, String, String, String),
    AttemptAction(String, String, String, String, String, Action),
    Worker(String, String),
    RequestAttempts(String, String),
    MakeAttempt(String, String),
    WorkerAttempts(String, String, WorkerList),
}

#[derive(Clone, Copy, Debug)]
enum Action {
    Renew,
    Expire,
    Finish,
    Fail,
    Retry,
}

#[derive(Clone, Copy, Debug)]
enum WorkerList {
    Active,
    All,
    Child,
}

impl Route {
    fn parse(path: &str) -> Result<Option<Route>, Fail> {
        let trimmed = path.strip_prefix('/').unwrap_or(path);
        let raw: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('/').collect()
        };
        if raw.iter().any(|s| s.is_empty()) {
            return Ok(None);
        }
        let seg: Vec<String> = raw
            .iter()
            .map(|s| percent_decode(s))
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        let n = |i: usize| decode_name(&seg[i]).map_err(bad);
        let s: Vec<&str> = seg.iter().map(String::as_str).collect();
        Ok(Some(match s.as_slice() {
            [] => Route::Root,
            ["summary"] => Route::Summary,
            ["namespace"] => Route::Namespaces,
            ["namespace", _] => Route::Namespace(n(1)?),
            ["namespace", _, "summary"] => Route::NsSummary(n(1)?),
            ["namespace", _, "work_spec"] => Route::Specs(n(1)?),
            ["namespace", _, "worker"] => Route::NoHandler("/namespace/{ns}/worker"),
            ["namespace", _, "worker", _] => Route::Worker(n(1)?, n(3)?),
            ["namespace", _, "worker", _, tail] => {
                let (ns, w) = (n(1)?, n(3)?);
                match *tail {
                    "request_attempts" => Route::RequestAttempts(ns, w),
                    "make_attempt" => Route::MakeAttempt(ns, w),
                    "active_attempts" => Route::WorkerAttempts(ns, w, WorkerList::Active),
                    "all_attempts" => Route::WorkerAttempts(ns, w, WorkerList::All),
                    "child_attempts" => Route::WorkerAttempts(ns, w, WorkerList::Child),
                    _ => return Ok(None),
                }
            }
            ["namespace", _, "work_spec", _] => Route::Spec(n(1)?, n(3)?),
            ["namespace", _, "work_spec", _, tail] => {
                let (ns, sp) = (n(1)?, n(3)?);
                match *tail {
                    "meta" => Route::Meta(ns, sp),
                    "counts" => Route::Counts(ns, sp),
                    "change" => Route::Change(ns, sp),
                    "adjust" => Route::Adjust(ns, sp),
                    "summary" => Route::SpecSummary(ns, sp),
                    "work_unit" => Route::Units(ns, sp),
                    _ => return Ok(None),
                }
            }
            ["namespace", _, "work_spec", _, "work_unit", _] => Route::Unit(n(1)?, n(3)?, n(5)?),
            ["namespace", _, "work_spec", _, "work_unit", _, tail] => {
                let (ns, sp, u) = (n(1)?, n(3)?, n(5)?);
                match *tail {
                    "attempts" => Route::UnitAttempts(ns, sp, u),
                    "num-attempts" => Route::NumAttempts(ns, sp, u),
                    "attempt" => Route::NoHandler("…/work_unit/{unit}/attempt"),
                    _ => return Ok(None),
                }
            }
            ["namespace", _, "work_spec", _, "work_unit", _, "attempt", _, _] => {
                Route::Attempt(n(1)?, n(3)?, n(5)?, n(7)?, seg[8].clone())
            }
            ["namespace", _, "work_spec", _, "work_unit", _, "attempt", _, _, action] => {
                let action = match *action {
                    "renew" => Action::Renew,
                    "expire" => Action::Expire,
                    "finish" => Action::Finish,
                    "fail" => Action::Fail,
                    "retry" => Action::Retry,
                    _ => return Ok(None),
                };
                Route::AttemptAction(n(1)?, n(3)?, n(5)?, n(7)?, seg[8].clone(), action)
            }
            _ => return Ok(None),
        }))
    }

    /// The methods the route answers, and its label for the metrics.
    fn methods(&self) -> (&'static [Method], &'static str) {
        use Route::*;
        const G: &[Method] = &[Method::GET];
        const GP: &[Method] = &[Method::GET, Method::POST];
        const GD: &[Method] = &[Method::GET, Method::DELETE];
        const GU: &[Method] = &[Method::GET, Method::PUT];
        const GUD: &[Method] = &[Method::GET, Method::PUT, Method::DELETE];
        const GDP: &[Method] = &[Method::GET, Method::DELETE, Method::POST];
        const P: &[Method] = &[Method::POST];
        match self {
            Root => (G, "/"),
            Summary => (G, "/summary"),
            Namespaces => (GP, "/namespace"),
            Namespace(..) => (GD, "/namespace/{ns}"),
            NsSummary(..) => (G, "/namespace/{ns}/summary"),
            Specs(..) => (GP, "/namespace/{ns}/work_spec"),
            Spec(..) => (GUD, "…/work_spec/{spec}"),
            Meta(..) => (GU, "…/work_spec/{spec}/meta"),
            Counts(..) => (G, "…/work_spec/{spec}/counts"),
            Change(..) => (P, "…/work_spec/{spec}/change"),
            Adjust(..) => (P, "…/work_spec/{spec}/adjust"),
            SpecSummary(..) => (G, "…/work_spec/{spec}/summary"),
            Units(..) => (GDP, "…/work_spec/{spec}/work_unit"),
            Unit(..) => (GU, "…/work_unit/{unit}"),
            UnitAttempts(..) => (G, "…/work_unit/{unit}/attempts"),
            NumAttempts(..) => (G, "…/work_unit/{unit}/num-attempts"),
            NoHandler(label) => (&[], label),
            Attempt(..) => (G, "…/attempt/{worker}/{id}"),
            AttemptAction(..) => (P, "…/attempt/{worker}/{id}/{action}"),
            Worker(..) => (GU, "/namespace/{ns}/worker/{worker}"),
            RequestAttempts(..) => (P, "…/worker/{worker}/request_attempts"),
            MakeAttempt(..) => (P, "…/worker/{worker}/make_attempt"),
            WorkerAttempts(..) => (G, "…/worker/{worker}/{list}_attempts"),
        }
    }
}

/// What a route answers on success.
struct Answer {
    status: StatusCode,
    body: Option<J>,
    location: Option<String>,
}

fn ok(body: J) -> Answer {
    Answer {
        status: StatusCode::OK,
        body: Some(body),
        location: None,
    }
}

fn created(body: J, location: String) -> Answer {
    Answer {
        status: StatusCode::CREATED,
        body: Some(body),
        location: Some(location),
    }
}

fn no_content() -> Answer {
    Answer {
        status: StatusCode::NO_CONTENT,
        body: None,
        location: None,
    }
}

/// Go's media negotiation: the response type, or 400/406.
fn negotiate(headers: &HeaderMap) -> Result<&'static str, Fail> {
    let Some(accept) = headers.get(header::ACCEPT) else {
        return Ok(V1_JSON);
    };
    let accept = accept
        .to_str()
        .map_err(|_| bad("malformed Accept header"))?;
    // (q, explicit, -index) of the best range so far, and its type.
    let mut best: Option<((f64, bool, isize), &'static str)> = None;
    for (index, range) in accept.split(',').enumerate() {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if media.is_empty() && accept.trim().is_empty() {
            return Ok(V1_JSON);
        }
        if !media.contains('/') {
            return Err(bad(format!("malformed Accept header {accept:?}")));
        }
        let mut q = 1.0;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                if k.trim().eq_ignore_ascii_case("q") {
                    q = v
                        .trim()
                        .parse::<f64>()
                        .map_err(|_| bad(format!("malformed Accept header {accept:?}")))?;
                }
            }
        }
        if q <= 0.0 {
            continue;
        }
        let chosen = match media.as_str() {
            "*/*" | "application/*" => Some((false, V1_JSON)),
            "text/*" => Some((false, "text/json")),
            m => JSON_TYPES.iter().find(|t| **t == m).map(|t| (true, *t)),
        };
        if let Some((explicit, t)) = chosen {
            let key = (q, explicit, -(index as isize));
            if best.is_none_or(|(b, _)| key > b) {
                best = Some((key, t));
            }
        }
    }
    best.map(|(_, t)| t).ok_or_else(|| {
        Fail::Status(
            StatusCode::NOT_ACCEPTABLE,
            format!("no acceptable media type in {accept:?}"),
        )
    })
}

fn body_media_ok(headers: &HeaderMap) -> Result<(), Fail> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if JSON_TYPES.contains(&media.as_str()) {
        Ok(())
    } else {
        Err(Fail::Status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("Unsupported media type {media:?}"),
        ))
    }
}

/// Serves one request of Go's protocol.
pub(crate) async fn handle(app: Arc<App>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut label = "unmatched";
    let response = match serve(&app, parts, body, &mut label).await {
        Ok(r) => r,
        Err(Served::Fail(f)) => fail_response(f),
        Err(Served::Refused(r)) => r.into_response(),
    };
    let mut response = response;
    response.extensions_mut().insert(RouteLabel(label));
    response
}

enum Served {
    Fail(Fail),
    Refused(Refusal),
}

impl From<Fail> for Served {
    fn from(f: Fail) -> Self {
        Served::Fail(f)
    }
}

impl From<Refusal> for Served {
    fn from(r: Refusal) -> Self {
        Served::Refused(r)
    }
}

async fn serve(
    app: &Arc<App>,
    parts: axum::http::request::Parts,
    body: Body,
    label: &mut &'static str,
) -> Result<Response, Served> {
    let media = negotiate(&parts.headers)?;
    let route = Route::parse(parts.uri.path())?.ok_or_else(|| {
        Fail::Status(
            StatusCode::NOT_FOUND,
            format!("no route {}", parts.uri.path()),
        )
    })?;
    let (methods, route_label) = route.methods();
    *label = route_label;
    let method = if parts.method == Method::HEAD {
        Method::GET
    } else {
        parts.method.clone()
    };
    if !methods.contains(&method) {
        return Err(Fail::Status(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method {} not allowed", parts.method),
        )
        .into());
    }
    let (json_body, body_len) = if method == Method::POST || method == Method::PUT {
        body_media_ok(&parts.headers)?;
        let bytes = app.read_body(body, Flavor::Rest).await?;
        if json_depth(&bytes) > app.max_depth {
            return Err(bad(format!(
                "the JSON body is nested deeper than {} levels",
                app.max_depth
            ))
            .into());
        }
        let j: J = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if !j.is_object() {
            return Err(bad("the JSON body must be an object").into());
        }
        (j, bytes.len())
    } else {
        (J::Null, 0)
    };
    let target = app.target(&parts.headers, Flavor::Rest)?;
    let query: Vec<(String, String)> =
        form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let max_depth = app.max_depth;
    let head = parts.method == Method::HEAD;
    let inline = !target.store.blocking() && body_len <= INLINE_BODY_BYTES;
    let answer = store_work(Flavor::Rest, inline, move || {
        Ok(target.store.run(target.mock_time, |b| {
            let cx = Cx { b, max_depth };
            cx.exec(route, &method, &query, &json_body)
        }))
    })
    .await?;
    let answer = answer?;
    let body = if head { None } else { answer.body.as_ref() };
    let mut response = json_response(answer.status, media, body, answer.location.as_deref());
    if head {
        if let Some(len) = answer
            .body
            .as_ref()
            .and_then(|b| serde_json::to_vec(b).ok())
        {
            response
                .headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len.len()));
        }
    }
    Ok(response)
}

/// One request's work on the backend.
struct Cx<'a> {
    b: &'a dyn Backend,
    max_depth: usize,
}

macro_rules! want {
    ($result:expr, $pat:pat => $out:expr) => {
        match $result {
            Ok($pat) => $out,
            Ok(other) => return Err(Fail::Core(other.unexpected())),
            Err(e) => return Err(Fail::from(e)),
        }
    };
}

fn time_of(r: coordinate::Result<Reply>) -> Result<Option<DateTime<Utc>>, Fail> {
    match r {
        Ok(Reply::Time(t)) => Ok(Some(t)),
        Ok(Reply::MaybeTime(t)) => Ok(t),
        Ok(other) => Err(Fail::Core(other.unexpected())),
        Err(e) => Err(e.into()),
    }
}

impl Cx<'_> {
    fn call(&self, op: Op) -> coordinate::Result<Reply> {
        self.b.call(op)
    }

    /// Runs `ops` as one batch; each result on its own.
    fn batch(&self, ops: Vec<Op>) -> Result<Vec<coordinate::Result<Reply>>, Fail> {
        let n = ops.len();
        let results = self.b.batch(ops)?;
        if results.len() != n {
            return Err(Fail::Core(Error::Storage {
                reason: format!("the store answered {} of {n} operations", results.len()),
            }));
        }
        Ok(results)
    }

    fn ns(&self, name: &str) -> Result<NsRef, Fail> {
        Ok(want!(self.call(Op::Namespace { name: name.to_owned() }), Reply::Namespace(n) => n))
    }

    fn spec(&self, ns: &str, name: &str) -> Result<SpecRef, Fail> {
        let ns = self.ns(ns)?;
        Ok(want!(self.call(Op::WorkSpec { ns: ns.id, name: name.to_owned() }), Reply::Spec(s) => s))
    }

    fn unit(&self, ns: &str, spec: &str, name: &str) -> Result<UnitRef, Fail> {
        let spec = self.spec(ns, spec)?;
        self.unit_of(&spec, name)
    }

    fn unit_of(&self, spec: &SpecRef, name: &str) -> Result<UnitRef, Fail> {
        Ok(
            want!(self.call(Op::WorkUnit { spec: spec.id, name: name.to_owned() }), Reply::Unit(u) => u),
        )
    }

    fn worker(&self, ns: &str, name: &str) -> Result<WorkerRef, Fail> {
        let ns = self.ns(ns)?;
        self.worker_in(&ns, name)
    }

    fn worker_in(&self, ns: &NsRef, name: &str) -> Result<WorkerRef, Fail> {
        match self.call(Op::Worker {
            ns: ns.id,
            name: name.to_owned(),
        }) {
            Ok(Reply::Worker(Some(w))) => Ok(w),
            Ok(other) => Err(Fail::Core(other.unexpected())),
            Err(e) => Err(e.into()),
        }
    }

    fn attempt(
        &self,
        ns: &str,
        spec: &str,
        unit: &str,
        worker: &str,
        id: &str,
    ) -> Result<AttemptRef, Fail> {
        let unit = self.unit(ns, spec, unit)?;
        let attempts =
            want!(self.call(Op::UnitAttempts { unit: unit.key() }), Reply::Attempts(v) => v);
        let id: Option<u64> = decode_name(id).ok().and_then(|s| s.parse().ok());
        attempts
            .into_iter()
            .find(|a| Some(a.id) == id && &*a.worker.name == worker)
            .ok_or_else(|| Fail::Status(StatusCode::NOT_FOUND, "no such attempt".into()))
    }

    fn query(&self, query: &[(String, String)]) -> Result<WorkUnitQuery, Fail> {
        let mut q = WorkUnitQuery::default();
        for (k, v) in query {
            match k.as_str() {
                "name" => q.names.get_or_insert_with(Vec::new).push(v.clone()),
                "status" => q.statuses.get_or_insert_with(Vec::new).push(
                    WorkUnitStatus::from_str(v)
                        .map_err(|_| bad(format!("status {v:?} is not a work unit status")))?,
                ),
                "previous" => q.previous_name = decode_name(v).map_err(bad)?,
                "limit" => {
                    q.limit = v
                        .parse()
                        .map_err(|_| bad(format!("limit {v:?} is not an integer")))?
                }
                _ => {}
            }
        }
        Ok(q)
    }

    fn namespace_json(&self, ns: &NsRef) -> J {
        let url = ns_url(&ns.name);
        json!({
            "url": url, "name": &*ns.name,
            "summary_url": format!("{url}/summary"),
            "work_specs_url": format!("{url}/work_spec"),
            "work_spec_url": format!("{url}/work_spec/{{spec}}"),
            "workers_url": format!("{url}/worker"),
            "worker_url": format!("{url}/worker/{{worker}}"),
        })
    }

    fn spec_json(&self, spec: &SpecRef) -> Result<J, Fail> {
        let data = want!(self.call(Op::SpecData { spec: spec.id }), Reply::Data(d) => d);
        let url = spec_url(&spec.ns.name, &spec.name);
        Ok(json!({
            "url": url, "name": &*spec.name, "data": data_json(&data),
            "summary_url": format!("{url}/summary"),
            "work_units_url": format!("{url}/work_unit"),
            "work_unit_query_url": format!("{url}/work_unit{QUERY_TEMPLATE}"),
            "work_unit_url": format!("{url}/work_unit/{{unit}}"),
            "work_unit_counts_url": format!("{url}/counts"),
            "work_unit_change_url": format!("{url}/change{QUERY_TEMPLATE}"),
            "work_unit_adjust_url": format!("{url}/adjust{QUERY_TEMPLATE}"),
            "meta": format!("{url}/meta{{?counts}}"),
        }))
    }

    fn unit_json(&self, u: &UnitRef) -> Result<J, Fail> {
        let key = u.key();
        let mut r = self
            .batch(vec![
                Op::UnitData { unit: key },
                Op::UnitMeta { unit: key },
                Op::UnitStatus { unit: key },
                Op::ActiveAttempt { unit: key },
            ])?
            .into_iter();
        let mut next = || r.next().unwrap_or(Err(Error::Gone));
        let data = want!(next(), Reply::Data(d) => d);
        let meta = want!(next(), Reply::UnitMeta(m) => m);
        let status = want!(next(), Reply::UnitStatus(s) => s);
        let active = want!(next(), Reply::Attempt(a) => a);
        let url = unit_url(u);
        let mut o = JMap::new();
        o.insert("url".into(), J::from(url.as_str()));
        o.insert("name".into(), J::from(&*u.name));
        o.insert("data".into(), data_json(&data));
        o.insert("meta".into(), unit_meta_json(&meta));
        o.insert("status".into(), J::from(status.as_str()));
        o.insert(
            "work_spec_url".into(),
            J::from(spec_url(&u.spec.ns.name, &u.spec.name)),
        );
        if let Some(a) = active {
            o.insert("active_attempt_url".into(), J::from(attempt_url(&a)));
        }
        o.insert("attempts_url".into(), J::from(format!("{url}/attempts")));
        Ok(J::Object(o))
    }

    fn attempt_short(&self, attempts: &[AttemptRef]) -> Result<J, Fail> {
        let ops = attempts
            .iter()
            .map(|a| Op::AttemptStartTime { attempt: a.id })
            .collect();
        let results = self.batch(ops)?;
        let mut list = Vec::with_capacity(attempts.len());
        for (a, start) in attempts.iter().zip(results) {
            list.push(json!({
                "url": attempt_url(a),
                "work_unit_url": unit_url(&a.unit),
                "worker_url": worker_url(&a.worker),
                "start_time": time_json(time_of(start)?),
            }));
        }
        Ok(json!({ "attempts": list }))
    }

    fn attempts_full(&self, attempts: &[AttemptRef]) -> Result<Vec<J>, Fail> {
        let ops = attempts
            .iter()
            .flat_map(|a| {
                let attempt = a.id;
                [
                    Op::AttemptStatus { attempt },
                    Op::AttemptData { attempt },
                    Op::AttemptStartTime { attempt },
                    Op::AttemptEndTime { attempt },
                    Op::AttemptExpiration { attempt },
                ]
            })
            .collect();
        let mut r = self.batch(ops)?.into_iter();
        let mut next = || r.next().unwrap_or(Err(Error::Gone));
        let mut out = Vec::with_capacity(attempts.len());
        for a in attempts {
            let status = want!(next(), Reply::AttemptStatus(s) => s);
            let data = want!(next(), Reply::Data(d) => d);
            let start = time_of(next())?;
            let end = time_of(next())?;
            let expiration = time_of(next())?;
            let url = attempt_url(a);
            let mut o = JMap::new();
            o.insert("url".into(), J::from(url.as_str()));
            o.insert("work_unit_url".into(), J::from(unit_url(&a.unit)));
            o.insert("worker_url".into(), J::from(worker_url(&a.worker)));
            o.insert("start_time".into(), time_json(start));
            o.insert("status".into(), J::from(status.as_str()));
            o.insert("data".into(), data_json(&data));
            if end.is_some() {
                o.insert("end_time".into(), time_json(end));
            }
            o.insert("expiration_time".into(), time_json(expiration));
            for action in ["renew", "expire", "finish", "fail", "retry"] {
                o.insert(format!("{action}_url"), J::from(format!("{url}/{action}")));
            }
            out.push(J::Object(o));
        }
        Ok(out)
    }

    fn worker_json(&self, w: &WorkerRef) -> Result<J, Fail> {
        let worker = w.id;
        let mut r = self
            .batch(vec![
                Op::WorkerParent { worker },
                Op::Children { worker },
                Op::WorkerActive { worker },
                Op::WorkerMode { worker },
                Op::WorkerData { worker },
                Op::WorkerExpiration { worker },
                Op::WorkerLastUpdate { worker },
            ])?
            .into_iter();
        let mut next = || r.next().unwrap_or(Err(Error::Gone));
        let parent = want!(next(), Reply::Worker(p) => p);
        let children = want!(next(), Reply::Workers(c) => c);
        let active = want!(next(), Reply::Bool(b) => b);
        let mode = want!(next(), Reply::Text(m) => m);
        let data = want!(next(), Reply::Data(d) => d);
        let expiration = time_of(next())?;
        let last_update = time_of(next())?;
        let url = worker_url(w);
        let mut o = JMap::new();
        o.insert("url".into(), J::from(url.as_str()));
        o.insert("name".into(), J::from(&*w.name));
        if let Some(p) = &parent {
            o.insert("parent".into(), J::from(&*p.name));
            o.insert("parent_url".into(), J::from(worker_url(p)));
        }
        o.insert(
            "child_urls".into(),
            J::Array(children.iter().map(|c| J::from(worker_url(c))).collect()),
        );
        o.insert("active".into(), J::from(active));
        o.insert("mode".into(), J::from(mode));
        o.insert(
            "data".into(),
            if data.is_empty() {
                J::Null
            } else {
                data_json(&data)
            },
        );
        o.insert("expiration".into(), time_json(expiration));
        o.insert("last_update".into(), time_json(last_update));
        for link in [
            "request_attempts",
            "make_attempt",
            "active_attempts",
            "all_attempts",
            "child_attempts",
        ] {
            o.insert(format!("{link}_url"), J::from(format!("{url}/{link}")));
        }
        Ok(J::Object(o))
    }

    /// `change` and `adjust`: set or add to the priority of the selected units.
    fn priorities(
        &self,
        ns: &str,
        name: &str,
        query: &[(String, String)],
        body: &J,
        adjust: bool,
    ) -> Result<Answer, Fail> {
        let spec = self.spec(ns, name)?;
        let query = self.query(query)?;
        if let Some(meta) = body.get("meta").filter(|m| !m.is_null()) {
            let value = float_field(meta, "priority")?;
            let op = if adjust {
                Op::AdjustWorkUnitPriorities {
                    spec: spec.id,
                    query,
                    adjustment: value,
                }
            } else {
                Op::SetWorkUnitPriorities {
                    spec: spec.id,
                    query,
                    priority: value,
                }
            };
            self.call(op)?;
        }
        Ok(no_content())
    }

    fn exec(
        &self,
        route: Route,
        method: &Method,
        query: &[(String, String)],
        body: &J,
    ) -> Result<Answer, Fail> {
        use Route as R;
        let get = *method == Method::GET;
        let post = *method == Method::POST;
        let put = *method == Method::PUT;
        match route {
            R::Root => Ok(ok(json!({
                "url": "", "summary_url": "/summary", "namespaces_url": "/namespace",
                "namespace_url": "/namespace/{namespace}",
            }))),
            R::Summary => Ok(ok(summary_json(
                &want!(self.call(Op::Summarize), Reply::Summary(s) => s),
            ))),
            R::Namespaces if post => {
                let name = text_field(body, "name")?;
                let ns = self.ns(&name)?;
                Ok(created(self.namespace_json(&ns), ns_url(&ns.name)))
            }
            R::Namespaces => {
                let list = want!(self.call(Op::Namespaces), Reply::Namespaces(v) => v);
                let list: Vec<J> = list
                    .iter()
                    .map(|n| json!({"url": ns_url(&n.name), "name": &*n.name}))
                    .collect();
                Ok(ok(json!({ "namespaces": list })))
            }
            R::Namespace(ns) => {
                let ns = self.ns(&ns)?;
                if get {
                    Ok(ok(self.namespace_json(&ns)))
                } else {
                    self.call(Op::DestroyNamespace { ns: ns.id })?;
                    Ok(no_content())
                }
            }
            R::NsSummary(ns) => {
                let ns = self.ns(&ns)?;
                Ok(ok(summary_json(
                    &want!(self.call(Op::SummarizeNamespace { ns: ns.id }), Reply::Summary(s) => s),
                )))
            }
            R::Specs(ns) => {
                let ns = self.ns(&ns)?;
                if post {
                    let data = data_from(body, "data", self.max_depth)?
                        .ok_or_else(|| bad("Missing data"))?;
                    let spec =
                        want!(self.call(Op::SetWorkSpec { ns: ns.id, data }), Reply::Spec(s) => s);
                    let url = spec_url(&spec.ns.name, &spec.name);
                    Ok(created(json!({"url": url, "name": &*spec.name}), url))
                } else {
                    let names =
                        want!(self.call(Op::WorkSpecNames { ns: ns.id }), Reply::Names(n) => n);
                    let list: Vec<J> = names
                        .iter()
                        .map(|n| json!({"url": spec_url(&ns.name, n), "name": n}))
                        .collect();
                    Ok(ok(json!({ "work_specs": list })))
                }
            }
            R::Spec(ns, name) => {
                if *method == Method::DELETE {
                    let ns = self.ns(&ns)?;
                    self.call(Op::DestroyWorkSpec { ns: ns.id, name })?;
                    return Ok(no_content());
                }
                let spec = self.spec(&ns, &name)?;
                if put {
                    if let Some(data) = data_from(body, "data", self.max_depth)? {
                        self.call(Op::SetSpecData {
                            spec: spec.id,
                            data,
                        })?;
                    }
                    Ok(no_content())
                } else {
                    Ok(ok(self.spec_json(&spec)?))
                }
            }
            R::Meta(ns, name) => {
                let spec = self.spec(&ns, &name)?;
                if put {
                    let meta = spec_meta_from(body)?;
                    self.call(Op::SetSpecMeta {
                        spec: spec.id,
                        meta: Box::new(meta),
                    })?;
                    Ok(no_content())
                } else {
                    let with_counts =
                        query
                            .iter()
                            .rev()
                            .find(|(k, _)| k == "counts")
                            .is_some_and(|(_, v)| {
                                matches!(
                                    v.to_ascii_lowercase().as_str(),
                                    "1" | "t" | "y" | "true" | "on" | "yes"
                                )
                            });
                    let meta = want!(self.call(Op::SpecMeta { spec: spec.id, with_counts }), Reply::SpecMeta(m) => m);
                    Ok(ok(spec_meta_json(&meta)))
                }
            }
            R::Counts(ns, name) => {
                let spec = self.spec(&ns, &name)?;
                let counts = want!(self.call(Op::CountWorkUnitStatus { spec: spec.id }), Reply::StatusCounts(c) => c);
                let o: JMap<String, J> = counts
                    .iter()
                    .filter(|(_, n)| **n != 0)
                    .map(|(s, n)| (s.as_str().to_owned(), J::from(*n)))
                    .collect();
                Ok(ok(J::Object(o)))
            }
            R::Change(ns, name) => self.priorities(&ns, &name, query, body, false),
            R::Adjust(ns, name) => self.priorities(&ns, &name, query, body, true),
            R::SpecSummary(ns, name) => {
                let spec = self.spec(&ns, &name)?;
                Ok(ok(summary_json(
                    &want!(self.call(Op::SummarizeSpec { spec: spec.id }), Reply::Summary(s) => s),
                )))
            }
            R::Units(ns, name) => {
                let spec = self.spec(&ns, &name)?;
                if post {
                    let name = text_field(body, "name")?;
                    let data = data_from(body, "data", self.max_depth)?.unwrap_or_default();
                    let meta = match body.get("meta") {
                        None | Some(J::Null) => WorkUnitMeta::default(),
                        Some(m) => unit_meta_from(m)?,
                    };
                    let unit = want!(self.call(Op::AddWorkUnit { spec: spec.id, name, data, meta }), Reply::Unit(u) => u);
                    let url = unit_url(&unit);
                    return Ok(created(json!({"url": url, "name": &*unit.name}), url));
                }
                let query = self.query(query)?;
                if get {
                    let units = want!(self.call(Op::WorkUnits { spec: spec.id, query }), Reply::Units(u) => u);
                    let list: Vec<J> = units
                        .iter()
                        .map(|u| json!({"url": unit_url(u), "name": &*u.name}))
                        .collect();
                    Ok(ok(json!({ "work_units": list })))
                } else {
                    let n = want!(self.call(Op::DeleteWorkUnits { spec: spec.id, query }), Reply::Count(n) => n);
                    Ok(ok(json!({ "Deleted": n })))
                }
            }
            R::Unit(ns, spec, name) => {
                let unit = self.unit(&ns, &spec, &name)?;
                if put {
                    if body.get("active_attempt_url").and_then(J::as_str) == Some("-") {
                        self.call(Op::ClearActiveAttempt { unit: unit.key() })?;
                    }
                    if let Some(meta) = body.get("meta").filter(|m| !m.is_null()) {
                        let meta = unit_meta_from(meta)?;
                        self.call(Op::SetUnitMeta {
                            unit: unit.key(),
                            meta,
                        })?;
                    }
                    Ok(no_content())
                } else {
                    Ok(ok(self.unit_json(&unit)?))
                }
            }
            R::UnitAttempts(ns, spec, name) => {
                let unit = self.unit(&ns, &spec, &name)?;
                let attempts = want!(self.call(Op::UnitAttempts { unit: unit.key() }), Reply::Attempts(v) => v);
                Ok(ok(self.attempt_short(&attempts)?))
            }
            R::NumAttempts(ns, spec, name) => {
                let unit = self.unit(&ns, &spec, &name)?;
                let n =
                    want!(self.call(Op::NumAttempts { unit: unit.key() }), Reply::Count(n) => n);
                Ok(ok(J::from(n)))
            }
            R::NoHandler(_) => Err(Fail::Status(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Method {method} not allowed"),
            )),
            R::Attempt(ns, spec, unit, worker, id) => {
                let a = self.attempt(&ns, &spec, &unit, &worker, &id)?;
                let mut full = self.attempts_full(std::slice::from_ref(&a))?;
                Ok(ok(full.pop().unwrap_or(J::Null)))
            }
            R::AttemptAction(ns, spec, unit, worker, id, action) => {
                let a = self.attempt(&ns, &spec, &unit, &worker, &id)?;
                let data = data_from(body, "data", self.max_depth)?;
                let attempt = a.id;
                let op = match action {
                    Action::Renew => Op::Renew {
                        attempt,
                        extend: duration_field(body, "extend_duration")?,
                        data,
                    },
                    Action::Expire => Op::Expire { attempt, data },
                    Action::Finish => Op::Finish { attempt, data },
                    Action::Fail => Op::Fail { attempt, data },
                    Action::Retry => Op::Retry {
                        attempt,
                        data,
                        delay: duration_field(body, "delay")?,
                    },
                };
                self.call(op)?;
                Ok(no_content())
            }
            R::Worker(ns, name) => {
                let ns = self.ns(&ns)?;
                let w = self.worker_in(&ns, &name)?;
                if !put {
                    return Ok(ok(self.worker_json(&w)?));
                }
                if let Some(parent) = body.get("parent") {
                    let parent = match parent {
                        J::Null => String::new(),
                        J::String(s) => s.clone(),
                        _ => return Err(bad("parent must be a string")),
                    };
                    let parent = if parent.is_empty() {
                        None
                    } else {
                        Some(self.worker_in(&ns, &parent)?.id)
                    };
                    self.call(Op::SetParent {
                        worker: w.id,
                        parent,
                    })?;
                } else if bool_field(body, "active")? {
                    let now = match time_field(body, "last_update")? {
                        Some(t) => t,
                        None => self.b.now(),
                    };
                    let expiration = match time_field(body, "expiration")? {
                        Some(t) => t,
                        None => now + TimeDelta::minutes(15),
                    };
                    let op = Op::UpdateWorker {
                        worker: w.id,
                        data: data_from(body, "data", self.max_depth)?.unwrap_or_default(),
                        now,
                        expiration,
                        mode: text_field(body, "mode")?,
                    };
                    self.call(op)?;
                } else {
                    self.call(Op::Deactivate { worker: w.id })?;
                }
                Ok(no_content())
            }
            R::RequestAttempts(ns, name) => {
                let w = self.worker(&ns, &name)?;
                let request = AttemptRequest {
                    available_gb: float_field(body, "available_gb")?,
                    lifetime: duration_field(body, "lifetime")?,
                    number_of_work_units: int_field(body, "number_of_work_units")?,
                    work_specs: texts_field(body, "work_specs")?,
                    runtimes: texts_field(body, "runtimes")?,
                };
                let attempts = want!(self.call(Op::RequestAttempts { worker: w.id, request }), Reply::Attempts(v) => v);
                let mut o = JMap::new();
                if let Some(first) = attempts.first() {
                    o.insert(
                        "work_spec_url".into(),
                        J::from(spec_url(&first.unit.spec.ns.name, &first.unit.spec.name)),
                    );
                }
                o.insert("attempts".into(), J::Array(self.attempts_full(&attempts)?));
                Ok(ok(J::Object(o)))
            }
            R::MakeAttempt(ns, name) => {
                let w = self.worker(&ns, &name)?;
                let spec = self.spec(&ns, &text_field(body, "work_spec")?)?;
                let unit = self.unit_of(&spec, &text_field(body, "work_unit")?)?;
                let lifetime = duration_field(body, "lifetime")?;
                let a = match self.call(Op::MakeAttempt {
                    worker: w.id,
                    unit: unit.key(),
                    lifetime,
                }) {
                    Ok(Reply::Attempt(Some(a))) => a,
                    Ok(other) => return Err(Fail::Core(other.unexpected())),
                    Err(e) => return Err(e.into()),
                };
                let mut full = self.attempts_full(std::slice::from_ref(&a))?;
                Ok(ok(full.pop().unwrap_or(J::Null)))
            }
            R::WorkerAttempts(ns, name, list) => {
                let w = self.worker(&ns, &name)?;
                let worker = w.id;
                let op = match list {
                    WorkerList::Active => Op::ActiveAttempts { worker },
                    WorkerList::All => Op::AllAttempts { worker },
                    WorkerList::Child => Op::ChildAttempts { worker },
                };
                let attempts = want!(self.call(op), Reply::Attempts(v) => v);
                Ok(ok(self.attempt_short(&attempts)?))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_go_code_and_status() {
        let cases = [
            (
                Error::NoSuchWorkSpec { name: "s".into() },
                "ErrNoSuchWorkSpec",
                Some("s"),
                404,
            ),
            (
                Error::NoSuchWorkUnit { name: "u".into() },
                "ErrNoSuchWorkUnit",
                Some("u"),
                404,
            ),
            (Error::Gone, "ErrGone", None, 500),
            (Error::LostLease, "ErrLostLease", None, 500),
            (Error::NotPending, "ErrNotPending", None, 500),
            (Error::NoWork, "ErrNoWork", None, 500),
            (
                Error::CannotBecomeContinuous,
                "ErrCannotBecomeContinuous",
                None,
                500,
            ),
            (Error::ChangedName, "ErrChangedName", None, 500),
            (Error::NoWorkSpecName, "ErrNoWorkSpecName", None, 400),
            (Error::BadWorkSpecName, "ErrBadWorkSpecName", None, 400),
            (Error::WrongBackend, "ErrWrongBackend", None, 500),
            (Error::WorkUnitNotList, "ErrWorkUnitNotList", None, 500),
            (Error::WorkUnitTooShort, "ErrWorkUnitTooShort", None, 500),
            (Error::BadPriority, "ErrBadPriority", None, 500),
            (
                Error::BadWorkUnitItem { reason: "r".into() },
                "error",
                None,
                500,
            ),
            (
                Error::InvalidStatus { detail: "d".into() },
                "error",
                None,
                500,
            ),
            (
                Error::Unavailable { reason: "r".into() },
                "error",
                None,
                503,
            ),
            (Error::Storage { reason: "r".into() }, "error", None, 500),
            (Error::Unauthorized, "Unauthorized", None, 401),
            (Error::BadUrl { url: "u".into() }, "error", None, 500),
            (
                Error::OutOfRange {
                    what: "w".into(),
                    reason: "r".into(),
                },
                "error",
                None,
                400,
            ),
            (Error::Capacity { reason: "r".into() }, "error", None, 507),
            (
                Error::InvalidArgument {
                    what: "w".into(),
                    reason: "r".into(),
                },
                "error",
                None,
                400,
            ),
        ];
        assert_eq!(cases.len(), coordinate::ERROR_CODES.len());
        for (e, code, value, status) in cases {
            assert_eq!(go_code(&e), (code, value), "{e:?}");
            let r = fail_response(Fail::Core(e.clone()));
            assert_eq!(r.status().as_u16(), status, "{e:?}");
            assert_eq!(r.headers()[header::CONTENT_TYPE], V1_JSON);
        }
    }

    #[test]
    fn name_encoding_round_trips() {
        for name in [
            "",
            "-",
            "\u{0}",
            "a b/\u{fc}",
            "plain",
            "-x",
            "a:b.c_d-e",
            "\u{1}\u{2}",
        ] {
            let seg = encode_name(name);
            assert!(
                seg.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b)),
                "{seg}"
            );
            assert_eq!(decode_name(&seg).unwrap(), name);
        }
        assert_eq!(encode_name(""), "-");
        assert_eq!(encode_name("-"), "-LQ");
        assert_eq!(encode_name("a b/\u{fc}"), "-YSBiL8O8");
        assert!(decode_name("-!!").is_err());
        assert!(decode_name("-_w").is_err(), "not UTF-8");
    }

    #[test]
    fn negotiation() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(&h).ok(), Some(V1_JSON));
        for (accept, want) in [
            ("application/json", Some("application/json")),
            ("text/*", Some("text/json")),
            ("*/*;q=0.5, text/json", Some("text/json")),
            ("text/json;q=0.2, application/*;q=0.9", Some(V1_JSON)),
            ("image/png", None),
            ("application/json;q=0", None),
        ] {
            h.insert(header::ACCEPT, HeaderValue::from_static(accept));
            assert_eq!(negotiate(&h).ok(), want, "{accept}");
        }
    }
}
