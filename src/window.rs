//! The block window: which blocks of the file are still needed.
//!
//! Every block below `base` has been received. For the next
//! [`WINDOW_BLOCKS`] blocks a bitmap says which are still needed (bit k =
//! block `base + k`, LSB first, 1 = needed: the GetStream `b` format with
//! `o = base`). Blocks past the window are needed and not tracked yet. So
//! RAM is constant whatever the file size, where the C agent keeps one bit
//! per block of the whole file (and refuses files over 4 MiB).

/// Blocks in the window.
pub const WINDOW_BLOCKS: usize = 256;
const WINDOW_BYTES: usize = WINDOW_BLOCKS / 8;

/// Where a block index falls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Inside the window and still needed.
    Needed,
    /// Already received.
    Duplicate,
    /// Past the end of the file, or past the window.
    OutOfRange,
}

/// The window over a file of `total` blocks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Window {
    base: u32,
    total: u32,
    /// Blocks received (kept, so progress reports do not scan the bits).
    received: u32,
    bits: [u8; WINDOW_BYTES],
}

/// Blocks of a window at `base` that exist in a file of `total` blocks.
fn span(base: u32, total: u32) -> usize {
    ((total - base) as usize).min(WINDOW_BLOCKS)
}

impl Window {
    /// A window where blocks `base..total` are needed.
    pub(crate) fn new(total: u32, base: u32) -> Self {
        let base = base.min(total);
        let span = span(base, total);
        // Byte i holds blocks 8i..8i+8: as many low bits set as of those
        // blocks exist. (Built byte by byte: measured smaller on thumbv7em
        // than setting the bits one by one.)
        let byte = |i: usize| {
            let needed = span.saturating_sub(8 * i).min(8);
            !(0xff_u32 << needed) as u8
        };
        Window {
            base,
            total,
            received: base,
            bits: core::array::from_fn(byte),
        }
    }

    /// Blocks of the window that exist (the window may reach past the file's end).
    fn span(&self) -> usize {
        span(self.base, self.total)
    }

    /// The first block not yet received.
    pub(crate) fn base(&self) -> u32 {
        self.base
    }

    /// Blocks in the file.
    pub(crate) fn total(&self) -> u32 {
        self.total
    }

    /// Every block received.
    pub(crate) fn is_complete(&self) -> bool {
        self.base == self.total
    }

    fn bit(&self, k: usize) -> bool {
        self.bits[k / 8] & (1 << (k % 8)) != 0
    }

    /// Classify block `index`.
    pub(crate) fn check(&self, index: u32) -> Slot {
        if index >= self.total {
            return Slot::OutOfRange;
        }
        let Some(k) = index.checked_sub(self.base) else {
            return Slot::Duplicate;
        };
        match k as usize {
            k if k >= WINDOW_BLOCKS => Slot::OutOfRange,
            k if self.bit(k) => Slot::Needed,
            _ => Slot::Duplicate,
        }
    }

    /// Record block `index` as received (no effect unless it was needed).
    // Inline: its one caller has just checked the same block (measured
    // smaller on thumbv7em).
    #[inline]
    pub(crate) fn mark_received(&mut self, index: u32) {
        // A block is needed exactly when its bit is set: blocks below the
        // base wrap to a `k` past the bitmap, and no bit past the file's end
        // is ever set.
        let k = index.wrapping_sub(self.base) as usize;
        let mask = 1 << (k % 8);
        if let Some(byte) = self.bits.get_mut(k / 8).filter(|b| **b & mask != 0) {
            *byte &= !mask;
            self.received += 1;
        }
    }

    /// Whether block `base` has been received (so the base can move past it).
    fn base_received(&self) -> bool {
        !self.is_complete() && !self.bit(0)
    }

    /// If block `base` has been received (see
    /// [`base_received`](Self::base_received)), move the base past it and
    /// return that block's index.
    pub(crate) fn advance(&mut self) -> Option<u32> {
        if !self.base_received() {
            return None;
        }
        let block = self.base;
        let mut carry = 0;
        for byte in self.bits.iter_mut().rev() {
            let low = *byte & 1;
            *byte = *byte >> 1 | carry << 7;
            carry = low;
        }
        self.base += 1;
        let top = WINDOW_BLOCKS - 1;
        if (self.total - self.base) as usize > top {
            self.bits[top / 8] |= 1 << (top % 8);
        }
        Some(block)
    }

    /// The GetStream bitmap for offset `base`: just the bytes that cover blocks
    /// of the file (one byte for a 3-block file, as the C agent sends).
    pub(crate) fn request_bitmap(&self) -> &[u8] {
        &self.bits[..self.span().div_ceil(8)]
    }

    /// Blocks received so far.
    pub(crate) fn received(&self) -> u32 {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn initial_bitmaps_match_the_c_agent() {
        // PROTOCOL.md §5.3: 3 blocks → 07, 10 → ff 03, 179 → 22 × ff then 07.
        assert_eq!(Window::new(3, 0).request_bitmap(), &[0x07]);
        assert_eq!(Window::new(10, 0).request_bitmap(), &[0xff, 0x03]);
        let w = Window::new(179, 0);
        let b = w.request_bitmap();
        assert_eq!(b.len(), 23);
        assert!(b[..22].iter().all(|&x| x == 0xff));
        assert_eq!(b[22], 0x07);
    }

    #[test]
    fn receives_in_order_and_out_of_order() {
        let mut w = Window::new(3, 0);
        assert_eq!(w.check(1), Slot::Needed);
        w.mark_received(1);
        assert_eq!(w.check(1), Slot::Duplicate);
        assert_eq!(w.request_bitmap(), &[0x05]);
        assert!(!w.base_received());
        w.mark_received(0);
        assert!(w.base_received());
        w.advance();
        w.advance();
        assert_eq!(w.base(), 2);
        assert_eq!(w.request_bitmap(), &[0x01]);
        assert_eq!(w.check(0), Slot::Duplicate);
        assert_eq!(w.check(3), Slot::OutOfRange);
        assert_eq!(w.received(), 2);
        w.mark_received(2);
        w.advance();
        assert!(w.is_complete());
        assert_eq!(w.request_bitmap(), &[] as &[u8]);
        assert_eq!(w.check(2), Slot::Duplicate, "late copies are duplicates");
        w.advance();
        assert_eq!(w.base(), 3);
    }

    #[test]
    fn a_large_file_slides_through_a_constant_window() {
        let total = 100_000;
        let mut w = Window::new(total, 0);
        assert_eq!(w.request_bitmap().len(), WINDOW_BLOCKS / 8);
        assert_eq!(w.check(WINDOW_BLOCKS as u32), Slot::OutOfRange);
        for i in 0..total {
            assert_eq!(w.check(i), Slot::Needed);
            w.mark_received(i);
            w.advance();
        }
        assert!(w.is_complete());
    }

    #[test]
    fn resumes_from_a_base() {
        let w = Window::new(10, 8);
        assert_eq!(w.base(), 8);
        assert_eq!(w.request_bitmap(), &[0x03]);
        assert_eq!(w.received(), 8);
        assert_eq!(Window::new(10, 12).base(), 10);
    }

    proptest! {
        /// Against a model: a plain set of received blocks.
        #[test]
        fn matches_a_model(total in 1u32..700, order in proptest::collection::vec(0u32..700, 0..2000)) {
            let mut w = Window::new(total, 0);
            let mut got = std::vec![false; total as usize];
            for i in order {
                let expect = if i >= total {
                    Slot::OutOfRange
                } else if got[i as usize] {
                    Slot::Duplicate
                } else if i >= w.base() + WINDOW_BLOCKS as u32 {
                    Slot::OutOfRange
                } else {
                    Slot::Needed
                };
                prop_assert_eq!(w.check(i), expect);
                if expect == Slot::Needed {
                    w.mark_received(i);
                    got[i as usize] = true;
                }
                while w.base_received() {
                    w.advance();
                }
                let base = got.iter().position(|g| !g).unwrap_or(total as usize) as u32;
                prop_assert_eq!(w.base(), base);
                prop_assert_eq!(w.received(), got.iter().filter(|g| **g).count() as u32);
                for (k, byte) in w.request_bitmap().iter().enumerate() {
                    for bit in 0..8 {
                        let block = (base as usize) + k * 8 + bit;
                        let wanted = block < total as usize && !got[block];
                        prop_assert_eq!(byte & (1 << bit) != 0, wanted);
                    }
                }
            }
        }
    }
}
