//! Formatting into a borrowed byte slice (no allocation).

use core::fmt;

/// Writes text into a fixed slice; fails instead of truncating.
pub(crate) struct SliceWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl<'a> SliceWriter<'a> {
    /// A writer over `buf`, empty.
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        SliceWriter { buf, len: 0 }
    }

    /// Append raw bytes.
    pub(crate) fn bytes(&mut self, b: &[u8]) -> fmt::Result {
        let end = self.len + b.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(b);
        self.len = end;
        Ok(())
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Split into (written, rest).
    pub(crate) fn split(self) -> (&'a mut [u8], &'a mut [u8]) {
        self.buf.split_at_mut(self.len)
    }
}

impl fmt::Write for SliceWriter<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.bytes(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::fmt::Write;

    #[test]
    fn writes_and_refuses_overflow() {
        let mut buf = [0u8; 8];
        let mut w = SliceWriter::new(&mut buf);
        write!(w, "ab{}", 12).unwrap();
        assert_eq!(w.len(), 4);
        assert!(write!(w, "12345").is_err());
        let (done, rest) = w.split();
        assert_eq!(done, b"ab12");
        assert_eq!(rest.len(), 4);
    }
}
