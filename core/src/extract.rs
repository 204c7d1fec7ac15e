//! Parsing chained `output` into work units to add.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::meta::{AddWorkUnitItem, AddWorkUnitMeta};
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

/// Converts one element of a chained output list into an item.
///
/// A string (or UTF-8 byte string) is a name with empty data. Otherwise the
/// element must be a list `[name, data, meta?, priority?]`, where `meta` may
/// hold `priority` and `delay` (seconds) and `priority` overrides it.
pub fn extract_add_work_unit_item(obj: &Value, now: DateTime<Utc>) -> Result<AddWorkUnitItem> {
    if let Some(name) = name_of(obj) {
        return name.map(AddWorkUnitItem::named);
    }
    let Value::List(parts) = obj else {
        return Err(Error::WorkUnitNotList);
    };
    if parts.len() < 2 {
        return Err(Error::WorkUnitTooShort);
    }
    let key = name_of(&parts[0]).unwrap_or_else(|| Err(bad("element 0 (name) is not a string")))?;
    let data = match &parts[1] {
        Value::Null => Map::new(),
        Value::Map(m) => m.clone(),
        _ => return Err(bad("element 1 (data) is not a map")),
    };
    let mut add_meta = AddWorkUnitMeta::default();
    match parts.get(2) {
        None | Some(Value::Null) => {}
        Some(Value::Map(m)) => {
            let number = |k: &str, what: &str| match m.get(k) {
                None | Some(Value::Null) => Ok(0.0),
                Some(v) => v.as_f64().ok_or_else(|| bad(what)),
            };
            add_meta.priority = number("priority", "meta priority is not a number")?;
            add_meta.delay = number("delay", "meta delay is not a number")?;
        }
        Some(_) => return Err(bad("element 2 (meta) is not a map")),
    }
    let mut meta = add_meta.to_meta(now);
    match parts.get(3) {
        None | Some(Value::Null) => {}
        Some(v) => meta.priority = v.as_f64().ok_or(Error::BadPriority)?,
    }
    Ok(AddWorkUnitItem { key, data, meta })
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

    #[test]
    fn map_with_a_non_map_value_yields_nothing() {
        let out = Value::Map([("a".to_string(), Value::Null), ("b".to_string(), 1.into())].into());
        assert!(extract_work_unit_output(&out, now()).is_empty());
        let out = Value::Map([("a".to_string(), Value::Null)].into());
        assert_eq!(extract_work_unit_output(&out, now())["a"].data, Map::new());
    }
}
