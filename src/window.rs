//! (being implemented)
/// Blocks in the download window.
pub const WINDOW_BLOCKS: usize = 256;
