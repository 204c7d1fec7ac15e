//! The one error type of the crate.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Everything a Coordinate call can fail with.
///
/// The messages are the texts of the original Coordinate API. Variant names
/// are stable: the Python and JavaScript bindings expose them as error
/// classes (`NotPendingError`) and codes (`"NotPending"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "code")]
pub enum Error {
    /// A work spec with this name does not exist in the namespace.
    NoSuchWorkSpec {
        /// The name that was looked up.
        name: String,
    },
    /// A work unit with this name does not exist in the work spec.
    NoSuchWorkUnit {
        /// The name that was looked up.
        name: String,
    },
    /// The object, or one of its ancestors, was deleted.
    Gone,
    /// `Attempt::renew` on an attempt that is no longer its unit's active attempt.
    LostLease,
    /// The attempt is not pending, so it cannot change status this way.
    NotPending,
    /// The scheduler found nothing to do.
    NoWork,
    /// Defined by the original API; never raised (see `WorkSpec::set_meta`).
    CannotBecomeContinuous,
    /// `WorkSpec::set_data` tried to change the spec's name.
    ChangedName,
    /// Work spec data without a `name`.
    NoWorkSpecName,
    /// Work spec data whose `name` is not a string.
    BadWorkSpecName,
    /// Objects of two different `Coordinate`s were combined.
    WrongBackend,
    /// A chained output item is neither a name nor a list.
    WorkUnitNotList,
    /// A chained output item list has fewer than two elements.
    WorkUnitTooShort,
    /// A chained output item's priority is not a number.
    BadPriority,
    /// A chained output item list has an element of the wrong type.
    BadWorkUnitItem {
        /// What was wrong, naming the element.
        reason: String,
    },
    /// A status text or code that names no status.
    InvalidStatus {
        /// `marshal, 17` for a code, `unmarshal, seventeen` for a text.
        detail: String,
    },
    /// The store or server cannot be reached, or a transaction could not
    /// commit (deadlock, serialization failure after retries, timeout). The
    /// call did not happen and may be retried.
    Unavailable {
        /// What failed.
        reason: String,
    },
    /// The store refuses: not a Coordinate database, a schema newer than
    /// this package, a corrupt or read-only file, a full disk.
    Storage {
        /// What the store said, naming the file or server.
        reason: String,
    },
    /// The server wants a token and none or a wrong one was sent.
    Unauthorized,
    /// `connect` got a URL it cannot use.
    BadUrl {
        /// The URL, and what is wrong with it.
        url: String,
    },
    /// A duration or instant outside its valid range, or NaN: `what` names
    /// the argument or field, `reason` says what was wrong
    /// (docs/semantics.md §2.3).
    OutOfRange {
        /// The argument or field.
        what: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The store is full: adding this would pass its capacity bound (the
    /// memory store's `max_units` or `max_bytes`, docs/semantics.md §6.1.1).
    /// Nothing changed; delete units or raise the bound.
    Capacity {
        /// Which bound, and what the call would have needed.
        reason: String,
    },
    /// An argument the call cannot accept for a reason other than its type
    /// or range (a worker as its own parent, a parent cycle): `what` names
    /// the argument, `reason` says what was wrong.
    InvalidArgument {
        /// The argument.
        what: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// Every error code, in declaration order: the Rust variant names, which
/// the bindings expose as `code` and (with `Error` appended) as class names.
pub const ERROR_CODES: &[&str] = &[
    "NoSuchWorkSpec",
    "NoSuchWorkUnit",
    "Gone",
    "LostLease",
    "NotPending",
    "NoWork",
    "CannotBecomeContinuous",
    "ChangedName",
    "NoWorkSpecName",
    "BadWorkSpecName",
    "WrongBackend",
    "WorkUnitNotList",
    "WorkUnitTooShort",
    "BadPriority",
    "BadWorkUnitItem",
    "InvalidStatus",
    "Unavailable",
    "Storage",
    "Unauthorized",
    "BadUrl",
    "OutOfRange",
    "Capacity",
    "InvalidArgument",
];

impl Error {
    /// The variant's name, as the bindings expose it (`"NotPending"`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::NoSuchWorkSpec { .. } => "NoSuchWorkSpec",
            Error::NoSuchWorkUnit { .. } => "NoSuchWorkUnit",
            Error::Gone => "Gone",
            Error::LostLease => "LostLease",
            Error::NotPending => "NotPending",
            Error::NoWork => "NoWork",
            Error::CannotBecomeContinuous => "CannotBecomeContinuous",
            Error::ChangedName => "ChangedName",
            Error::NoWorkSpecName => "NoWorkSpecName",
            Error::BadWorkSpecName => "BadWorkSpecName",
            Error::WrongBackend => "WrongBackend",
            Error::WorkUnitNotList => "WorkUnitNotList",
            Error::WorkUnitTooShort => "WorkUnitTooShort",
            Error::BadPriority => "BadPriority",
            Error::BadWorkUnitItem { .. } => "BadWorkUnitItem",
            Error::InvalidStatus { .. } => "InvalidStatus",
            Error::Unavailable { .. } => "Unavailable",
            Error::Storage { .. } => "Storage",
            Error::Unauthorized => "Unauthorized",
            Error::BadUrl { .. } => "BadUrl",
            Error::OutOfRange { .. } => "OutOfRange",
            Error::Capacity { .. } => "Capacity",
            Error::InvalidArgument { .. } => "InvalidArgument",
        }
    }

    /// The class name the bindings give this error (`"NotPendingError"`).
    pub fn class_name(&self) -> String {
        format!("{}Error", self.code())
    }

    /// A status text or code that names no status.
    pub(crate) fn invalid_status(direction: &str, what: impl fmt::Display) -> Error {
        Error::InvalidStatus {
            detail: format!("{direction}, {what}"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoSuchWorkSpec { name } => write!(f, "No such work spec {name}"),
            Error::NoSuchWorkUnit { name } => write!(f, "No such work unit {name:?}"),
            Error::Gone => f.write_str("Object no longer exists"),
            Error::LostLease => f.write_str("No longer the active attempt"),
            Error::NotPending => f.write_str("Attempt is not pending"),
            Error::NoWork => f.write_str("No work to do"),
            Error::CannotBecomeContinuous => f.write_str("Cannot set work spec to continuous"),
            Error::ChangedName => f.write_str("Cannot change work spec 'name'"),
            Error::NoWorkSpecName => f.write_str("No 'name' key in work spec"),
            Error::BadWorkSpecName => f.write_str("Work spec 'name' must be a string"),
            Error::WrongBackend => {
                f.write_str("Cannot combine coordinate objects from different backends")
            }
            Error::WorkUnitNotList => f.write_str("work unit not a list"),
            Error::WorkUnitTooShort => f.write_str("too few parameters to work unit"),
            Error::BadPriority => f.write_str("priority must be a number"),
            Error::BadWorkUnitItem { reason } => write!(f, "bad work unit item: {reason}"),
            Error::InvalidStatus { detail } => write!(f, "invalid status ({detail})"),
            Error::Unavailable { reason } => write!(f, "store unavailable: {reason}"),
            Error::Storage { reason } => write!(f, "storage error: {reason}"),
            Error::Unauthorized => f.write_str("unauthorized: a valid token is required"),
            Error::BadUrl { url } => write!(f, "bad store URL: {url}"),
            Error::OutOfRange { what, reason } => write!(f, "{what}: {reason}"),
            Error::Capacity { reason } => write!(f, "store full: {reason}"),
            Error::InvalidArgument { what, reason } => write!(f, "{what}: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_the_seed_texts() {
        let e = Error::NoSuchWorkSpec {
            name: "spec".into(),
        };
        assert_eq!(e.to_string(), "No such work spec spec");
        let e = Error::NoSuchWorkUnit {
            name: "a\"b".into(),
        };
        assert_eq!(e.to_string(), r#"No such work unit "a\"b""#);
        assert_eq!(Error::Gone.to_string(), "Object no longer exists");
        assert_eq!(Error::NotPending.code(), "NotPending");
        assert_eq!(Error::NotPending.class_name(), "NotPendingError");
    }

    #[test]
    fn every_code_is_listed_once() {
        let all = [
            Error::NoSuchWorkSpec { name: "x".into() },
            Error::NoSuchWorkUnit { name: "x".into() },
            Error::Gone,
            Error::LostLease,
            Error::NotPending,
            Error::NoWork,
            Error::CannotBecomeContinuous,
            Error::ChangedName,
            Error::NoWorkSpecName,
            Error::BadWorkSpecName,
            Error::WrongBackend,
            Error::WorkUnitNotList,
            Error::WorkUnitTooShort,
            Error::BadPriority,
            Error::BadWorkUnitItem { reason: "x".into() },
            Error::invalid_status("marshal", 17),
            Error::Unavailable { reason: "x".into() },
            Error::Storage { reason: "x".into() },
            Error::Unauthorized,
            Error::BadUrl { url: "x".into() },
            Error::OutOfRange {
                what: "x".into(),
                reason: "y".into(),
            },
            Error::Capacity { reason: "x".into() },
            Error::InvalidArgument {
                what: "x".into(),
                reason: "y".into(),
            },
        ];
        let codes: Vec<&str> = all.iter().map(Error::code).collect();
        assert_eq!(codes, ERROR_CODES);
    }
}
