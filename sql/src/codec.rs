//! How values sit in SQL columns.
//!
//! - Data maps and work spec metas: MessagePack (`rmp-serde`) in BLOBs.
//!   `coordinate::Value`'s serde keeps ints, floats (NaN and infinities
//!   included), bytes and text apart, and empty lists and maps stay empty.
//! - Instants: 12-byte BLOBs that sort like the instants (big-endian
//!   seconds with the sign bit flipped, then big-endian nanoseconds), so
//!   `expiration < ?now` and `ORDER BY not_before` are plain byte
//!   comparisons, exact to the nanosecond over chrono's whole range (an
//!   integer of nanoseconds would overflow past the year 2262, and the
//!   engine saturates durations at chrono's ends).
//! - Priorities: the 64-bit integer whose order is `f64::total_cmp`'s, so
//!   `ORDER BY prio DESC` is the memory engine's order (SQLite would store
//!   a NaN REAL as NULL); the mapping is its own inverse.

use chrono::{DateTime, Utc};
use coordinate::{Map, WorkSpecMeta};

use crate::store::DbError;

/// A data map as a BLOB.
pub fn encode_map(map: &Map) -> Result<Vec<u8>, DbError> {
    rmp_serde::to_vec(map).map_err(|e| DbError::corrupt(format!("cannot encode data: {e}")))
}

/// A BLOB back to a data map.
pub fn decode_map(bytes: &[u8]) -> Result<Map, DbError> {
    rmp_serde::from_slice(bytes).map_err(|e| DbError::corrupt(format!("undecodable data: {e}")))
}

/// A work spec's meta as a BLOB (named fields, so that a later schema can
/// add fields; the counts are never stored).
pub fn encode_meta(meta: &WorkSpecMeta) -> Result<Vec<u8>, DbError> {
    let mut meta = meta.clone();
    meta.available_count = 0;
    meta.pending_count = 0;
    rmp_serde::to_vec_named(&meta).map_err(|e| DbError::corrupt(format!("cannot encode meta: {e}")))
}

/// A BLOB back to a work spec's meta.
pub fn decode_meta(bytes: &[u8]) -> Result<WorkSpecMeta, DbError> {
    rmp_serde::from_slice(bytes).map_err(|e| DbError::corrupt(format!("undecodable meta: {e}")))
}

/// An instant as a sortable 12-byte key.
pub fn encode_time(t: DateTime<Utc>) -> [u8; 12] {
    let secs = (t.timestamp() as u64) ^ (1 << 63);
    let nanos = t.timestamp_subsec_nanos();
    let mut out = [0u8; 12];
    out[..8].copy_from_slice(&secs.to_be_bytes());
    out[8..].copy_from_slice(&nanos.to_be_bytes());
    out
}

/// A 12-byte key back to its instant.
pub fn decode_time(bytes: &[u8]) -> Result<DateTime<Utc>, DbError> {
    let bad = || DbError::corrupt("malformed timestamp".to_owned());
    let secs: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    let nanos: [u8; 4] = bytes
        .get(8..12)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    if bytes.len() != 12 {
        return Err(bad());
    }
    let secs = (u64::from_be_bytes(secs) ^ (1 << 63)) as i64;
    DateTime::from_timestamp(secs, u32::from_be_bytes(nanos)).ok_or_else(bad)
}

/// An optional instant column.
pub fn decode_opt_time(bytes: Option<Vec<u8>>) -> Result<Option<DateTime<Utc>>, DbError> {
    bytes.map(|b| decode_time(&b)).transpose()
}

/// A priority as an integer ordered like `f64::total_cmp`.
pub fn encode_priority(p: f64) -> i64 {
    let bits = p.to_bits() as i64;
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

/// The inverse of [`encode_priority`].
pub fn decode_priority(key: i64) -> f64 {
    let bits = key ^ ((((key >> 63) as u64) >> 1) as i64);
    f64::from_bits(bits as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use coordinate::Value;

    #[test]
    fn times_sort_and_round_trip() {
        let times = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::from_timestamp(-1, 999_999_999).unwrap(),
            DateTime::from_timestamp(0, 0).unwrap(),
            DateTime::from_timestamp(0, 1).unwrap(),
            DateTime::from_timestamp(1_767_225_600, 5).unwrap(),
            DateTime::<Utc>::MAX_UTC,
        ];
        for w in times.windows(2) {
            assert!(encode_time(w[0]) < encode_time(w[1]), "{:?}", w);
        }
        for t in times {
            assert_eq!(decode_time(&encode_time(t)).unwrap(), t);
        }
        assert!(decode_time(&[1, 2, 3]).is_err());
    }

    #[test]
    fn priorities_sort_like_total_cmp() {
        let ps = [
            f64::NEG_INFINITY,
            -1e300,
            -1.0,
            -0.0,
            0.0,
            1e-300,
            1.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for w in ps.windows(2) {
            assert!(encode_priority(w[0]) < encode_priority(w[1]), "{:?}", w);
        }
        for p in ps {
            assert_eq!(decode_priority(encode_priority(p)).to_bits(), p.to_bits());
        }
    }

    #[test]
    fn maps_round_trip_exactly() {
        let mut inner = Map::new();
        inner.insert("empty".into(), Value::Map(Map::new()));
        let mut m = Map::new();
        m.insert("i".into(), Value::Int(-3));
        m.insert("f".into(), Value::Float(2.0));
        m.insert("nan".into(), Value::Float(f64::NAN));
        m.insert("inf".into(), Value::Float(f64::NEG_INFINITY));
        m.insert("b".into(), Value::Bytes(vec![0, 255]));
        m.insert("s".into(), Value::String("x".into()));
        m.insert("t".into(), Value::Bool(true));
        m.insert("n".into(), Value::Null);
        m.insert("l".into(), Value::List(vec![]));
        m.insert("m".into(), Value::Map(inner));
        let back = decode_map(&encode_map(&m).unwrap()).unwrap();
        assert_eq!(back.len(), m.len());
        for (k, v) in &m {
            match (v, &back[k]) {
                (Value::Float(a), Value::Float(b)) => assert_eq!(a.to_bits(), b.to_bits()),
                (a, b) => assert_eq!(a, b, "{k}"),
            }
        }
    }
}
