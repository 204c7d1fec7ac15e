//! The daemon's own protocol, version 1: what travels on `/v1/...`.
//!
//! - `POST /v1/call`: the body is one [`Op`](coordinate::backend::Op); the
//!   answer (200) is one `Result<Reply, Error>`.
//! - `POST /v1/batch`: the body is a list of operations, run by
//!   [`Backend::batch`](coordinate::Backend::batch) (one transaction where
//!   the store can); the answer (200) is `Result<Vec<Result<Reply, Error>>, Error>`.
//! - `POST /v1/reseed` (test stores only): the body is a `u64` seed.
//! - `DELETE /v1/test-store` (test mode only): drops the test store the
//!   request names.
//!
//! Bodies are MessagePack ([`MEDIA_TYPE`]), maps with field names
//! (`rmp_serde::to_vec_named`): MessagePack keeps integers, floats (NaN and
//! infinities included), byte strings and text strings apart, exactly as
//! [`coordinate::Value`] does, so data survives the trip with its types.
//!
//! A request the server cannot take (a bad body, a wrong token, a body too
//! large, an unknown route) gets a 4xx or 5xx answer whose body is a
//! MessagePack [`Problem`].

use serde::{Deserialize, Serialize};

/// The media type of every `/v1` body.
pub const MEDIA_TYPE: &str = "application/msgpack";

/// Test mode: the mock time of the request (RFC 3339, UTC, nanoseconds);
/// see REST-PROTOCOL.md §11.
pub const MOCK_TIME_HEADER: &str = "x-coordinate-mock-time";

/// Test mode: the name of the isolated test store the request goes to.
pub const TEST_STORE_HEADER: &str = "x-coordinate-test-store";

/// Test mode: the seed of a test store's scheduler, used when the request
/// creates the store.
pub const TEST_SEED_HEADER: &str = "x-coordinate-test-seed";

/// Why the server did not run a request: the body of a non-200 answer on
/// `/v1`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// A stable code: `Unauthorized`, `Unavailable`, `BadRequest`,
    /// `PayloadTooLarge`, `UnsupportedMediaType`, `NotFound`,
    /// `MethodNotAllowed`, `TestModeOnly`, `Timeout`, `Internal`.
    pub code: String,
    /// A message for humans.
    pub message: String,
}

impl Problem {
    /// A problem with this code and message.
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        Problem {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Encodes a value as named MessagePack.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    rmp_serde::to_vec_named(value).map_err(|e| e.to_string())
}

/// Decodes MessagePack, refusing nesting deeper than `max_depth` and
/// trailing bytes.
pub fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], max_depth: usize) -> Result<T, String> {
    let mut de = rmp_serde::Deserializer::new(std::io::Cursor::new(bytes));
    de.set_max_depth(max_depth);
    let value = T::deserialize(&mut de).map_err(|e| e.to_string())?;
    if de.position() != bytes.len() as u64 {
        return Err("trailing bytes after the MessagePack value".into());
    }
    Ok(value)
}

/// The deepest nesting of arrays and objects in a JSON text (strings are
/// skipped, so brackets inside them do not count). Used to refuse deep
/// documents before parsing them.
pub fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;
    use coordinate::backend::{Op, Reply};
    use coordinate::{Error, Map, Value};

    #[test]
    fn values_keep_their_types() {
        let mut data = Map::new();
        data.insert("i".into(), Value::Int(2));
        data.insert("f".into(), Value::Float(2.0));
        data.insert("nan".into(), Value::Float(f64::NAN));
        data.insert("inf".into(), Value::Float(f64::NEG_INFINITY));
        data.insert("b".into(), Value::Bytes(vec![0, 255]));
        data.insert("s".into(), Value::String("\u{0}é".into()));
        data.insert("big".into(), Value::Int(i64::MIN));
        data.insert("l".into(), Value::List(vec![]));
        let op = Op::Finish {
            attempt: u64::MAX,
            data: Some(data.clone()),
        };
        let back: Op = decode(&encode(&op).unwrap(), 64).unwrap();
        let Op::Finish {
            attempt,
            data: Some(got),
        } = back
        else {
            panic!("wrong op back: {back:?}");
        };
        assert_eq!(attempt, u64::MAX);
        assert_eq!(got["i"], Value::Int(2));
        assert_eq!(got["f"], Value::Float(2.0));
        assert!(matches!(got["nan"], Value::Float(f) if f.is_nan()));
        assert_eq!(got["inf"], Value::Float(f64::NEG_INFINITY));
        assert_eq!(got["b"], Value::Bytes(vec![0, 255]));
        assert_eq!(got["s"], data["s"]);
        assert_eq!(got["big"], Value::Int(i64::MIN));
        assert_eq!(got["l"], Value::List(vec![]));
    }

    #[test]
    fn results_round_trip() {
        let r: Result<Reply, Error> = Err(Error::NoSuchWorkUnit { name: "u".into() });
        let back: Result<Reply, Error> = decode(&encode(&r).unwrap(), 16).unwrap();
        assert_eq!(back, r);
        for e in [
            Error::Capacity { reason: "r".into() },
            Error::InvalidArgument {
                what: "parent".into(),
                reason: "r".into(),
            },
        ] {
            let r: Result<Reply, Error> = Err(e);
            let back: Result<Reply, Error> = decode(&encode(&r).unwrap(), 16).unwrap();
            assert_eq!(back, r);
        }
        let r: Result<Reply, Error> = Ok(Reply::Count(3));
        let back: Result<Reply, Error> = decode(&encode(&r).unwrap(), 16).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn depth_and_garbage_are_refused() {
        let mut v = Value::Int(1);
        for _ in 0..40 {
            v = Value::List(vec![v]);
        }
        let bytes = encode(&v).unwrap();
        assert!(decode::<Value>(&bytes, 20).is_err());
        assert!(decode::<Value>(&bytes, 64).is_ok());
        assert!(decode::<Op>(b"\xc1\xc1", 64).is_err());
        assert!(decode::<Op>(&encode(&Value::Int(3)).unwrap(), 64).is_err());
    }

    #[test]
    fn json_depth_skips_strings() {
        assert_eq!(json_depth(br#"{"a": [1, {"b": "[[[["}]}"#), 3);
        assert_eq!(json_depth(br#""\"[""#), 0);
        assert_eq!(json_depth(b"[[[]]]"), 3);
    }
}
