//! A SQLite file of schema version 1 (one `spec_counts` row per spec, keyed
//! by spec alone) opens migrated to the current version with its counts
//! kept, and works on.

use std::path::Path;

use coordinate::backend::{Op, Reply};
use coordinate::{AttemptRequest, Backend, Map, Value, WorkUnitStatus};
use coordinate_sql::{SqliteBackend, SCHEMA_VERSION};

fn open(path: &Path) -> SqliteBackend {
    SqliteBackend::open(&format!("sqlite://{}", path.display()), &Default::default()).unwrap()
}

fn counts(b: &dyn Backend, spec: u64) -> Vec<(WorkUnitStatus, i64)> {
    match b.call(Op::CountWorkUnitStatus { spec }).unwrap() {
        Reply::StatusCounts(c) => {
            let mut v: Vec<_> = c.into_iter().collect();
            v.sort_by_key(|(s, _)| format!("{s:?}"));
            v
        }
        r => panic!("{r:?}"),
    }
}

#[test]
fn a_version_1_file_is_migrated_with_its_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let b = open(&path);
    let ns = match b.call(Op::Namespace { name: "n".into() }).unwrap() {
        Reply::Namespace(n) => n.id,
        r => panic!("{r:?}"),
    };
    let data: Map = [("name".to_owned(), Value::from("s"))].into();
    let spec = match b.call(Op::SetWorkSpec { ns, data }).unwrap() {
        Reply::Spec(s) => s.id,
        r => panic!("{r:?}"),
    };
    let items = (0..10)
        .map(|i| coordinate::AddWorkUnitItem {
            key: format!("u{i}"),
            data: Map::new(),
            meta: Default::default(),
        })
        .collect();
    b.call(Op::AddWorkUnits { spec, items }).unwrap();
    let worker = match b.call(Op::Worker {
        ns,
        name: "w".into(),
    }) {
        Ok(Reply::Worker(Some(w))) => w.id,
        r => panic!("{r:?}"),
    };
    let request = |n| Op::RequestAttempts {
        worker,
        request: AttemptRequest {
            number_of_work_units: n,
            ..Default::default()
        },
    };
    let attempts = match b.call(request(3)).unwrap() {
        Reply::Attempts(a) => a,
        r => panic!("{r:?}"),
    };
    assert_eq!(attempts.len(), 3);
    b.call(Op::Finish {
        attempt: attempts[0].id,
        data: None,
    })
    .unwrap();
    let before = counts(&b, spec);
    assert_eq!(
        before,
        vec![
            (WorkUnitStatus::Available, 7),
            (WorkUnitStatus::Finished, 1),
            (WorkUnitStatus::Pending, 2)
        ]
    );
    b.close().unwrap();
    drop(b);

    // Back to version 1's layout: one row per spec, no shard column.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "BEGIN;
             CREATE TABLE v1 (spec INTEGER PRIMARY KEY, available INTEGER NOT NULL DEFAULT 0,
                 delayed INTEGER NOT NULL DEFAULT 0, pending INTEGER NOT NULL DEFAULT 0,
                 finished INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0);
             INSERT INTO v1 SELECT spec, SUM(available), SUM(delayed), SUM(pending),
                 SUM(finished), SUM(failed) FROM spec_counts GROUP BY spec;
             DROP TABLE spec_counts;
             ALTER TABLE v1 RENAME TO spec_counts;
             PRAGMA user_version = 1;
             COMMIT;",
        )
        .unwrap();
    }

    let b = open(&path);
    assert_eq!(counts(&b, spec), before, "counts kept by the migration");
    // The migrated store goes on counting.
    b.call(Op::Finish {
        attempt: attempts[1].id,
        data: None,
    })
    .unwrap();
    match b.call(request(100)).unwrap() {
        Reply::Attempts(a) => assert_eq!(a.len(), 7),
        r => panic!("{r:?}"),
    }
    assert_eq!(
        counts(&b, spec),
        vec![(WorkUnitStatus::Finished, 2), (WorkUnitStatus::Pending, 8)]
    );
    b.close().unwrap();
    let c = rusqlite::Connection::open(&path).unwrap();
    let version: i32 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let shards: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM spec_counts WHERE shard = 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(shards, 1, "SQLite keeps one count row per spec");
}
