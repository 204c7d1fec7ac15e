//! Shared by the integration tests: starting daemons on free loopback ports
//! and a raw HTTP/1.1 client that can send exactly what a test wants
//! (chunked bodies, odd headers, garbage).
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use coordinate_server::{Config, Daemon};

/// A daemon on `memory:` on a free loopback port; `test_mode` as given.
pub fn daemon(test_mode: bool) -> Daemon {
    daemon_with(|c| c.test_mode = test_mode)
}

/// A daemon on `memory:` on a free loopback port, configured further by `f`.
pub fn daemon_with(f: impl FnOnce(&mut Config)) -> Daemon {
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        store_url: "memory:".into(),
        ..Config::default()
    };
    f(&mut config);
    Daemon::start(config).expect("the daemon starts")
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// The value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {:?} (status {})",
                String::from_utf8_lossy(&self.body),
                self.status
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How a request body is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// With `Content-Length`.
    Length,
    /// With `Transfer-Encoding: chunked`, in chunks of at most 7 bytes.
    Chunked,
}

/// Sends one request on a fresh connection and reads the whole answer.
pub fn raw(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<(&[u8], Framing)>,
) -> Answer {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut bytes = Vec::new();
    match body {
        None => {
            req.push_str("\r\n");
            bytes.extend_from_slice(req.as_bytes());
        }
        Some((b, Framing::Length)) => {
            req.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
            bytes.extend_from_slice(req.as_bytes());
            bytes.extend_from_slice(b);
        }
        Some((b, Framing::Chunked)) => {
            req.push_str("Transfer-Encoding: chunked\r\n\r\n");
            bytes.extend_from_slice(req.as_bytes());
            for chunk in b.chunks(7) {
                bytes.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                bytes.extend_from_slice(chunk);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        }
    }
    // A server may answer (413) before reading the whole body and close.
    let _ = stream.write_all(&bytes);
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    parse_answer(&out)
}

fn parse_answer(out: &[u8]) -> Answer {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(out)));
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status: u16 = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut body = out[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut decoded = Vec::new();
        let mut rest = &body[..];
        while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap_or("0"), 16)
                .unwrap_or(0);
            if size == 0 {
                break;
            }
            decoded.extend_from_slice(&rest[eol + 2..eol + 2 + size]);
            rest = &rest[eol + 2 + size + 2..];
        }
        body = decoded;
    }
    Answer {
        status,
        headers,
        body,
    }
}

/// The Go client's media type.
pub const V1_JSON: &str = "application/vnd.diffeo.coordinate.v1+json";

/// A GET as the Go client sends it.
pub fn get(addr: SocketAddr, path: &str) -> Answer {
    raw(addr, "GET", path, &[("Accept", V1_JSON)], None)
}

/// A DELETE as the Go client sends it.
pub fn delete(addr: SocketAddr, path: &str) -> Answer {
    raw(addr, "DELETE", path, &[("Accept", V1_JSON)], None)
}

/// A POST or PUT of JSON as the Go client sends it: chunked, typed v1.
pub fn send(addr: SocketAddr, method: &str, path: &str, body: &serde_json::Value) -> Answer {
    let bytes = serde_json::to_vec(body).expect("json");
    raw(
        addr,
        method,
        path,
        &[("Content-Type", V1_JSON), ("Accept", V1_JSON)],
        Some((&bytes, Framing::Chunked)),
    )
}
