//! SHA-256 over a stream, on sha2's compression function: the block
//! buffering and the padding, each once and out of line, in place of sha2's
//! generic glue that was inlined at every call site.
//!
//! This is crypto, not agent logic: the C agent leaves SHA-256 to the
//! platform, and bench/footprint counts this module with sha2.

use core::slice;
use sha2::block_api::compress256;

/// SHA-256's initial state.
const H0: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A running SHA-256. It does not count its input: every call is given the
/// number of bytes hashed before it (only that number modulo 64 matters).
#[derive(Clone, Debug)]
pub(crate) struct Sha256 {
    state: [u32; 8],
    /// The bytes since the last 64-byte boundary (the rest is stale).
    block: [u8; 64],
}

impl Sha256 {
    pub(crate) fn new() -> Self {
        Sha256 {
            state: H0,
            block: [0; 64],
        }
    }

    /// The bytes hashed since the last 64-byte boundary, at the start of
    /// the returned block (the rest is stale).
    pub(crate) fn buffered(&self) -> &[u8; 64] {
        &self.block
    }

    /// Hash `data`, which follows `at` bytes already hashed.
    #[inline(never)]
    pub(crate) fn update(&mut self, at: u32, mut data: &[u8]) {
        let pos = at as usize % 64;
        if pos != 0 {
            // Complete the buffered block first.
            let take = (64 - pos).min(data.len());
            let (now, rest) = data.split_at(take);
            self.block[pos..pos + take].copy_from_slice(now);
            if pos + take == 64 {
                compress256(&mut self.state, slice::from_ref(&self.block));
            }
            data = rest;
        }
        // Whole blocks are compressed where they are, in one call.
        let (blocks, tail) = data.as_chunks::<64>();
        if !blocks.is_empty() {
            compress256(&mut self.state, blocks);
        }
        self.block[..tail.len()].copy_from_slice(tail);
    }

    /// The hash of the `len` bytes hashed so far (the state is kept). It
    /// calls the compression function itself, which also keeps that
    /// function's 7 KiB from being inlined into `update`, its only other caller.
    #[inline(never)]
    pub(crate) fn finalize(&self, len: u32) -> [u8; 32] {
        let mut state = self.state;
        let pos = len as usize % 64;
        // Zeroed whole, then the buffered bytes copied in: clearing from
        // `pos` on would link a separate unaligned memset.
        let mut block = [0u8; 64];
        block[..pos].copy_from_slice(&self.block[..pos]);
        block[pos] = 0x80;
        if pos >= 56 {
            compress256(&mut state, slice::from_ref(&block));
            block = [0; 64];
        }
        block[56..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
        compress256(&mut state, slice::from_ref(&block));
        let mut out = [0u8; 32];
        for (i, word) in state.iter().enumerate() {
            out[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn reference(data: &[u8]) -> [u8; 32] {
        sha2::Sha256::digest(data).into()
    }

    #[test]
    fn sha256_matches_sha2_at_every_padding_length() {
        let data: std::vec::Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let mut sha = Sha256::new();
            let (a, b) = data[..len].split_at(len / 3);
            sha.update(0, a);
            sha.update(a.len() as u32, b);
            assert_eq!(sha.finalize(len as u32), reference(&data[..len]), "{len}");
            assert_eq!(sha.finalize(len as u32), reference(&data[..len]), "kept");
        }
    }
}
