//! The HTTP client backend against a real daemon: the v1 protocol, types on
//! the wire, batches, mock time, test stores, tokens, transport failures,
//! bad input and panics.

mod common;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use coordinate::backend::{Op, Reply};
use coordinate::{
    AttemptRequest, Backend, ConnectOptions, Coordinate, Error, Map, MockClock, Value,
    WorkUnitMeta, WorkUnitStatus,
};
use coordinate_server::wire::{self, Problem};
use coordinate_server::HttpBackend;

use common::{raw, Framing};

fn client(url: &str, options: ConnectOptions) -> HttpBackend {
    HttpBackend::new(url, &options).expect("a client")
}

fn spec_data(name: &str) -> Map {
    coordinate::map([("name", name)])
}

/// Namespace, spec and `n` units through `b`; the spec id.
fn fill(b: &dyn Backend, ns: &str, n: usize) -> (u64, u64) {
    let Reply::Namespace(ns) = b.call(Op::Namespace { name: ns.into() }).unwrap() else {
        panic!("namespace")
    };
    let Reply::Spec(spec) = b
        .call(Op::SetWorkSpec {
            ns: ns.id,
            data: spec_data("s"),
        })
        .unwrap()
    else {
        panic!("spec")
    };
    let ops = (0..n)
        .map(|i| Op::AddWorkUnit {
            spec: spec.id,
            name: format!("u{i:05}"),
            data: Map::new(),
            meta: WorkUnitMeta::default(),
        })
        .collect();
    for r in b.batch(ops).unwrap() {
        assert!(matches!(r, Ok(Reply::Unit(_))), "{r:?}");
    }
    (ns.id, spec.id)
}

#[test]
fn operations_round_trip_with_exact_types() {
    let d = common::daemon(false);
    let b = client(&d.url(), ConnectOptions::default());
    let (ns, spec) = fill(&b, "types", 0);
    let mut data = Map::new();
    data.insert("i".into(), Value::Int(2));
    data.insert("f".into(), Value::Float(2.0));
    data.insert("nan".into(), Value::Float(f64::NAN));
    data.insert("inf".into(), Value::Float(f64::INFINITY));
    data.insert("bytes".into(), Value::Bytes(vec![0, 1, 255]));
    data.insert("text".into(), Value::String("ü\u{0}".into()));
    data.insert(
        "list".into(),
        Value::List(vec![Value::Null, Value::Bool(true)]),
    );
    let Reply::Unit(unit) = b
        .call(Op::AddWorkUnit {
            spec,
            name: "u".into(),
            data: data.clone(),
            meta: WorkUnitMeta {
                priority: 1.5,
                not_before: None,
            },
        })
        .unwrap()
    else {
        panic!("unit")
    };
    let Reply::Data(back) = b.call(Op::UnitData { unit: unit.key() }).unwrap() else {
        panic!("data")
    };
    assert_eq!(back["i"], Value::Int(2));
    assert_eq!(back["f"], Value::Float(2.0));
    assert!(matches!(back["nan"], Value::Float(f) if f.is_nan()));
    assert_eq!(back["inf"], Value::Float(f64::INFINITY));
    assert_eq!(back["bytes"], Value::Bytes(vec![0, 1, 255]));
    assert_eq!(back["text"], data["text"]);
    assert_eq!(back["list"], data["list"]);
    // Errors come back typed.
    assert_eq!(
        b.call(Op::WorkUnit {
            spec,
            name: "nope".into()
        }),
        Err(Error::NoSuchWorkUnit {
            name: "nope".into()
        })
    );
    assert_eq!(
        b.call(Op::WorkSpec {
            ns,
            name: "nope".into()
        }),
        Err(Error::NoSuchWorkSpec {
            name: "nope".into()
        })
    );
    assert_eq!(
        b.call(Op::SetWorkSpec {
            ns,
            data: Map::new()
        }),
        Err(Error::NoWorkSpecName)
    );
}

#[test]
fn handles_over_http_drain_without_duplicates() {
    let d = common::daemon(false);
    coordinate_server::install();
    let coord = Coordinate::connect(&d.url(), ConnectOptions::default()).unwrap();
    let ns = coord.namespace("drain").unwrap();
    let spec = ns.set_work_spec(spec_data("s")).unwrap();
    for i in 0..50 {
        spec.add_work_unit(&format!("u{i:02}"), Map::new(), Default::default())
            .unwrap();
    }
    let worker = ns.worker("w").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    loop {
        let req = AttemptRequest {
            number_of_work_units: 7,
            ..Default::default()
        };
        let attempts = worker.request_attempts(&req).unwrap();
        if attempts.is_empty() {
            break;
        }
        for a in attempts {
            assert!(
                seen.insert(a.work_unit().name().to_owned()),
                "handed out twice"
            );
            a.finish(None).unwrap();
        }
    }
    assert_eq!(seen.len(), 50);
    let counts = spec.count_work_unit_status().unwrap();
    assert_eq!(counts.get(&WorkUnitStatus::Finished), Some(&50));
}

#[test]
fn batch_finish_then_request_is_one_round_trip_each() {
    let d = common::daemon(false);
    let b = client(&d.url(), ConnectOptions::default());
    let (ns, _) = fill(&b, "batch", 10);
    let Reply::Worker(Some(w)) = b
        .call(Op::Worker {
            ns,
            name: "w".into(),
        })
        .unwrap()
    else {
        panic!("worker")
    };
    let request = |n| Op::RequestAttempts {
        worker: w.id,
        request: AttemptRequest {
            number_of_work_units: n,
            ..Default::default()
        },
    };
    let Reply::Attempts(mut held) = b.call(request(3)).unwrap() else {
        panic!("attempts")
    };
    let mut done = 0;
    while !held.is_empty() {
        let mut ops: Vec<Op> = held
            .iter()
            .map(|a| Op::Finish {
                attempt: a.id,
                data: None,
            })
            .collect();
        ops.push(request(3));
        let mut results = b.batch(ops).unwrap();
        let last = results.pop().unwrap();
        assert_eq!(results.len(), held.len());
        for r in results {
            assert_eq!(r, Ok(Reply::Done));
            done += 1;
        }
        let Ok(Reply::Attempts(next)) = last else {
            panic!("{last:?}")
        };
        held = next;
    }
    assert_eq!(done, 10);
    // Each operation of a batch fails on its own.
    let results = b
        .batch(vec![
            Op::Finish {
                attempt: 999_999,
                data: None,
            },
            Op::Namespaces,
        ])
        .unwrap();
    assert!(results[0].is_err());
    assert!(matches!(results[1], Ok(Reply::Namespaces(_))));
    assert_eq!(b.batch(vec![]).unwrap(), vec![]);
}

#[test]
fn mock_time_rides_on_requests_in_test_mode() {
    let d = common::daemon(true);
    let start = DateTime::<Utc>::from_timestamp(1_000_000, 123_456_789).unwrap();
    let clock = MockClock::new(start);
    let options = ConnectOptions {
        clock: Some(Arc::new(clock.clone())),
        ..Default::default()
    };
    let b = client(&format!("{}?test_store=mock-1", d.url()), options);
    assert_eq!(b.now(), start);
    let (ns, _) = fill(&b, "clock", 1);
    let Reply::Worker(Some(w)) = b
        .call(Op::Worker {
            ns,
            name: "w".into(),
        })
        .unwrap()
    else {
        panic!("worker")
    };
    clock.advance(TimeDelta::seconds(5));
    let Reply::Attempts(a) = b
        .call(Op::RequestAttempts {
            worker: w.id,
            request: AttemptRequest::default(),
        })
        .unwrap()
    else {
        panic!("attempts")
    };
    let Reply::Time(t) = b.call(Op::AttemptStartTime { attempt: a[0].id }).unwrap() else {
        panic!("time")
    };
    assert_eq!(t, start + TimeDelta::seconds(5));
    // Not in test mode: a clock on the client is refused, typed.
    let prod = common::daemon(false);
    let options = ConnectOptions {
        clock: Some(Arc::new(clock)),
        ..Default::default()
    };
    let b = client(&prod.url(), options);
    match b.call(Op::Namespaces) {
        Err(Error::Storage { reason }) => assert!(reason.contains("TestModeOnly"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn test_stores_are_isolated_seeded_and_dropped() {
    let d = common::daemon(true);
    let seeded = |name: &str| {
        client(
            &format!("{}?test_store={name}", d.url()),
            ConnectOptions {
                seed: Some(7),
                ..Default::default()
            },
        )
    };
    let a = seeded("a");
    let b = seeded("b");
    fill(&a, "only-in-a", 3);
    let Reply::Namespaces(in_b) = b.call(Op::Namespaces).unwrap() else {
        panic!("namespaces")
    };
    assert!(in_b.is_empty(), "{in_b:?}");
    let Reply::Namespaces(in_a) = a.call(Op::Namespaces).unwrap() else {
        panic!("namespaces")
    };
    assert_eq!(in_a.len(), 1);
    // The main store sees neither.
    let main = client(&d.url(), ConnectOptions::default());
    let Reply::Namespaces(in_main) = main.call(Op::Namespaces).unwrap() else {
        panic!("namespaces")
    };
    assert!(in_main.is_empty());
    a.reseed(11);
    // Close drops the test store: a new client of that name starts empty.
    a.close().unwrap();
    assert_eq!(a.call(Op::Namespaces), Err(Error::Gone));
    let again = seeded("a");
    let Reply::Namespaces(fresh) = again.call(Op::Namespaces).unwrap() else {
        panic!("namespaces")
    };
    assert!(fresh.is_empty());
    // Test stores do not exist outside test mode, and names are checked.
    let prod = common::daemon(false);
    let p = client(
        &format!("{}?test_store=x", prod.url()),
        ConnectOptions::default(),
    );
    assert!(matches!(p.call(Op::Namespaces), Err(Error::Storage { .. })));
    let bad = client(
        &format!("{}?test_store=a%2Fb", d.url()),
        ConnectOptions::default(),
    );
    assert!(matches!(
        bad.call(Op::Namespaces),
        Err(Error::Storage { .. })
    ));
}

#[test]
fn seeded_test_stores_draw_alike() {
    let d = common::daemon(true);
    // Two specs of equal weight: the weighted draw depends on the seed only.
    let draw = |name: &str| -> Vec<String> {
        let b = client(
            &format!("{}?test_store={name}", d.url()),
            ConnectOptions {
                seed: Some(42),
                ..Default::default()
            },
        );
        let Reply::Namespace(ns) = b.call(Op::Namespace { name: "n".into() }).unwrap() else {
            panic!()
        };
        for s in ["x", "y"] {
            let Reply::Spec(spec) = b
                .call(Op::SetWorkSpec {
                    ns: ns.id,
                    data: spec_data(s),
                })
                .unwrap()
            else {
                panic!()
            };
            for i in 0..10 {
                b.call(Op::AddWorkUnit {
                    spec: spec.id,
                    name: format!("{s}{i}"),
                    data: Map::new(),
                    meta: Default::default(),
                })
                .unwrap();
            }
        }
        let Reply::Worker(Some(w)) = b
            .call(Op::Worker {
                ns: ns.id,
                name: "w".into(),
            })
            .unwrap()
        else {
            panic!()
        };
        (0..10)
            .map(|_| {
                let Reply::Attempts(a) = b
                    .call(Op::RequestAttempts {
                        worker: w.id,
                        request: Default::default(),
                    })
                    .unwrap()
                else {
                    panic!()
                };
                a[0].unit.name.to_string()
            })
            .collect()
    };
    assert_eq!(draw("seed-a"), draw("seed-b"));
}

#[test]
fn tokens_and_transport_failures() {
    let d = common::daemon_with(|c| c.token = Some("tok".into()));
    let none = client(&d.url(), ConnectOptions::default());
    assert_eq!(none.call(Op::Namespaces), Err(Error::Unauthorized));
    let wrong = client(
        &d.url(),
        ConnectOptions {
            token: Some("tok2".into()),
            ..Default::default()
        },
    );
    assert_eq!(wrong.batch(vec![Op::Namespaces]), Err(Error::Unauthorized));
    let right = client(
        &d.url(),
        ConnectOptions {
            token: Some("tok".into()),
            ..Default::default()
        },
    );
    assert!(matches!(
        right.call(Op::Namespaces),
        Ok(Reply::Namespaces(_))
    ));
    // A stopped daemon: Unavailable; nothing was sent, so any call may be
    // (and was) tried again.
    let url = d.url();
    d.stop().unwrap();
    let gone = client(&url, ConnectOptions::default());
    for op in [
        Op::Namespaces,
        Op::Finish {
            attempt: 1,
            data: None,
        },
    ] {
        match gone.call(op) {
            Err(Error::Unavailable { reason }) => {
                assert!(!reason.contains("not retried"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
    }
}

/// A server that takes each request and closes the connection without an
/// answer (a daemon dying mid-call); its `host:port` and how many requests
/// it took.
fn dying_server() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let taken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = taken.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = [0u8; 4096];
            if stream.read(&mut buf).unwrap_or(0) > 0 {
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    (addr, taken)
}

#[test]
fn several_daemons_fail_over_without_repeating_what_may_have_run() {
    use std::sync::atomic::Ordering;
    let d = common::daemon(false);
    let live = d
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    // A dead daemon first: every call goes on to the live one.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_addr = dead.local_addr().unwrap().to_string();
    drop(dead);
    let b = client(
        &format!("http://{dead_addr},{live}/"),
        ConnectOptions::default(),
    );
    let (ns, spec) = fill(&b, "failover", 3);
    assert_eq!(b.base_url(), d.url(), "the live daemon is current");
    let Reply::Worker(Some(w)) = b
        .call(Op::Worker {
            ns,
            name: "w".into(),
        })
        .unwrap()
    else {
        panic!("worker")
    };
    let Reply::Attempts(a) = b
        .call(Op::RequestAttempts {
            worker: w.id,
            request: AttemptRequest::default(),
        })
        .unwrap()
    else {
        panic!("attempts")
    };
    assert_eq!(a.len(), 1);

    // A daemon that dies holding each request: an idempotent call goes on
    // to the live daemon; a finish is not sent twice (the caller sees
    // Unavailable), and the next call goes to the live daemon.
    let (dying, taken) = dying_server();
    let b = client(
        &format!("http://{dying},{live}/"),
        ConnectOptions::default(),
    );
    assert!(matches!(b.call(Op::Namespaces), Ok(Reply::Namespaces(_))));
    assert_eq!(taken.load(Ordering::SeqCst), 1);
    let b = client(
        &format!("http://{dying},{live}/"),
        ConnectOptions::default(),
    );
    let finish = Op::Finish {
        attempt: a[0].id,
        data: None,
    };
    match b.call(finish.clone()) {
        Err(Error::Unavailable { reason }) => {
            assert!(reason.contains("not retried"), "{reason}");
            assert!(reason.contains(&dying), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(taken.load(Ordering::SeqCst), 2, "the finish was sent once");
    assert_eq!(
        b.base_url(),
        d.url(),
        "the next call goes to the live daemon"
    );
    assert_eq!(b.call(finish), Ok(Reply::Done));
    assert_eq!(taken.load(Ordering::SeqCst), 2);
    let Reply::StatusCounts(c) = b.call(Op::CountWorkUnitStatus { spec }).unwrap() else {
        panic!("counts")
    };
    assert_eq!(c.get(&WorkUnitStatus::Finished), Some(&1));

    // A bad list is a bad URL.
    for url in ["http://a:1,/", "http://,b:2/"] {
        assert!(
            matches!(
                HttpBackend::new(url, &Default::default()),
                Err(Error::BadUrl { .. })
            ),
            "{url}"
        );
    }
}

fn problem(a: &common::Answer) -> Problem {
    assert_eq!(a.header("content-type"), Some(wire::MEDIA_TYPE), "{a:?}");
    wire::decode(&a.body, 8).expect("a Problem body")
}

#[test]
fn bad_input_is_refused_typed_and_the_daemon_goes_on() {
    let d = common::daemon_with(|c| {
        c.max_body_bytes = 64 * 1024;
        c.max_depth = 16;
        c.token = Some("t".into());
    });
    let addr = d.addr();
    let auth = ("Authorization", "Bearer t");
    let mp = ("Content-Type", wire::MEDIA_TYPE);
    let good = wire::encode(&Op::Namespaces).unwrap();
    let check_alive = || {
        let a = raw(
            addr,
            "POST",
            "/v1/call",
            &[mp, auth],
            Some((&good, Framing::Length)),
        );
        assert_eq!(a.status, 200);
        let r: Result<Reply, Error> = wire::decode(&a.body, 64).unwrap();
        assert!(matches!(r, Ok(Reply::Namespaces(_))));
        assert_eq!(raw(addr, "GET", "/healthz", &[], None).status, 200);
    };
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "malformed",
            "/v1/call",
            b"\xc1\xff\x00".to_vec(),
            400,
            "BadRequest",
        ),
        (
            "wrong type",
            "/v1/call",
            wire::encode(&17u32).unwrap(),
            400,
            "BadRequest",
        ),
        (
            "unknown op",
            "/v1/call",
            wire::encode(&serde_json::json!({"op": "explode"})).unwrap(),
            400,
            "BadRequest",
        ),
        (
            "wrong field type",
            "/v1/call",
            wire::encode(&serde_json::json!({"op": "namespace", "name": 5})).unwrap(),
            400,
            "BadRequest",
        ),
        (
            "batch of garbage",
            "/v1/batch",
            wire::encode(&vec![1, 2]).unwrap(),
            400,
            "BadRequest",
        ),
        (
            "trailing bytes",
            "/v1/call",
            [good.clone(), vec![0]].concat(),
            400,
            "BadRequest",
        ),
        (
            "huge",
            "/v1/call",
            vec![0x90; 200 * 1024],
            413,
            "PayloadTooLarge",
        ),
        (
            "unknown route",
            "/v1/nothing",
            good.clone(),
            404,
            "NotFound",
        ),
    ];
    for (what, path, body, status, code) in cases {
        for framing in [Framing::Length, Framing::Chunked] {
            let a = raw(addr, "POST", path, &[mp, auth], Some((&body, framing)));
            assert_eq!(a.status, status, "{what} {framing:?}: {a:?}");
            assert_eq!(problem(&a).code, code, "{what}");
            check_alive();
        }
    }
    // Deep MessagePack.
    let mut v = Value::Int(1);
    for _ in 0..40 {
        v = Value::List(vec![v]);
    }
    let mut data = Map::new();
    data.insert("deep".into(), v);
    let deep = wire::encode(&Op::Finish {
        attempt: 1,
        data: Some(data),
    })
    .unwrap();
    let a = raw(
        addr,
        "POST",
        "/v1/call",
        &[mp, auth],
        Some((&deep, Framing::Chunked)),
    );
    assert_eq!((a.status, problem(&a).code.as_str()), (400, "BadRequest"));
    // Wrong media type, wrong method, wrong token.
    let a = raw(
        addr,
        "POST",
        "/v1/call",
        &[("Content-Type", "application/json"), auth],
        Some((b"{}", Framing::Length)),
    );
    assert_eq!(
        (a.status, problem(&a).code.as_str()),
        (415, "UnsupportedMediaType")
    );
    let a = raw(addr, "GET", "/v1/call", &[auth], None);
    assert_eq!(
        (a.status, problem(&a).code.as_str()),
        (405, "MethodNotAllowed")
    );
    let a = raw(
        addr,
        "POST",
        "/v1/call",
        &[mp, ("Authorization", "Bearer x")],
        Some((&good, Framing::Length)),
    );
    assert_eq!((a.status, problem(&a).code.as_str()), (401, "Unauthorized"));
    check_alive();
    // The REST side: deep JSON, huge JSON, malformed JSON.
    let rest_auth = [("Content-Type", "application/json"), auth];
    let deep_json = format!("{{\"data\": {}1{}}}", "[".repeat(40), "]".repeat(40));
    let a = raw(
        addr,
        "POST",
        "/namespace/x/work_spec",
        &rest_auth,
        Some((deep_json.as_bytes(), Framing::Chunked)),
    );
    assert_eq!(a.status, 400);
    assert!(a.text().contains("deeper"), "{}", a.text());
    let huge = format!("{{\"data\": \"{}\"}}", "x".repeat(100 * 1024));
    let a = raw(
        addr,
        "POST",
        "/namespace/x/work_spec",
        &rest_auth,
        Some((huge.as_bytes(), Framing::Chunked)),
    );
    assert_eq!(a.status, 413);
    let a = raw(
        addr,
        "POST",
        "/namespace/x/work_spec",
        &rest_auth,
        Some((b"{\"data\": [}", Framing::Length)),
    );
    assert_eq!(a.status, 400);
    check_alive();
}

/// A store that panics on every call: the daemon answers 500 and goes on.
/// `blocking`: whether its calls run on the blocking pool (true) or on the
/// connection's thread (false, as the memory engine's do).
#[derive(Debug)]
struct Panicking {
    blocking: bool,
}

impl Backend for Panicking {
    fn call(&self, op: Op) -> coordinate::Result<Reply> {
        panic!("deliberate panic on {op:?}")
    }
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
    fn reseed(&self, _: u64) {}
    fn blocking(&self) -> bool {
        self.blocking
    }
}

fn panicking_opener(url: &str, options: &ConnectOptions) -> coordinate::Result<Arc<dyn Backend>> {
    match url {
        "panic:" => Ok(Arc::new(Panicking { blocking: true })),
        "panic-inline:" => Ok(Arc::new(Panicking { blocking: false })),
        _ => coordinate_server::open_store(url, options),
    }
}

#[test]
fn a_panicking_store_call_answers_500_and_the_daemon_survives() {
    for store in ["panic:", "panic-inline:"] {
        a_panicking_store(store);
    }
}

fn a_panicking_store(store: &str) {
    let d = common::daemon_with(|c| {
        c.store_url = store.into();
        c.opener = panicking_opener;
    });
    let b = client(&d.url(), ConnectOptions::default());
    for _ in 0..3 {
        match b.call(Op::Namespaces) {
            Err(Error::Storage { reason }) => {
                assert!(
                    reason.contains("Internal") && reason.contains("deliberate"),
                    "{reason}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    let a = common::get(d.addr(), "/namespace/x");
    assert_eq!(a.status, 500);
    assert_eq!(a.json()["error"], "panic");
    assert_eq!(raw(d.addr(), "GET", "/healthz", &[], None).status, 200);
}

#[test]
fn metrics_count_attempts_units_and_latency() {
    let d = common::daemon(false);
    let b = client(&d.url(), ConnectOptions::default());
    let (ns, _) = fill(&b, "m", 4);
    let Reply::Worker(Some(w)) = b
        .call(Op::Worker {
            ns,
            name: "w".into(),
        })
        .unwrap()
    else {
        panic!()
    };
    let Reply::Attempts(a) = b
        .call(Op::RequestAttempts {
            worker: w.id,
            request: AttemptRequest {
                number_of_work_units: 3,
                ..Default::default()
            },
        })
        .unwrap()
    else {
        panic!()
    };
    b.call(Op::Finish {
        attempt: a[0].id,
        data: None,
    })
    .unwrap();
    b.call(Op::Fail {
        attempt: a[1].id,
        data: None,
    })
    .unwrap();
    b.call(Op::Expire {
        attempt: a[2].id,
        data: None,
    })
    .unwrap();
    common::get(d.addr(), "/namespace/m/work_spec/s");
    let text = raw(d.addr(), "GET", "/metrics", &[], None).text();
    for line in [
        "coordinate_attempts_started_total 3",
        "coordinate_attempts_finished_total 1",
        "coordinate_attempts_failed_total 1",
        "coordinate_attempts_expired_total 1",
        "coordinate_work_units{namespace=\"m\",work_spec=\"s\",status=\"finished\"} 1",
        "coordinate_work_units{namespace=\"m\",work_spec=\"s\",status=\"failed\"} 1",
        "coordinate_work_units{namespace=\"m\",work_spec=\"s\",status=\"available\"} 2",
        "coordinate_store_up 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains("coordinate_http_request_duration_seconds_count{route=\"/v1/call\"}"));
    assert!(text.contains(
        "coordinate_http_request_duration_seconds_count{route=\"…/work_spec/{spec}\"} 1"
    ));
}
