//! Work unit and attempt statuses, with their text and numeric forms.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal => $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant = $code),*
        }

        impl $name {
            /// Every status, in declaration (and code) order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The status's text form (`"pending"`).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// The status's numeric code.
            pub fn code(self) -> i64 {
                self as i64
            }

            /// The status with this numeric code.
            pub fn from_code(code: i64) -> Result<Self, Error> {
                match code {
                    $($code => Ok($name::$variant),)*
                    _ => Err(Error::invalid_status("marshal", code)),
                }
            }

            /// The text form of the status with this code (fails as encoding would).
            pub fn text_of_code(code: i64) -> Result<&'static str, Error> {
                Self::from_code(code).map(Self::as_str)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                match s {
                    $($text => Ok($name::$variant),)*
                    _ => Err(Error::invalid_status("unmarshal", s)),
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = String::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

status_enum!(
    /// The status of a work unit, derived from its active attempt and not-before time.
    WorkUnitStatus {
        /// Matches every status in a query; never the status of a unit.
        Any = 0 => "any",
        /// Ready to be handed out.
        Available = 1 => "available",
        /// Its active attempt is pending.
        Pending = 2 => "pending",
        /// Its active attempt finished.
        Finished = 3 => "finished",
        /// Its active attempt failed.
        Failed = 4 => "failed",
        /// Not to be handed out before its not-before time.
        Delayed = 5 => "delayed",
    }
);

status_enum!(
    /// The status of an attempt.
    AttemptStatus {
        /// A worker holds the lease.
        Pending = 0 => "pending",
        /// The lease ran out, or was given up.
        Expired = 1 => "expired",
        /// The work was done.
        Finished = 2 => "finished",
        /// The work failed for good.
        Failed = 3 => "failed",
        /// The work failed and may be tried again.
        Retryable = 4 => "retryable",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_forms_both_ways() {
        for s in WorkUnitStatus::ALL {
            assert_eq!(s.as_str().parse::<WorkUnitStatus>(), Ok(*s));
            assert_eq!(WorkUnitStatus::from_code(s.code()), Ok(*s));
        }
        assert_eq!(
            "seventeen"
                .parse::<AttemptStatus>()
                .unwrap_err()
                .to_string(),
            "invalid status (unmarshal, seventeen)"
        );
        assert_eq!(
            WorkUnitStatus::text_of_code(17).unwrap_err().to_string(),
            "invalid status (marshal, 17)"
        );
        assert!("Available".parse::<WorkUnitStatus>().is_err());
        assert!(WorkUnitStatus::Available < WorkUnitStatus::Delayed);
    }

    #[test]
    fn json_forms() {
        assert_eq!(
            serde_json::to_string(&AttemptStatus::Retryable).unwrap(),
            "\"retryable\""
        );
        let s: WorkUnitStatus = serde_json::from_str("\"delayed\"").unwrap();
        assert_eq!(s, WorkUnitStatus::Delayed);
        let e = serde_json::from_str::<WorkUnitStatus>("\"seventeen\"").unwrap_err();
        assert!(e
            .to_string()
            .contains("invalid status (unmarshal, seventeen)"));
    }
}
