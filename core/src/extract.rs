//! Parsing chained `output` into work units to add.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};

use crate::clock::{add, check_instant, try_seconds};
use crate::error::{Error, Result};
use crate::meta::{AddWorkUnitItem, WorkUnitMeta};
use crate::records::check_priority;
use crate::value::{Map, Value};

/// Turns a finished unit's `output` into units for the `then` spec.
///
/// A map of name to data (null data counts as empty) gives one item per entry;
/// a list gives one item per element that `extract_add_work_unit_item` accepts
/// (a later element wins over an earlier one of the same name); anything else
/// gives nothing. Never fails.
pub fn extract_work_unit_output(
    output: &Value,
    now: DateTime<Utc>,
) -> BTreeMap<String, AddWorkUnitItem> {
    let mut items = BTreeMap::new();
    match output {
        Value::Map(m) => {
            for (name, data) in m {
                let data = match data {
                    Value::Null => Map::new(),
                    Value::Map(d) => d.clone(),
                    _ => return BTreeMap::new(),
                };
                items.insert(
                    name.clone(),
                    AddWorkUnitItem {
                        key: name.clone(),
                        data,
                        meta: Default::default(),
                    },
                );
            }
        }
        Value::List(list) => {
            for item in list
                .iter()
                .filter_map(|obj| extract_add_work_unit_item(obj, now).ok())
            {
                items.insert(item.key.clone(), item);
            }
        }
        _ => {}
    }
    items
}

/// Converts one element of a chained output list into an item: the one
/// grammar of "a unit to add", `parse_add_work_unit`, except that chained
/// output has no map form (a map is `WorkUnitNotList`, as in the original
/// API).
pub fn extract_add_work_unit_item(obj: &Value, now: DateTime<Utc>) -> Result<AddWorkUnitItem> {
    if matches!(obj, Value::Map(_)) {
        return Err(Error::WorkUnitNotList);
    }
    parse_add_work_unit(obj, now)
}

/// The one grammar of "a unit to add" (docs/semantics.md §3.14), shared by
/// chained output, `add_work_units` in every host and flow files:
///
/// - a name: a string, or a UTF-8 byte string; empty data, zero meta;
/// - a list `[name, data, meta?, priority?]` (at least two elements; later
///   ones are ignored): `data` a map or null, `meta` a map or null, and
///   `priority` a number that overrides the meta's;
/// - a map `{name, data?, meta?, priority?, delay?}` (`key` may stand for
///   `name`; any other key is an error), `priority` and `delay` overriding
///   the meta's. Not in chained output (`extract_add_work_unit_item`).
///
/// A meta map may hold `priority` (a number, not NaN), `delay` (seconds
/// from `now`; zero or less means no delay) and `not_before` (an RFC 3339
/// instant or null; a positive `delay` wins over it). Durations and instants
/// must lie in the valid ranges (`OutOfRange`).
pub fn parse_add_work_unit(obj: &Value, now: DateTime<Utc>) -> Result<AddWorkUnitItem> {
    if let Some(name) = name_of(obj) {
        return name.map(AddWorkUnitItem::named);
    }
    match obj {
        Value::List(parts) => {
            if parts.len() < 2 {
                return Err(Error::WorkUnitTooShort);
            }
            let key = name_of(&parts[0])
                .unwrap_or_else(|| Err(bad("element 0 (name) is not a string")))?;
            let data = data_of(&parts[1], "element 1 (data) is not a map")?;
            let mut meta = match parts.get(2) {
                None | Some(Value::Null) => Parts::default(),
                Some(Value::Map(m)) => meta_parts(m)?,
                Some(_) => return Err(bad("element 2 (meta) is not a map")),
            };
            match parts.get(3) {
                None | Some(Value::Null) => {}
                Some(v) => meta.priority = Some(priority_of(v)?),
            }
            Ok(AddWorkUnitItem {
                key,
                data,
                meta: meta.resolve(now)?,
            })
        }
        Value::Map(m) => {
            if let Some(k) = m.keys().find(|k| {
                !["name", "key", "data", "meta", "priority", "delay"].contains(&k.as_str())
            }) {
                return Err(bad(&format!(
                    "unknown key {k:?} (expected name, data, meta, priority, delay)"
                )));
            }
            if m.contains_key("name") && m.contains_key("key") {
                return Err(bad("both name and key given"));
            }
            let key = match m.get("name").or_else(|| m.get("key")) {
                None | Some(Value::Null) => return Err(bad("no name")),
                Some(v) => name_of(v).unwrap_or_else(|| Err(bad("the name is not a string")))?,
            };
            let data = data_of(m.get("data").unwrap_or(&Value::Null), "data is not a map")?;
            let mut meta = match m.get("meta") {
                None | Some(Value::Null) => Parts::default(),
                Some(Value::Map(mm)) => meta_parts(mm)?,
                Some(_) => return Err(bad("meta is not a map")),
            };
            if let Some(v) = m.get("priority").filter(|v| !v.is_null()) {
                meta.priority = Some(priority_of(v)?);
            }
            if let Some(v) = m.get("delay").filter(|v| !v.is_null()) {
                meta.delay = Some(v.as_f64().ok_or_else(|| bad("delay is not a number"))?);
            }
            Ok(AddWorkUnitItem {
                key,
                data,
                meta: meta.resolve(now)?,
            })
        }
        _ => Err(Error::WorkUnitNotList),
    }
}

/// The parts of a unit's meta as given, before they are resolved at `now`.
#[derive(Default)]
struct Parts {
    priority: Option<f64>,
    delay: Option<f64>,
    not_before: Option<DateTime<Utc>>,
}

impl Parts {
    fn resolve(self, now: DateTime<Utc>) -> Result<WorkUnitMeta> {
        let priority = self.priority.unwrap_or(0.0);
        let not_before = match self.delay {
            Some(d) => {
                let d = try_seconds(d, "delay")?;
                if d > TimeDelta::zero() {
                    Some(add(now, d))
                } else {
                    self.not_before
                }
            }
            None => self.not_before,
        };
        Ok(WorkUnitMeta {
            priority,
            not_before,
        })
    }
}

fn meta_parts(m: &Map) -> Result<Parts> {
    let number = |k: &str, what: &str| match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| bad(what)),
    };
    let priority = number("priority", "meta priority is not a number")?;
    if priority.is_some_and(f64::is_nan) {
        return Err(Error::BadPriority);
    }
    let delay = number("delay", "meta delay is not a number")?;
    let not_before = match m.get("not_before") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => {
            let t = DateTime::parse_from_rfc3339(text)
                .map_err(|_| bad("meta not_before is not an RFC 3339 instant"))?
                .with_timezone(&Utc);
            Some(check_instant(t, "not_before")?)
        }
        Some(_) => return Err(bad("meta not_before is not an RFC 3339 instant")),
    };
    Ok(Parts {
        priority,
        delay,
        not_before,
    })
}

/// A unit priority: a number, not NaN.
fn priority_of(v: &Value) -> Result<f64> {
    check_priority(v.as_f64().ok_or(Error::BadPriority)?)
}

fn data_of(v: &Value, what: &str) -> Result<Map> {
    match v {
        Value::Null => Ok(Map::new()),
        Value::Map(m) => Ok(m.clone()),
        _ => Err(bad(what)),
    }
}

/// The meta map form of `meta` that `parse_add_work_unit` reads back to the
/// same meta: `{priority, not_before}` (an RFC 3339 instant, to the
/// nanosecond, or null). Bindings use it for a host's meta object.
pub fn unit_meta_value(meta: &WorkUnitMeta) -> Value {
    let not_before = meta.not_before.map_or(Value::Null, |t| {
        Value::String(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    });
    Value::Map(
        [
            ("priority".to_owned(), Value::Float(meta.priority)),
            ("not_before".to_owned(), not_before),
        ]
        .into(),
    )
}

/// `Some` if `v` is a name: a string, or a byte string (which must be UTF-8).
fn name_of(v: &Value) -> Option<Result<String>> {
    match v {
        Value::String(s) => Some(Ok(s.clone())),
        Value::Bytes(b) => Some(
            String::from_utf8(b.clone()).map_err(|_| bad("byte-string name is not valid UTF-8")),
        ),
        _ => None,
    }
}

fn bad(reason: &str) -> Error {
    Error::BadWorkUnitItem {
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_136_214_245, 0).unwrap()
    }

    fn list(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    #[test]
    fn lists_of_lists() {
        let out = list(vec![
            list(vec!["a".into()]),
            list(vec!["b".into(), Value::Map(Map::new())]),
            list(vec![
                "c".into(),
                Value::Null,
                Value::Map([("delay".to_string(), Value::Int(90))].into()),
            ]),
            list(vec!["e".into(), Value::Null, Value::Null, 20.0.into()]),
        ]);
        let items = extract_work_unit_output(&out, now());
        assert_eq!(items.keys().collect::<Vec<_>>(), ["b", "c", "e"]);
        assert_eq!(
            items["c"].meta.not_before,
            Some(now() + TimeDelta::seconds(90))
        );
        assert_eq!(items["e"].meta.priority, 20.0);
    }

    #[test]
    fn errors() {
        assert_eq!(
            extract_add_work_unit_item(&Value::Int(1), now()),
            Err(Error::WorkUnitNotList)
        );
        let map = Value::Map([("name".to_string(), "a".into())].into());
        assert_eq!(
            extract_add_work_unit_item(&map, now()),
            Err(Error::WorkUnitNotList)
        );
        assert!(parse_add_work_unit(&map, now()).is_ok());
        assert_eq!(
            extract_add_work_unit_item(&list(vec!["a".into()]), now()),
            Err(Error::WorkUnitTooShort)
        );
        assert_eq!(
            extract_add_work_unit_item(
                &list(vec!["a".into(), Value::Null, Value::Null, "x".into()]),
                now()
            ),
            Err(Error::BadPriority)
        );
        let bad_utf8 = Value::Bytes(vec![0xff]);
        assert!(extract_add_work_unit_item(&bad_utf8, now()).is_err());
    }

    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn one_grammar_for_every_form() {
        let t = now();
        let named = parse_add_work_unit(&"a".into(), t).unwrap();
        assert_eq!(named, AddWorkUnitItem::named("a"));
        let data = m(&[("k", 1.into())]);
        // The list form: meta map with delay, then a priority override.
        let item = parse_add_work_unit(
            &list(vec![
                "a".into(),
                data.clone(),
                m(&[("priority", 2.into()), ("delay", 1.5.into())]),
                7.into(),
            ]),
            t,
        )
        .unwrap();
        assert_eq!(item.key, "a");
        assert_eq!(item.data["k"], Value::Int(1));
        assert_eq!(item.meta.priority, 7.0);
        assert_eq!(
            item.meta.not_before,
            Some(t + TimeDelta::milliseconds(1500))
        );
        // The flow-file map form.
        let flow = m(&[
            ("name", "b".into()),
            ("data", data.clone()),
            ("priority", 5.into()),
            ("delay", 60.into()),
        ]);
        let item = parse_add_work_unit(&flow, t).unwrap();
        assert_eq!((item.key.as_str(), item.meta.priority), ("b", 5.0));
        assert_eq!(item.meta.not_before, Some(t + TimeDelta::seconds(60)));
        // The {key, data, meta} form with an exact not_before.
        let nb = t + TimeDelta::nanoseconds(1_234_567);
        let meta = WorkUnitMeta {
            priority: -1.5,
            not_before: Some(nb),
        };
        let item = parse_add_work_unit(
            &m(&[("key", "c".into()), ("meta", unit_meta_value(&meta))]),
            t,
        )
        .unwrap();
        assert_eq!(item.meta, meta);
        // A non-positive delay is no delay.
        let item =
            parse_add_work_unit(&m(&[("name", "d".into()), ("delay", (-3).into())]), t).unwrap();
        assert_eq!(item.meta.not_before, None);
        // ±inf priorities stay allowed.
        let item = parse_add_work_unit(
            &m(&[("name", "e".into()), ("priority", f64::INFINITY.into())]),
            t,
        )
        .unwrap();
        assert_eq!(item.meta.priority, f64::INFINITY);
    }

    #[test]
    fn grammar_errors_name_what_was_wrong() {
        let t = now();
        let reason = |v: Value| match parse_add_work_unit(&v, t) {
            Err(Error::BadWorkUnitItem { reason }) => reason,
            other => panic!("{other:?}"),
        };
        assert!(reason(m(&[("name", "a".into()), ("colour", 1.into())]))
            .contains("unknown key \"colour\""));
        assert_eq!(reason(m(&[("data", Value::Null)])), "no name");
        assert_eq!(reason(m(&[("name", 3.into())])), "the name is not a string");
        assert_eq!(
            reason(m(&[("name", "a".into()), ("data", 3.into())])),
            "data is not a map"
        );
        assert_eq!(
            reason(m(&[("name", "a".into()), ("delay", "x".into())])),
            "delay is not a number"
        );
        assert!(reason(list(vec![
            "a".into(),
            Value::Null,
            m(&[("not_before", "soon".into())])
        ]))
        .contains("not_before"));
        let nan = |v: Value| parse_add_work_unit(&v, t);
        assert_eq!(
            nan(m(&[("name", "a".into()), ("priority", f64::NAN.into())])),
            Err(Error::BadPriority)
        );
        assert_eq!(
            nan(list(vec![
                "a".into(),
                Value::Null,
                Value::Null,
                f64::NAN.into()
            ])),
            Err(Error::BadPriority)
        );
        assert_eq!(
            nan(list(vec![
                "a".into(),
                Value::Null,
                m(&[("priority", f64::NAN.into())])
            ])),
            Err(Error::BadPriority)
        );
        for delay in [1e10, f64::INFINITY, f64::NAN] {
            let e = nan(list(vec![
                "a".into(),
                Value::Null,
                m(&[("delay", delay.into())]),
            ]))
            .unwrap_err();
            assert_eq!(e.code(), "OutOfRange", "{delay}");
            assert!(e.to_string().starts_with("delay: "));
        }
        let e = nan(m(&[
            ("name", "a".into()),
            ("meta", m(&[("not_before", "10000-01-01T00:00:00Z".into())])),
        ]))
        .unwrap_err();
        assert!(
            matches!(e, Error::BadWorkUnitItem { .. } | Error::OutOfRange { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn map_with_a_non_map_value_yields_nothing() {
        let out = Value::Map([("a".to_string(), Value::Null), ("b".to_string(), 1.into())].into());
        assert!(extract_work_unit_output(&out, now()).is_empty());
        let out = Value::Map([("a".to_string(), Value::Null)].into());
        assert_eq!(extract_work_unit_output(&out, now())["a"].data, Map::new());
    }
}
