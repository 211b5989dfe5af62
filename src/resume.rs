//! (being implemented)
/// The largest resume record.
pub const RESUME_RECORD_MAX: usize = 128;
