//! Files the store must refuse with a `Storage` error naming the path,
//! leaving them untouched: not a Coordinate database, a newer schema, a
//! truncated or corrupt file, a read-only file, a full disk.

use std::path::{Path, PathBuf};
use std::process::Command;

use coordinate::backend::{Op, Reply};
use coordinate::{Backend, Error, Map, Value};
use coordinate_sql::{SqliteBackend, SCHEMA_VERSION};

const DRILL: &str = env!("CARGO_BIN_EXE_coordinate-sql-drill");

fn open(path: &Path) -> Result<SqliteBackend, Error> {
    SqliteBackend::open(&format!("sqlite://{}", path.display()), &Default::default())
}

/// Asserts a `Storage` error that names the file (and says `what`).
fn assert_storage(r: Result<impl std::fmt::Debug, Error>, path: &Path, what: &str) {
    match r {
        Err(Error::Storage { reason }) => {
            assert!(
                reason.contains(&path.display().to_string()),
                "{reason:?} does not name {}",
                path.display()
            );
            assert!(reason.contains(what), "{reason:?} does not say {what:?}");
        }
        other => panic!("expected a Storage error, got {other:?}"),
    }
}

/// The file's bytes, and that no journal appeared beside it.
fn snapshot(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

fn assert_untouched(path: &Path, before: &[u8]) {
    assert_eq!(std::fs::read(path).unwrap(), before, "the file changed");
    for suffix in ["-wal", "-journal"] {
        let mut side = path.as_os_str().to_owned();
        side.push(suffix);
        assert!(
            std::fs::metadata(&side).map_or(true, |m| m.len() == 0),
            "{suffix} written"
        );
    }
}

/// A Coordinate store with some units, closed (so the WAL is checkpointed
/// into the main file).
fn coordinate_file(dir: &Path, units: usize) -> PathBuf {
    let path = dir.join("state.db");
    let b = open(&path).unwrap();
    let ns = match b.call(Op::Namespace { name: "n".into() }).unwrap() {
        Reply::Namespace(n) => n.id,
        r => panic!("{r:?}"),
    };
    let data: Map = [("name".to_owned(), Value::from("s"))].into();
    let spec = match b.call(Op::SetWorkSpec { ns, data }).unwrap() {
        Reply::Spec(s) => s.id,
        r => panic!("{r:?}"),
    };
    let items = (0..units)
        .map(|i| coordinate::AddWorkUnitItem {
            key: format!("unit-{i:06}"),
            data: [("pad".to_owned(), Value::from("x".repeat(200)))].into(),
            meta: Default::default(),
        })
        .collect();
    b.call(Op::AddWorkUnits { spec, items }).unwrap();
    b.close().unwrap();
    path
}

#[test]
fn another_applications_sqlite_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
            .unwrap();
    }
    let before = snapshot(&path);
    assert_storage(open(&path), &path, "not a Coordinate database");
    assert_untouched(&path, &before);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(
        &path,
        "just some text, long enough to be more than a header ".repeat(100),
    )
    .unwrap();
    let before = snapshot(&path);
    assert_storage(open(&path), &path, "not a database");
    assert_untouched(&path, &before);
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = coordinate_file(dir.path(), 10);
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(&format!(
            "PRAGMA journal_mode=DELETE; PRAGMA user_version={}",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    }
    let before = snapshot(&path);
    assert_storage(open(&path), &path, "newer");
    assert_untouched(&path, &before);
}

#[test]
fn a_truncated_file_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = coordinate_file(dir.path(), 2000);
    let full = std::fs::metadata(&path).unwrap().len();
    assert!(full > 100_000, "the store is {full} bytes");
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(full / 2).unwrap();
    drop(f);
    let before = snapshot(&path);
    assert_storage(open(&path), &path, "truncated");
    assert_untouched(&path, &before);
    // A file cut inside its header too.
    std::fs::write(&path, &before[..50]).unwrap();
    assert_storage(open(&path), &path, "truncated");
}

#[test]
fn a_corrupt_file_fails_calls_with_storage_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = coordinate_file(dir.path(), 2000);
    let mut bytes = snapshot(&path);
    // Keep page 1 (header and schema), scribble over every other page.
    let page = 4096;
    for (i, b) in bytes.iter_mut().enumerate().skip(page) {
        *b = (i * 7 + 13) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();
    // Either the open or the first call that reads a table refuses.
    let result = open(&path).and_then(|b| {
        b.call(Op::Namespaces)?;
        b.call(Op::Summarize)
    });
    assert_storage(result, &path, "malformed");
}

#[test]
fn read_only_mode_is_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = coordinate_file(dir.path(), 10);
    let before = snapshot(&path);
    let url = format!("sqlite://{}?mode=ro", path.display());
    assert_storage(
        SqliteBackend::open(&url, &Default::default()),
        &path,
        "read-only",
    );
    assert_untouched(&path, &before);
}

/// Runs `script` as root in a private mount namespace (for a read-only or
/// tiny file system of our own); `None` where that is not possible here.
fn in_mount_namespace(script: &str) -> Option<String> {
    let out = Command::new("unshare")
        .args(["-m", "sh", "-ec", script])
        .output()
        .ok()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success()
        && (stderr.contains("Operation not permitted") || stderr.contains("unshare failed"))
    {
        return None;
    }
    assert!(out.status.success(), "script failed: {stderr}");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

#[test]
fn a_file_on_a_read_only_mount_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = coordinate_file(dir.path(), 10);
    let before = snapshot(&path);
    let d = dir.path().display();
    let script = format!(
        "mount --bind {d} {d}; mount -o remount,bind,ro {d}; {DRILL} open sqlite://{}",
        path.display()
    );
    match in_mount_namespace(&script) {
        Some(out) => {
            assert!(out.starts_with("Storage "), "{out}");
            assert!(out.contains(&path.display().to_string()), "{out}");
            assert_untouched(&path, &before);
        }
        None => assert!(!is_root(), "root could not make a mount namespace"),
    }
}

#[test]
fn a_full_disk_is_a_storage_error_and_the_store_still_answers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let script = format!("mount -t tmpfs -o size=2m tmpfs {d}; {DRILL} fill sqlite://{d}/full.db");
    match in_mount_namespace(&script) {
        Some(out) => {
            let mut lines = out.lines();
            let first = lines.next().unwrap_or("");
            assert!(first.starts_with("Storage "), "{out}");
            assert!(first.contains("full.db"), "{out}");
            assert!(first.contains("full"), "{out}");
            // Everything committed before the failed call is still there.
            let added: i64 = first
                .split(' ')
                .nth(1)
                .and_then(|n| n.parse().ok())
                .unwrap();
            assert!(added > 0, "{out}");
            assert_eq!(
                lines.next(),
                Some(format!("available {added}").as_str()),
                "{out}"
            );
        }
        None => assert!(!is_root(), "root could not make a mount namespace"),
    }
}
