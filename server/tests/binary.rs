//! The `coordinated` binary: startup, token file, refusal to listen on a
//! non-loopback address without a token, test mode, graceful SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use coordinate::backend::{Op, Reply};
use coordinate::{Backend, ConnectOptions, Error};
use coordinate_server::HttpBackend;

/// Starts the binary with `args`; its child and `http://ADDR/`.
fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_coordinated"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn coordinated");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a line");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    (child, format!("http://{addr}/"))
}

/// Sends SIGTERM and waits (at most a minute) for the exit; its success.
fn terminate(mut child: Child) -> bool {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("coordinated did not stop after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn serves_with_a_token_file_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("coordinated-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, "tok-123\n").unwrap();
    let (child, url) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--store",
        "memory:",
        "--token-file",
        token_file.to_str().unwrap(),
        "--log-level",
        "warn",
    ]);
    let good = HttpBackend::new(
        &url,
        &ConnectOptions {
            token: Some("tok-123".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let Reply::Namespace(ns) = good.call(Op::Namespace { name: "n".into() }).unwrap() else {
        panic!("a namespace")
    };
    assert_eq!(&*ns.name, "n");
    let bad = HttpBackend::new(&url, &ConnectOptions::default()).unwrap();
    assert_eq!(bad.call(Op::Namespaces), Err(Error::Unauthorized));
    assert!(terminate(child), "a clean exit after SIGTERM");
    // Stopped: the port no longer answers.
    assert!(matches!(
        good.call(Op::Namespaces),
        Err(Error::Unavailable { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn refuses_a_public_address_without_a_token() {
    // The check happens before binding: nothing listens on 0.0.0.0.
    let out = Command::new(env!("CARGO_BIN_EXE_coordinated"))
        .args(["--listen", "0.0.0.0:0", "--store", "memory:"])
        .output()
        .expect("run coordinated");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("requires --token-file"), "{err}");
}

#[test]
fn refuses_an_unknown_store_and_an_empty_token_file() {
    let out = Command::new(env!("CARGO_BIN_EXE_coordinated"))
        .args(["--listen", "127.0.0.1:0", "--store", "nosuch://x"])
        .output()
        .expect("run coordinated");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad store URL"));
    let empty = std::env::temp_dir().join(format!("coordinated-empty-{}", std::process::id()));
    std::fs::write(&empty, "\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_coordinated"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--store",
            "memory:",
            "--token-file",
        ])
        .arg(&empty)
        .output()
        .expect("run coordinated");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is empty"));
    let _ = std::fs::remove_file(&empty);
}

#[test]
fn test_mode_takes_mock_time() {
    let (child, url) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--store",
        "memory:",
        "--test-mock-clock",
    ]);
    let t = chrono::DateTime::from_timestamp(86_400, 5).unwrap();
    let b = HttpBackend::new(
        &url,
        &ConnectOptions {
            clock: Some(std::sync::Arc::new(coordinate::MockClock::new(t))),
            ..Default::default()
        },
    )
    .unwrap();
    let Reply::Namespace(ns) = b.call(Op::Namespace { name: "n".into() }).unwrap() else {
        panic!()
    };
    let Reply::Worker(Some(w)) = b
        .call(Op::Worker {
            ns: ns.id,
            name: "w".into(),
        })
        .unwrap()
    else {
        panic!()
    };
    let r = b.call(Op::WorkerLastUpdate { worker: w.id }).unwrap();
    assert!(
        matches!(r, Reply::Time(x) | Reply::MaybeTime(Some(x)) if x == t),
        "{r:?}"
    );
    assert!(terminate(child));
}

/// Whether the daemon closes `stream` (EOF or reset, any answer before it
/// read into `seen`) while the client goes on sending `dribble` one byte
/// every 200 ms; gives up (false) after `limit`.
fn closed_while_dribbling(
    stream: &mut std::net::TcpStream,
    dribble: &[u8],
    limit: Duration,
    seen: &mut Vec<u8>,
) -> bool {
    use std::io::{Read, Write};
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + limit;
    let mut bytes = dribble.iter().cycle();
    let mut buf = [0u8; 4096];
    while Instant::now() < deadline {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
        let b = *bytes.next().unwrap();
        if stream.write_all(&[b]).is_err() {
            return true;
        }
    }
    false
}

#[test]
fn slow_clients_are_cut_off() {
    use std::io::Write;
    let (child, url) = start(&[
        "--listen",
        "127.0.0.1:0",
        "--store",
        "memory:",
        "--client-timeout",
        "2",
        "--body-timeout",
        "2",
    ]);
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let limit = Duration::from_secs(20);

    // Headers a byte at a time (slowloris): the connection is closed though
    // the client never stops sending.
    let mut slow_head = std::net::TcpStream::connect(&addr).unwrap();
    let mut seen = Vec::new();
    assert!(
        closed_while_dribbling(
            &mut slow_head,
            b"GET /healthz HTTP/1.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            limit,
            &mut seen,
        ),
        "a client sending its headers slowly kept its connection"
    );

    // A whole head, then the body a byte at a time: 408 and closed.
    let mut slow_body = std::net::TcpStream::connect(&addr).unwrap();
    slow_body
        .write_all(
            b"POST /v1/call HTTP/1.1\r\nHost: x\r\nContent-Type: application/msgpack\r\n\
              Content-Length: 1000000\r\n\r\n",
        )
        .unwrap();
    let mut seen = Vec::new();
    assert!(
        closed_while_dribbling(&mut slow_body, b"\x90", limit, &mut seen),
        "a client sending its body slowly kept its connection"
    );
    let text = String::from_utf8_lossy(&seen);
    assert!(text.starts_with("HTTP/1.1 408"), "answer: {text:?}");

    // An idle kept-alive connection is closed too.
    let mut idle = std::net::TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    idle.set_read_timeout(Some(limit)).unwrap();
    let mut all = Vec::new();
    let read = std::io::Read::read_to_end(&mut idle, &mut all);
    assert!(read.is_ok(), "an idle connection stayed open: {read:?}");
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200"), "answer: {text:?}");
    assert!(text.ends_with("ok\n"), "answer: {text:?}");

    // Meanwhile the daemon served everyone else.
    let b = HttpBackend::new(&url, &ConnectOptions::default()).unwrap();
    assert_eq!(b.call(Op::Namespaces).unwrap(), Reply::Namespaces(vec![]));
    assert!(terminate(child));
}
