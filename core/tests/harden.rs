//! Issue 15, points 1, 12 and 13 on the memory store: the capacity bound
//! (`memory:?max_units=N&max_bytes=N`), parent links, the count of
//! `add_work_units`, and `keep_attempts` retention.

use std::sync::Arc;

use coordinate::{
    map, AddWorkUnitItem, AttemptRequest, ConnectOptions, Coordinate, Map, MockClock, Value,
    WorkSpec, WorkUnitStatus, Worker,
};

fn open(url: &str) -> (Coordinate, WorkSpec, Worker) {
    let clock = MockClock::default();
    let coord = Coordinate::connect(
        url,
        ConnectOptions {
            clock: Some(Arc::new(clock)),
            seed: Some(1),
            ..Default::default()
        },
    )
    .expect("memory store opens");
    let ns = coord.namespace("cap").unwrap();
    let spec = ns
        .set_work_spec(map([("name", "s"), ("then", "t")]))
        .unwrap();
    ns.set_work_spec(map([("name", "t")])).unwrap();
    let worker = ns.worker("w").unwrap();
    (coord, spec, worker)
}

fn names(spec: &WorkSpec) -> Vec<String> {
    spec.work_units(&Default::default())
        .unwrap()
        .into_keys()
        .collect()
}

fn item(name: &str, data: Map) -> AddWorkUnitItem {
    AddWorkUnitItem {
        key: name.into(),
        data,
        meta: Default::default(),
    }
}

fn big(n: usize) -> Map {
    map([("blob", Value::String("x".repeat(n)))])
}

#[test]
fn unit_bound_refuses_adds_and_changes_nothing() {
    let (coord, spec, _) = open("memory:?max_units=3");
    spec.add_work_unit("a", Map::new(), Default::default())
        .unwrap();
    // Two new units and an update of an existing one: 3 units, admitted.
    let n = spec
        .add_work_units(vec![
            item("a", map([("v", 2)])),
            item("b", Map::new()),
            item("c", Map::new()),
        ])
        .unwrap();
    assert_eq!(n, 3);
    let e = spec
        .add_work_unit("d", Map::new(), Default::default())
        .unwrap_err();
    assert_eq!(e.code(), "Capacity");
    assert!(e.to_string().contains("max_units=3"), "{e}");
    // A batch past the bound adds none of its items, not even the first.
    let e = spec
        .add_work_units(vec![item("a", map([("v", 3)])), item("e", Map::new())])
        .unwrap_err();
    assert_eq!(e.code(), "Capacity");
    assert_eq!(names(&spec), ["a", "b", "c"]);
    assert_eq!(
        spec.work_unit("a").unwrap().data().unwrap(),
        map([("v", 2)])
    );
    // Updating an existing unit adds no unit; deleting frees room.
    spec.add_work_unit("b", map([("v", 1)]), Default::default())
        .unwrap();
    spec.work_unit("c").unwrap();
    spec.delete_work_units(&coordinate::WorkUnitQuery {
        names: Some(vec!["c".into()]),
        ..Default::default()
    })
    .unwrap();
    spec.add_work_unit("d", Map::new(), Default::default())
        .unwrap();
    // A destroyed spec frees its units too.
    let ns = spec.namespace();
    ns.destroy_work_spec("s").unwrap();
    let s2 = ns.set_work_spec(map([("name", "s2")])).unwrap();
    for n in ["x", "y", "z"] {
        s2.add_work_unit(n, Map::new(), Default::default()).unwrap();
    }
    assert_eq!(
        s2.add_work_unit("w", Map::new(), Default::default())
            .unwrap_err()
            .code(),
        "Capacity"
    );
    drop(coord);
}

#[test]
fn byte_bound_covers_unit_and_attempt_data() {
    // Each unit and attempt counts 256 bytes plus its data's size: a unit
    // with big(5000) counts 5324, one with big(7000) 7324.
    let (_coord, spec, worker) = open("memory:?max_bytes=17000");
    spec.add_work_unit("a", big(5000), Default::default())
        .unwrap();
    spec.add_work_unit("b", big(5000), Default::default())
        .unwrap();
    let e = spec
        .add_work_unit("c", big(7000), Default::default())
        .unwrap_err();
    assert_eq!(e.code(), "Capacity");
    assert!(e.to_string().contains("max_bytes=17000"), "{e}");
    // Each attempt copies its unit's data: the first fits, the second not;
    // the request returns what fit.
    let req = AttemptRequest {
        number_of_work_units: 2,
        ..Default::default()
    };
    let got = worker.request_attempts(&req).unwrap();
    assert_eq!(got.len(), 1);
    let e = worker.request_attempts(&req).unwrap_err();
    assert_eq!(e.code(), "Capacity");
    let b = spec.work_unit("b").unwrap();
    assert_eq!(b.status().unwrap(), WorkUnitStatus::Available);
    assert!(b.active_attempt().unwrap().is_none());
    let e = worker.make_attempt(&b, Default::default()).unwrap_err();
    assert_eq!(e.code(), "Capacity");
    assert_eq!(b.num_attempts().unwrap(), 0);
    // Growing the attempt's data past the bound is refused; shrinking is fine.
    let att = &got[0];
    let e = att.renew(Default::default(), Some(big(9000))).unwrap_err();
    assert_eq!(e.code(), "Capacity");
    let e = att.fail(Some(big(9000))).unwrap_err();
    assert_eq!(e.code(), "Capacity");
    assert_eq!(att.status().unwrap(), coordinate::AttemptStatus::Pending);
    att.renew(Default::default(), Some(map([("small", 1)])))
        .unwrap();
    // The finished unit's history still counts; deleting the unit frees it.
    att.finish(None).unwrap();
    spec.delete_work_units(&coordinate::WorkUnitQuery {
        names: Some(vec![att.work_unit().name().to_owned()]),
        ..Default::default()
    })
    .unwrap();
    let again = worker.make_attempt(&b, Default::default()).unwrap();
    assert_eq!(again.status().unwrap(), coordinate::AttemptStatus::Pending);
}

#[test]
fn a_chaining_finish_past_the_bound_changes_nothing() {
    let (_coord, spec, worker) = open("memory:?max_units=3");
    spec.add_work_unit("a", Map::new(), Default::default())
        .unwrap();
    let att = worker
        .make_attempt(&spec.work_unit("a").unwrap(), Default::default())
        .unwrap();
    let output = Value::List(vec!["t1".into(), "t2".into(), "t3".into()]);
    let e = att.finish(Some(map([("output", output)]))).unwrap_err();
    assert_eq!(e.code(), "Capacity");
    assert_eq!(att.status().unwrap(), coordinate::AttemptStatus::Pending);
    assert_eq!(att.data().unwrap(), Map::new());
    let t = spec.namespace().work_spec("t").unwrap();
    assert!(names(&t).is_empty());
    // Two chained units fit (3 units in all): the finish goes through.
    let output = Value::List(vec!["t1".into(), "t2".into()]);
    att.finish(Some(map([("output", output)]))).unwrap();
    assert_eq!(names(&t), ["t1", "t2"]);
    assert_eq!(att.status().unwrap(), coordinate::AttemptStatus::Finished);
}

#[test]
fn bad_bounds_are_bad_urls_and_close_keeps_the_bounds() {
    for bad in [
        "memory:?max_units=ten",
        "memory:?max_bytes=-5",
        "memory:?size=3",
        "memory:?max_units",
    ] {
        let e = Coordinate::connect(bad, Default::default()).unwrap_err();
        assert_eq!(e.code(), "BadUrl", "{bad}");
        assert!(e.to_string().contains(bad), "{e}");
    }
    let coord =
        Coordinate::connect("memory:?max_units=none&max_bytes=none", Default::default()).unwrap();
    coord.namespace("x").unwrap();
    let coord = Coordinate::connect("memory:?max_units=0", Default::default()).unwrap();
    let spec = coord
        .namespace("x")
        .unwrap()
        .set_work_spec(map([("name", "s")]))
        .unwrap();
    assert_eq!(
        spec.add_work_unit("a", Map::new(), Default::default())
            .unwrap_err()
            .code(),
        "Capacity"
    );
}

#[test]
fn parents_refuse_cycles_and_destroy_unlinks_other_namespaces() {
    let coord = Coordinate::new();
    let one = coord.namespace("one").unwrap();
    let two = coord.namespace("two").unwrap();
    let a = one.worker("a").unwrap();
    let b = one.worker("b").unwrap();
    b.set_parent(Some(&a)).unwrap();
    let e = a.set_parent(Some(&a)).unwrap_err();
    assert_eq!(e.code(), "InvalidArgument");
    let e = a.set_parent(Some(&b)).unwrap_err();
    assert_eq!(e.code(), "InvalidArgument");
    assert!(a.parent().unwrap().is_none());
    let c = two.worker("c").unwrap();
    c.set_parent(Some(&a)).unwrap();
    let d = two.worker("d").unwrap();
    b.set_parent(Some(&d)).unwrap();
    one.destroy().unwrap();
    assert!(c.parent().unwrap().is_none());
    assert!(d.children().unwrap().is_empty());
    // c is a root again and may take d as its parent.
    c.set_parent(Some(&d)).unwrap();
    assert_eq!(d.children().unwrap().len(), 1);
}

#[test]
fn keep_attempts_bounds_each_units_history() {
    let coord = Coordinate::new();
    let ns = coord.namespace("keep").unwrap();
    let spec = ns
        .set_work_spec(map([
            ("name", Value::from("s")),
            ("keep_attempts", Value::from(3)),
            ("max_retries", Value::from(0)),
        ]))
        .unwrap();
    let worker = ns.worker("w").unwrap();
    spec.add_work_unit("u", map([("k", 1)]), Default::default())
        .unwrap();
    let unit = spec.work_unit("u").unwrap();
    let mut made = Vec::new();
    for _ in 0..10 {
        let att = worker.make_attempt(&unit, Default::default()).unwrap();
        att.expire(None).unwrap();
        made.push(att);
    }
    assert_eq!(unit.attempts().unwrap().len(), 3);
    assert_eq!(unit.num_attempts().unwrap(), 10);
    assert_eq!(worker.all_attempts().unwrap().len(), 3);
    for old in &made[..7] {
        assert_eq!(old.status().unwrap_err().code(), "Gone");
    }
    for kept in &made[7..] {
        assert_eq!(kept.status().unwrap(), coordinate::AttemptStatus::Expired);
    }
    // With retention and a byte bound, a unit retried forever stays bounded.
    let (_c, spec, worker) = open("memory:?max_bytes=60000");
    spec.set_data(map([
        ("name", Value::from("s")),
        ("keep_attempts", Value::from(2)),
    ]))
    .unwrap();
    spec.add_work_unit("u", big(5000), Default::default())
        .unwrap();
    let unit = spec.work_unit("u").unwrap();
    for _ in 0..50 {
        worker
            .make_attempt(&unit, Default::default())
            .unwrap()
            .expire(None)
            .unwrap();
    }
    assert_eq!(unit.attempts().unwrap().len(), 2);
}
