//! Store URLs for SQLite.
//!
//! | URL | file |
//! |---|---|
//! | `sqlite:///abs/path.db` | `/abs/path.db` (the usual form: empty host, absolute path) |
//! | `sqlite:/abs/path.db` | `/abs/path.db` |
//! | `sqlite:relative.db`, `sqlite:dir/x.db` | relative to the working directory |
//! | `/abs/path.db`, `relative.db` (no scheme) | the path, taken literally (no query, no %-decoding) |
//!
//! `sqlite://name.db` is refused (`BadUrl`): after `//` comes a host, and a
//! file on another host cannot be opened; write `sqlite:name.db` for a
//! relative path or `sqlite:///abs/name.db` for an absolute one. In URL
//! forms, `%XX` escapes are decoded in the path.
//!
//! Query parameters (URL forms only):
//! - `synchronous=normal` (default): a returned call survives any crash of
//!   the processes; `synchronous=full`: also power loss (an fsync per commit).
//! - `mode=rw` (default) or `mode=ro`: open read-only. Every call writes (the
//!   expiry sweep), so a read-only store refuses at open with `Storage`;
//!   the parameter exists so that a read-only file fails loudly and at once.

use std::path::PathBuf;

use coordinate::Error;

/// How `synchronous` is set on every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Synchronous {
    /// `PRAGMA synchronous=NORMAL`: WAL commits survive process crashes.
    Normal,
    /// `PRAGMA synchronous=FULL`: WAL commits survive power loss.
    Full,
}

/// A parsed SQLite store URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SqliteUrl {
    /// The database file.
    pub path: PathBuf,
    /// The durability level.
    pub synchronous: Synchronous,
    /// Open without write access (which every call needs: see the module doc).
    pub read_only: bool,
}

fn bad(url: &str, why: &str) -> Error {
    Error::BadUrl {
        url: format!("{url} ({why})"),
    }
}

fn percent_decode(url: &str, s: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| bad(url, "a % escape needs two hex digits"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad(url, "the path is not UTF-8 after %-decoding"))
}

impl SqliteUrl {
    /// Parses a `sqlite:` URL or a plain path.
    pub fn parse(url: &str) -> Result<SqliteUrl, Error> {
        let scheme_len = "sqlite:".len();
        let is_url = url
            .get(..scheme_len)
            .is_some_and(|s| s.eq_ignore_ascii_case("sqlite:"));
        if !is_url {
            if url.is_empty() {
                return Err(bad(url, "empty path"));
            }
            if coordinate::scheme_of(url) != "sqlite" {
                return Err(bad(url, "not a sqlite: URL"));
            }
            return Ok(SqliteUrl {
                path: PathBuf::from(url),
                synchronous: Synchronous::Normal,
                read_only: false,
            });
        }
        let rest = &url[scheme_len..];
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        if rest.contains('#') {
            return Err(bad(url, "fragments are not allowed"));
        }
        let path =
            match rest.strip_prefix("//") {
                Some(after) => match after.find('/') {
                    Some(0) => after,
                    Some(_) | None => return Err(bad(
                        url,
                        "after '//' comes a host; use sqlite:relative.db or sqlite:///abs/path.db",
                    )),
                },
                None => rest,
            };
        let path = percent_decode(url, path)?;
        if path.is_empty() || path == "/" {
            return Err(bad(url, "no file path"));
        }
        let mut parsed = SqliteUrl {
            path: PathBuf::from(path),
            synchronous: Synchronous::Normal,
            read_only: false,
        };
        for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value.to_ascii_lowercase().as_str()) {
                ("synchronous", "normal") => parsed.synchronous = Synchronous::Normal,
                ("synchronous", "full") => parsed.synchronous = Synchronous::Full,
                ("synchronous", _) => return Err(bad(url, "synchronous must be normal or full")),
                ("mode", "rw") => parsed.read_only = false,
                ("mode", "ro") => parsed.read_only = true,
                ("mode", _) => return Err(bad(url, "mode must be rw or ro")),
                _ => return Err(bad(url, &format!("unknown parameter {key:?}"))),
            }
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(url: &str) -> String {
        SqliteUrl::parse(url).unwrap().path.display().to_string()
    }

    #[test]
    fn forms() {
        assert_eq!(path("sqlite:///tmp/x.db"), "/tmp/x.db");
        assert_eq!(path("SQLite:///tmp/x.db"), "/tmp/x.db");
        assert_eq!(path("sqlite:/tmp/x.db"), "/tmp/x.db");
        assert_eq!(path("sqlite:x.db"), "x.db");
        assert_eq!(path("sqlite:dir/x.db"), "dir/x.db");
        assert_eq!(path("sqlite:///tmp/a%20b.db"), "/tmp/a b.db");
        assert_eq!(path("/tmp/x?.db"), "/tmp/x?.db");
        assert_eq!(path("state.db"), "state.db");
        let u = SqliteUrl::parse("sqlite:///tmp/x.db?synchronous=full").unwrap();
        assert_eq!(u.synchronous, Synchronous::Full);
        assert!(!u.read_only);
        let u = SqliteUrl::parse("sqlite:///tmp/x.db?synchronous=NORMAL&mode=ro").unwrap();
        assert_eq!(u.synchronous, Synchronous::Normal);
        assert!(u.read_only);
    }

    #[test]
    fn bad_urls() {
        for url in [
            "",
            "sqlite:",
            "sqlite://",
            "sqlite:///",
            "sqlite://x.db",
            "sqlite://host/x.db",
            "sqlite:///x.db?synchronous=off",
            "sqlite:///x.db?journal=wal",
            "sqlite:///x.db?mode=rwc",
            "sqlite:///x%zz.db",
            "sqlite:///x.db#frag",
            "memory:",
        ] {
            assert!(
                matches!(SqliteUrl::parse(url), Err(Error::BadUrl { .. })),
                "{url}"
            );
        }
    }
}
