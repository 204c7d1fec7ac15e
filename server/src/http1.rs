//! The client's transport: HTTP/1.1 over a pool of kept-alive TCP
//! connections, as small as the client needs and no more.
//!
//! The client sends only its own requests (`POST` or `DELETE` with a
//! MessagePack body of known length) to a `coordinated`, so a general HTTP
//! client is mostly cost on a path where every microsecond counts: this one
//! writes the head and the body with one system call, reads the answer
//! (usually one more), and checks a pooled connection for a close by the
//! server only when it has been idle long enough for the daemon's idle
//! timeout to have closed it (a connection used within the last second is
//! taken as it is). Answers are parsed with `httparse`; `Content-Length`,
//! `chunked` and read-to-close bodies are all understood.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Connections idle longer than this are probed before reuse: far below
/// the daemon's idle timeout (`--client-timeout`, 30 s by default).
const FRESH: Duration = Duration::from_secs(1);

/// The largest answer head read.
const MAX_HEAD: usize = 64 << 10;

/// One answer: its status and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
}

/// Why a round trip failed in transport.
#[derive(Debug)]
pub(crate) struct Failure {
    /// What went wrong, for the error message.
    pub(crate) reason: String,
    /// Whether the request may have reached the server (false: no
    /// connection could be made, nothing was sent).
    pub(crate) sent: bool,
}

impl Failure {
    fn new(what: &str, e: impl std::fmt::Display) -> Failure {
        Failure {
            reason: format!("{what}: {e}"),
            sent: true,
        }
    }
}

struct Conn {
    stream: TcpStream,
    last_used: Instant,
}

/// A pool of connections to one `host:port`.
pub(crate) struct Pool {
    authority: String,
    timeout: Option<Duration>,
    max_idle: usize,
    max_answer: usize,
    idle: Mutex<Vec<Conn>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("authority", &self.authority)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool for `authority` (`host:port`, or `host` for port 80);
    /// `timeout` bounds connecting and each read and write.
    pub(crate) fn new(
        authority: &str,
        timeout: Option<Duration>,
        max_idle: usize,
        max_answer: usize,
    ) -> Pool {
        Pool {
            authority: authority.to_owned(),
            timeout,
            max_idle,
            max_answer,
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The `host:port` the pool connects to.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    fn addrs(&self) -> io::Result<Vec<SocketAddr>> {
        let with_port = if self.authority.starts_with('[') {
            if self.authority.contains("]:") {
                self.authority.clone()
            } else {
                format!("{}:80", self.authority)
            }
        } else if self.authority.contains(':') {
            self.authority.clone()
        } else {
            format!("{}:80", self.authority)
        };
        Ok(with_port.to_socket_addrs()?.collect())
    }

    fn connect(&self) -> Result<Conn, Failure> {
        let addrs = self
            .addrs()
            .map_err(|e| Failure::new(&format!("cannot resolve {}", self.authority), e))?;
        let mut last = None;
        for addr in addrs {
            let stream = match self.timeout {
                Some(t) => TcpStream::connect_timeout(&addr, t),
                None => TcpStream::connect(addr),
            };
            match stream {
                Ok(stream) => {
                    // Requests are small and wait for their answer.
                    let _ = stream.set_nodelay(true);
                    if let Some(t) = self.timeout {
                        let _ = stream.set_read_timeout(Some(t));
                        let _ = stream.set_write_timeout(Some(t));
                    }
                    return Ok(Conn {
                        stream,
                        last_used: Instant::now(),
                    });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(Failure::new(
            &format!("cannot connect to {}", self.authority),
            last.map_or_else(|| "no address".to_owned(), |e| e.to_string()),
        ))
    }

    /// A pooled connection that is still open, or a new one.
    fn take(&self) -> Result<Conn, Failure> {
        loop {
            let conn = self
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(conn) = conn else {
                return self.connect();
            };
            if conn.last_used.elapsed() < FRESH || still_open(&conn.stream) {
                return Ok(conn);
            }
        }
    }

    fn put(&self, mut conn: Conn) {
        conn.last_used = Instant::now();
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < self.max_idle {
            idle.push(conn);
        }
    }

    /// Closes the idle connections.
    pub(crate) fn clear(&self) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// One request: `head` (the request line and headers, each line ending
    /// in CRLF, without the blank line) and `body`; the answer.
    pub(crate) fn send(&self, head: &[u8], body: &[u8]) -> Result<Answer, Failure> {
        let mut conn = self.take().map_err(|f| Failure { sent: false, ..f })?;
        let mut out = Vec::with_capacity(head.len() + body.len() + 32);
        out.extend_from_slice(head);
        out.extend_from_slice(b"Content-Length: ");
        out.extend_from_slice(body.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n\r\n");
        out.extend_from_slice(body);
        conn.stream
            .write_all(&out)
            .map_err(|e| Failure::new("cannot send the request", e))?;
        let (answer, keep) = read_answer(&mut conn.stream, self.max_answer)?;
        if keep {
            self.put(conn);
        }
        Ok(answer)
    }
}

/// Whether the server has not closed `stream` (nothing to read, no EOF).
fn still_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let open = matches!(stream.peek(&mut [0u8; 1]),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    open && stream.set_nonblocking(false).is_ok()
}

/// Reads one answer; whether the connection may be reused after it.
fn read_answer(stream: &mut TcpStream, max_answer: usize) -> Result<(Answer, bool), Failure> {
    let mut buf = vec![0u8; 8192];
    let mut filled = 0;
    let (status, head_len, framing, close) = loop {
        if filled == buf.len() {
            if buf.len() >= MAX_HEAD {
                return Err(Failure::new("bad answer", "the head is too large"));
            }
            buf.resize(buf.len() * 2, 0);
        }
        let n = stream
            .read(&mut buf[filled..])
            .map_err(|e| Failure::new("cannot read the answer", e))?;
        if n == 0 {
            return Err(Failure::new(
                "cannot read the answer",
                "the connection was closed before an answer",
            ));
        }
        filled += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        match response.parse(&buf[..filled]) {
            Ok(httparse::Status::Partial) => continue,
            Ok(httparse::Status::Complete(len)) => {
                let status = response.code.unwrap_or(0);
                let mut framing = Framing::ToClose;
                let mut close = response.version == Some(0);
                for h in response.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        let n = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .ok_or_else(|| Failure::new("bad answer", "bad Content-Length"))?;
                        framing = Framing::Length(n);
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                        if contains_token(h.value, b"chunked") {
                            framing = Framing::Chunked;
                        }
                    } else if h.name.eq_ignore_ascii_case("connection") {
                        if contains_token(h.value, b"close") {
                            close = true;
                        } else if contains_token(h.value, b"keep-alive") {
                            close = false;
                        }
                    }
                }
                break (status, len, framing, close);
            }
            Err(e) => return Err(Failure::new("bad answer", e)),
        }
    };
    buf.truncate(filled);
    let rest = buf.split_off(head_len);
    let mut reader = Buffered {
        pending: rest,
        at: 0,
        stream,
    };
    let body = match framing {
        Framing::Length(n) => {
            if n > max_answer {
                return Err(Failure::new("bad answer", "the body is too large"));
            }
            let mut body = vec![0u8; n];
            reader
                .read_exact(&mut body)
                .map_err(|e| Failure::new("cannot read the answer", e))?;
            body
        }
        Framing::Chunked => read_chunked(&mut reader, max_answer)?,
        Framing::ToClose => {
            let mut body = Vec::new();
            (&mut reader)
                .take(max_answer as u64 + 1)
                .read_to_end(&mut body)
                .map_err(|e| Failure::new("cannot read the answer", e))?;
            if body.len() > max_answer {
                return Err(Failure::new("bad answer", "the body is too large"));
            }
            body
        }
    };
    // Bytes past the answer would be an answer to nothing: do not reuse.
    let keep =
        !close && framing != Framing::ToClose && reader.at == reader.pending.len() && status >= 200;
    Ok((Answer { status, body }, keep))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    Length(usize),
    Chunked,
    ToClose,
}

fn contains_token(value: &[u8], token: &[u8]) -> bool {
    value
        .split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token))
}

/// The bytes read past the head, then the stream.
struct Buffered<'a> {
    pending: Vec<u8>,
    at: usize,
    stream: &'a mut TcpStream,
}

impl Read for Buffered<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at < self.pending.len() {
            let n = out.len().min(self.pending.len() - self.at);
            out[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.stream.read(out)
    }
}

fn read_line(reader: &mut impl Read) -> Result<Vec<u8>, Failure> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        reader
            .read_exact(&mut byte)
            .map_err(|e| Failure::new("cannot read the answer", e))?;
        if byte[0] == b'\n' {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            return Ok(line);
        }
        if line.len() > 4096 {
            return Err(Failure::new("bad answer", "a chunk line is too long"));
        }
        line.push(byte[0]);
    }
}

fn read_chunked(reader: &mut impl Read, max_answer: usize) -> Result<Vec<u8>, Failure> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size = line.split(|&b| b == b';').next().unwrap_or_default();
        let size = std::str::from_utf8(size)
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .ok_or_else(|| Failure::new("bad answer", "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the blank line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        if body.len() + size > max_answer {
            return Err(Failure::new("bad answer", "the body is too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader
            .read_exact(&mut body[start..])
            .map_err(|e| Failure::new("cannot read the answer", e))?;
        if !read_line(reader)?.is_empty() {
            return Err(Failure::new("bad answer", "a chunk does not end in CRLF"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server answering each request on one connection with the next of
    /// `answers`, then closing; the requests it read.
    fn serve(answers: Vec<&'static [u8]>) -> (String, std::thread::JoinHandle<Vec<Vec<u8>>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let t = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            for answer in answers {
                let mut req = Vec::new();
                let mut b = [0u8; 1];
                while !req.ends_with(b"\r\n\r\n") {
                    s.read_exact(&mut b).unwrap();
                    req.push(b[0]);
                }
                let text = String::from_utf8_lossy(&req).to_lowercase();
                let len: usize = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length: "))
                    .map_or(0, |v| v.trim().parse().unwrap());
                let mut body = vec![0u8; len];
                s.read_exact(&mut body).unwrap();
                req.extend_from_slice(&body);
                seen.push(req);
                s.write_all(answer).unwrap();
            }
            seen
        });
        (addr, t)
    }

    #[test]
    fn lengths_chunks_and_reuse() {
        let (addr, server) = serve(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n1;x=y\r\nf\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nto the end",
        ]);
        let pool = Pool::new(&addr, Some(Duration::from_secs(10)), 4, 1 << 20);
        let head = b"POST /v1/call HTTP/1.1\r\nHost: h\r\n";
        let a = pool.send(head, b"xyz").unwrap();
        assert_eq!((a.status, &a.body[..]), (200, &b"abc"[..]));
        assert_eq!(pool.idle.lock().unwrap().len(), 1, "kept for reuse");
        let a = pool.send(head, b"").unwrap();
        assert_eq!((a.status, &a.body[..]), (404, &b"def"[..]));
        // The third answer ends with the connection, which is not pooled.
        let a = pool.send(head, b"1").unwrap();
        assert_eq!((a.status, &a.body[..]), (200, &b"to the end"[..]));
        assert_eq!(pool.idle.lock().unwrap().len(), 0);
        let seen = server.join().unwrap();
        assert_eq!(seen.len(), 3, "one connection carried all three");
        assert!(seen[0].ends_with(b"Content-Length: 3\r\n\r\nxyz"));
    }

    #[test]
    fn a_closed_pooled_connection_is_replaced_and_a_dead_server_fails() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            for _ in 0..2 {
                let (mut s, _) = listener.accept().unwrap();
                let mut req = [0u8; 1024];
                let _ = s.read(&mut req).unwrap();
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    .unwrap();
                // Closed by the server after one answer, as an idle timeout would.
            }
        });
        let pool = Pool::new(&addr, Some(Duration::from_secs(10)), 4, 1 << 20);
        let head = b"POST / HTTP/1.1\r\nHost: h\r\n";
        assert_eq!(pool.send(head, b"a").unwrap().body, b"ok");
        // Make the pooled connection look idle for long: it is probed, found
        // closed, and replaced by a new one.
        std::thread::sleep(Duration::from_millis(100));
        pool.idle.lock().unwrap()[0].last_used = Instant::now() - FRESH * 2;
        assert_eq!(pool.send(head, b"b").unwrap().body, b"ok");
        server.join().unwrap();
        pool.clear();
        let e = pool.send(head, b"c").unwrap_err();
        assert!(e.reason.contains("cannot connect"), "{}", e.reason);
    }

    #[test]
    fn garbage_and_early_close_are_failures() {
        let (addr, _server) = serve(vec![b"SPDY/9 what\r\n\r\n"]);
        let pool = Pool::new(&addr, Some(Duration::from_secs(10)), 4, 1 << 20);
        let e = pool.send(b"POST / HTTP/1.1\r\n", b"").unwrap_err();
        assert!(e.reason.contains("bad answer"), "{}", e.reason);
        let (addr, _server) = serve(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]);
        let pool = Pool::new(&addr, Some(Duration::from_secs(10)), 4, 1 << 20);
        let e = pool.send(b"POST / HTTP/1.1\r\n", b"").unwrap_err();
        assert!(e.reason.contains("cannot read"), "{}", e.reason);
        assert!(contains_token(b"keep-alive, Close", b"close"));
    }
}
