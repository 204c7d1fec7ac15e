//! A batch on PostgreSQL runs first without a savepoint per operation;
//! when one of its operations meets a store error (here: a unit whose
//! stored data was overwritten with bytes that do not decode), the call
//! runs again with savepoints, so that the failing operation alone is
//! undone and the others commit, as on every store.

mod pg;

use coordinate::backend::{Op, Reply};
use coordinate::{AttemptRequest, Backend, Error, Map, Value, WorkUnitStatus};
use coordinate_sql::PgBackend;

/// Runs `sql` on the server at `url` (its `schema=` parameter first on the
/// search path), outside the store.
fn raw(url: &str, sql: &str) {
    let (base, query) = url.split_once('?').expect("a URL with parameters");
    let schema = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("schema="))
        .expect("a schema parameter");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(base, tokio_postgres::NoTls)
            .await
            .expect("connect");
        let driver = tokio::spawn(connection);
        client
            .batch_execute(&format!("SET search_path TO \"{schema}\"; {sql}"))
            .await
            .expect("the raw statement runs");
        drop(client);
        let _ = driver.await;
    });
}

#[test]
fn a_store_error_undoes_its_operation_alone() {
    let Some(server) = pg::server() else {
        return;
    };
    let url = pg::fresh(&server, "batch");
    let b = PgBackend::open(&url, &Default::default()).expect("open");
    let Reply::Namespace(ns) = b.call(Op::Namespace { name: "ns".into() }).unwrap() else {
        panic!("namespace");
    };
    let data: Map = [("name".to_owned(), Value::from("s"))].into();
    let Reply::Spec(spec) = b.call(Op::SetWorkSpec { ns: ns.id, data }).unwrap() else {
        panic!("spec");
    };
    let add = |name: &str| match b
        .call(Op::AddWorkUnit {
            spec: spec.id,
            name: name.into(),
            data: Map::new(),
            meta: Default::default(),
        })
        .unwrap()
    {
        Reply::Unit(u) => u.key(),
        r => panic!("{r:?}"),
    };
    let bad = add("bad");
    add("good");
    let Reply::Worker(Some(w)) = b
        .call(Op::Worker {
            ns: ns.id,
            name: "w".into(),
        })
        .unwrap()
    else {
        panic!("worker");
    };
    raw(
        &url,
        "UPDATE work_units SET data = '\\xc1' WHERE name = 'bad'",
    );
    let results = b
        .batch(vec![
            Op::AddWorkUnit {
                spec: spec.id,
                name: "new".into(),
                data: Map::new(),
                meta: Default::default(),
            },
            Op::UnitData { unit: bad },
            Op::RequestAttempts {
                worker: w.id,
                request: AttemptRequest {
                    number_of_work_units: 1,
                    ..Default::default()
                },
            },
        ])
        .expect("the call itself succeeds");
    assert_eq!(results.len(), 3);
    assert!(
        matches!(&results[1], Err(Error::Storage { .. })),
        "{:?}",
        results[1]
    );
    match &results[2] {
        Ok(Reply::Attempts(a)) => assert_eq!(a.len(), 1, "{a:?}"),
        r => panic!("{r:?}"),
    }
    // The first and third operations committed: the new unit is there, and
    // one unit is pending.
    match &results[0] {
        Ok(Reply::Unit(u)) => match b.call(Op::UnitData { unit: u.key() }) {
            Ok(Reply::Data(d)) => assert!(d.is_empty()),
            r => panic!("{r:?}"),
        },
        r => panic!("{r:?}"),
    }
    match b.call(Op::CountWorkUnitStatus { spec: spec.id }).unwrap() {
        Reply::StatusCounts(c) => {
            let pending = c
                .iter()
                .find(|(s, _)| **s == WorkUnitStatus::Pending)
                .map_or(0, |(_, n)| *n);
            assert_eq!(pending, 1, "{c:?}");
        }
        r => panic!("{r:?}"),
    }
    b.close().unwrap();
}
