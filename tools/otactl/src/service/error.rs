//! Errors of the in-process and HTTP admin APIs.

use std::fmt;

/// Why an admin operation (create a job or a stream, cancel, query) failed.
///
/// The admin HTTP endpoint maps these to 404, 409 and 400.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceError {
    /// The thing, job, execution or stream does not exist.
    NotFound(String),
    /// The operation conflicts with the current state (an existing job id,
    /// cancelling a terminal execution, ...).
    Conflict(String),
    /// The arguments are invalid (a bad job id, thing name, document, ...).
    Invalid(String),
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceError::NotFound(m) => write!(f, "not found: {m}"),
            ServiceError::Conflict(m) => write!(f, "conflict: {m}"),
            ServiceError::Invalid(m) => write!(f, "invalid: {m}"),
        }
    }
}

impl std::error::Error for ServiceError {}

/// Checks an AWS IoT name: 1 to `max` characters of `A-Z a-z 0-9 _ -` and
/// the `extra` characters. Names go into MQTT topics and URL paths, so `/`,
/// `+`, `#` and the like are never allowed.
pub(crate) fn validate_name(
    kind: &str,
    name: &str,
    max: usize,
    extra: &str,
) -> Result<(), ServiceError> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || extra.contains(c));
    if ok {
        Ok(())
    } else {
        Err(ServiceError::Invalid(format!(
            "{kind} {name:?} must be 1 to {max} characters of A-Z a-z 0-9 _ -{extra}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(validate_name("thing", "dev-1_a:b", 128, ":").is_ok());
        assert!(validate_name("thing", "a/b", 128, ":").is_err());
        assert!(validate_name("job", "a:b", 64, "").is_err());
        assert!(validate_name("job", "", 64, "").is_err());
        assert!(validate_name("job", &"x".repeat(65), 64, "").is_err());
        assert!(validate_name("job", &"x".repeat(64), 64, "").is_ok());
    }
}
