//! Writing text into a borrowed byte slice: strings, decimal and hex
//! numbers, and templates of them. No allocation and no `core::fmt` (which
//! costs kilobytes of flash on a microcontroller).

/// The text did not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Full;

/// Writes into a fixed slice; fails instead of truncating.
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
    // Out of line: inlined, its bounds check and copy repeat at every caller.
    #[inline(never)]
    pub(crate) fn bytes(&mut self, b: &[u8]) -> Result<&mut Self, Full> {
        let end = self.len + b.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(Full)?
            .copy_from_slice(b);
        self.len = end;
        Ok(self)
    }

    /// Append a string.
    pub(crate) fn str(&mut self, s: &str) -> Result<&mut Self, Full> {
        self.bytes(s.as_bytes())
    }

    /// Append `v` in decimal.
    pub(crate) fn dec(&mut self, v: u32) -> Result<&mut Self, Full> {
        self.number(v, 10, 1)
    }

    /// Append `v` in `radix` (at most 16), lowercase, with leading zeros to
    /// at least `width` digits (at most 10).
    fn number(&mut self, mut v: u32, radix: u32, width: usize) -> Result<&mut Self, Full> {
        let mut digits = [0u8; 10];
        let mut i = digits.len();
        loop {
            i -= 1;
            let d = (v % radix) as u8;
            digits[i] = if d < 10 { b'0' + d } else { b'a' + d - 10 };
            v /= radix;
            if v == 0 && digits.len() - i >= width {
                break;
            }
        }
        self.bytes(&digits[i..])
    }

    /// Append `template` with each `#` replaced by the next of `nums` in
    /// decimal, each `^` by the next of `nums` in 8-digit hex and each `%` by
    /// the next of `strs` (missing ones: 0 and "").
    pub(crate) fn fill(&mut self, template: &str, nums: &[u32], strs: &[&str]) -> Result<(), Full> {
        let (mut nums, mut strs) = (nums.iter(), strs.iter());
        for &b in template.as_bytes() {
            match b {
                b'#' | b'^' => {
                    let v = nums.next().copied().unwrap_or(0);
                    // One call for both (measured smaller on thumbv7em).
                    let (radix, width) = if b == b'#' { (10, 1) } else { (16, 8) };
                    self.number(v, radix, width)
                }
                b'%' => self.str(strs.next().copied().unwrap_or("")),
                _ => self.bytes(&[b]),
            }?;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl FnOnce(&mut SliceWriter) -> Result<(), Full>) -> std::string::String {
        let mut buf = [0u8; 64];
        let mut w = SliceWriter::new(&mut buf);
        f(&mut w).unwrap();
        let (done, _) = w.split();
        std::string::String::from_utf8(done.to_vec()).unwrap()
    }

    #[test]
    fn writes_numbers_and_refuses_overflow() {
        assert_eq!(text(|w| w.str("ab")?.dec(12).map(drop)), "ab12");
        assert_eq!(text(|w| w.dec(0).map(drop)), "0");
        assert_eq!(text(|w| w.dec(u32::MAX).map(drop)), "4294967295");
        assert_eq!(text(|w| w.number(0x0100_0001, 16, 8).map(drop)), "01000001");
        assert_eq!(text(|w| w.number(0xdead_beef, 16, 8).map(drop)), "deadbeef");
        let mut buf = [0u8; 4];
        let mut w = SliceWriter::new(&mut buf);
        assert_eq!(w.str("12345").err(), Some(Full));
        assert_eq!(w.len(), 0);
        assert!(w.str("1234").is_ok());
        assert_eq!(w.dec(5).err(), Some(Full));
    }

    proptest::proptest! {
        #[test]
        fn numbers_match_core_fmt(v in proptest::num::u32::ANY) {
            proptest::prop_assert_eq!(text(|w| w.dec(v).map(drop)), std::format!("{v}"));
            proptest::prop_assert_eq!(text(|w| w.number(v, 16, 8).map(drop)), std::format!("{v:08x}"));
        }
    }
}
