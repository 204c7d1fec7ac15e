//! The server going away and coming back: calls give `Unavailable` while
//! it is down, and the same backend works again once it is up (it
//! connects again). Needs control of the server: `$COORDINATE_TEST_POSTGRES_CTL`
//! names `scripts/postgres.sh` (set by `make test-postgres`), whose `pause`
//! and `resume` stop and start the throwaway server. Its own test binary,
//! so that no other PostgreSQL test runs while the server is down.

mod pg;

use std::process::Command;

use coordinate::backend::{Op, Reply};
use coordinate::{Backend, Error};
use coordinate_sql::PgBackend;

fn ctl(script: &str, what: &str) {
    // The script acts on its own server only when not given one.
    let status = Command::new(script)
        .arg(what)
        .env_remove("COORDINATE_TEST_POSTGRES")
        .status()
        .expect("run the server script");
    assert!(status.success(), "{script} {what} failed");
}

#[test]
fn server_restart_gives_unavailable_then_recovers() {
    let Some(server) = pg::server() else {
        return;
    };
    let Some(script) = std::env::var("COORDINATE_TEST_POSTGRES_CTL")
        .ok()
        .filter(|s| !s.is_empty())
    else {
        eprintln!(
            "\n*** SKIPPED: the restart test needs COORDINATE_TEST_POSTGRES_CTL=scripts/postgres.sh \
             (a server it may stop and start) ***\n"
        );
        return;
    };
    let url = pg::fresh(&server, "restart");
    let b = PgBackend::open(&url, &Default::default()).unwrap();
    let ns = match b.call(Op::Namespace { name: "r".into() }).unwrap() {
        Reply::Namespace(n) => n,
        r => panic!("{r:?}"),
    };
    ctl(&script, "pause");
    let down = b.call(Op::Namespaces);
    let down_again = b.call(Op::Namespaces);
    ctl(&script, "resume");
    assert!(
        matches!(down, Err(Error::Unavailable { .. })),
        "while the server is down: {down:?}"
    );
    assert!(
        matches!(down_again, Err(Error::Unavailable { .. })),
        "still down: {down_again:?}"
    );
    // Up again: the same backend reconnects, and what was committed is there.
    match b.call(Op::Namespaces).unwrap() {
        Reply::Namespaces(list) => assert_eq!(list, vec![ns]),
        r => panic!("{r:?}"),
    }
    // A store opened while the server is down says so, typed.
    ctl(&script, "pause");
    let opened = PgBackend::open(&url, &Default::default());
    ctl(&script, "resume");
    assert!(
        matches!(opened, Err(Error::Unavailable { .. })),
        "open while down: {:?}",
        opened.map(|_| ())
    );
}
