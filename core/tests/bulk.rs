//! `add_work_units` merges large batches into the indexes in one pass; it
//! must leave exactly the state that adding the items one by one leaves.

use std::sync::Arc;

use chrono::TimeDelta;
use coordinate::{
    map, AddWorkUnitItem, AttemptRequest, Coordinate, MockClock, Value, WorkSpec, WorkUnitMeta,
};

fn setup() -> (MockClock, WorkSpec) {
    let clock = MockClock::default();
    let coord = Coordinate::with_options(Arc::new(clock.clone()), Some(3));
    let spec = coord
        .namespace("")
        .unwrap()
        .set_work_spec(map([("name", "s")]))
        .unwrap();
    // Existing units in every state: pending, finished, failed, delayed, available.
    for name in ["e0", "e1", "e2", "e3", "e4"] {
        spec.add_work_unit(name, map([("old", true)]), Default::default())
            .unwrap();
    }
    let worker = spec.namespace().worker("w").unwrap();
    let req = AttemptRequest {
        number_of_work_units: 3,
        ..Default::default()
    };
    let got = worker.request_attempts(&req).unwrap();
    got[1].finish(None).unwrap();
    got[2].fail(None).unwrap();
    let late = WorkUnitMeta {
        priority: 0.0,
        not_before: Some(clock.now() + TimeDelta::hours(1)),
    };
    spec.work_unit("e3").unwrap().set_meta(late).unwrap();
    (clock, spec)
}

fn batch(now: chrono::DateTime<chrono::Utc>) -> Vec<AddWorkUnitItem> {
    let mut items = Vec::new();
    for i in 0..300 {
        let key = format!("u{:03}", (i * 7919) % 250); // repeats: later items win
        let meta = WorkUnitMeta {
            priority: (i % 5) as f64,
            not_before: (i % 11 == 0).then(|| now + TimeDelta::minutes(i)),
        };
        items.push(AddWorkUnitItem {
            key,
            data: map([("i", Value::from(i))]),
            meta,
        });
    }
    for (i, name) in ["e0", "e1", "e2", "e3", "e4"].iter().enumerate() {
        items.push(AddWorkUnitItem {
            key: name.to_string(),
            data: map([("new", i as i64)]),
            meta: Default::default(),
        });
    }
    items
}

fn snapshot(spec: &WorkSpec) -> Vec<String> {
    let mut out: Vec<String> = spec
        .work_units(&Default::default())
        .unwrap()
        .values()
        .map(|u| {
            format!(
                "{} {} {:?} {:?} {}",
                u.name(),
                u.status().unwrap(),
                u.data().unwrap(),
                u.meta().unwrap(),
                u.num_attempts().unwrap()
            )
        })
        .collect();
    out.push(format!("{:?}", spec.count_work_unit_status().unwrap()));
    // Hand-out order is part of the state.
    let worker = spec.namespace().worker("drain").unwrap();
    let req = AttemptRequest {
        number_of_work_units: 1000,
        ..Default::default()
    };
    out.extend(
        worker
            .request_attempts(&req)
            .unwrap()
            .iter()
            .map(|a| a.work_unit().name().to_owned()),
    );
    out
}

#[test]
fn bulk_add_equals_one_by_one() {
    let (clock, bulk) = setup();
    let n = bulk.add_work_units(batch(clock.now())).unwrap();
    // 305 items, 255 distinct names: the count is of distinct units.
    assert_eq!(n, 255);
    let (clock2, single) = setup();
    for item in batch(clock2.now()) {
        single
            .add_work_unit(&item.key, item.data, item.meta)
            .unwrap();
    }
    let (a, b) = (snapshot(&bulk), snapshot(&single));
    assert_eq!(a.len(), b.len());
    assert_eq!(a, b);
    assert!(
        a.iter().any(|l| l.starts_with("e1 available")),
        "finished unit re-added: {a:?}"
    );
}
