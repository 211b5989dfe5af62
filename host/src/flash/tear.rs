//! What an interrupted flash operation leaves behind, drawn from a seeded
//! generator so that every torn operation can be replayed exactly.

use crate::rng::SplitMix64;

/// The generator tearing draws from.
pub(super) struct Rng(SplitMix64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(SplitMix64::new(seed))
    }

    /// A value in `0..=max`.
    fn up_to(&mut self, max: usize) -> usize {
        // `max` is at most a flash page or a write, far below u64::MAX.
        (self.0.next_u64() % (max as u64 + 1)) as usize
    }

    fn coin(&mut self) -> bool {
        self.0.next_u64() & 1 == 1
    }
}

/// Tear a write of `data` over `dest` (erased bytes, same length): a prefix of
/// the write units is programmed; the unit after it is, half of the time,
/// partially programmed (a random subset of its bits reached their target
/// value); the rest stays erased.
pub(super) fn tear_write(dest: &mut [u8], data: &[u8], unit: usize, erased: u8, rng: &mut Rng) {
    let units = data.len() / unit;
    let done = rng.up_to(units) * unit;
    dest[..done].copy_from_slice(&data[..done]);
    if done < data.len() && rng.coin() {
        for (d, &target) in dest[done..done + unit].iter_mut().zip(&data[done..]) {
            // Bits set in `mask` were programmed, the others are still erased.
            let mask = rng.0.next_u64() as u8;
            *d = (target & mask) | (erased & !mask);
        }
    }
}

/// Tear the erase of one page: on one side of a random split point the bytes
/// are erased, on the other they keep their old content.
pub(super) fn tear_erase(page: &mut [u8], erased: u8, rng: &mut Rng) {
    let split = rng.up_to(page.len());
    if rng.coin() {
        page[..split].fill(erased);
    } else {
        page[split..].fill(erased);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_write_programs_a_prefix_and_at_most_one_partial_unit() {
        let data: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(37)).collect();
        let mut prefixes = std::collections::BTreeSet::new();
        let mut partial_seen = false;
        for seed in 0..500 {
            let mut dest = vec![0xff; 32];
            tear_write(&mut dest, &data, 4, 0xff, &mut Rng::new(seed));
            let done = dest
                .chunks(4)
                .zip(data.chunks(4))
                .take_while(|(d, s)| d == s)
                .count();
            prefixes.insert(done);
            if done < 8 {
                let unit = &dest[done * 4..done * 4 + 4];
                let target = &data[done * 4..done * 4 + 4];
                // Programming only clears bits: the torn unit lies between
                // erased and the target value, bit by bit.
                for (&u, &t) in unit.iter().zip(target) {
                    assert_eq!(u & t, t, "a bit was cleared that should not be");
                }
                partial_seen |= unit != [0xff; 4];
                assert!(dest[(done + 1) * 4..].iter().all(|&b| b == 0xff));
            }
        }
        assert_eq!(prefixes.len(), 9, "every prefix length 0..=8 occurs");
        assert!(partial_seen);
    }

    #[test]
    fn a_torn_erase_leaves_one_side_erased() {
        let mut sides = (false, false);
        for seed in 0..200 {
            let mut page = vec![0u8; 64];
            tear_erase(&mut page, 0xff, &mut Rng::new(seed));
            let erased = page.iter().filter(|&&b| b == 0xff).count();
            if page[0] == 0xff && erased < 64 {
                assert!(page[..erased].iter().all(|&b| b == 0xff));
                sides.0 = true;
            } else if page[63] == 0xff && erased < 64 {
                assert!(page[64 - erased..].iter().all(|&b| b == 0xff));
                sides.1 = true;
            }
        }
        assert_eq!(sides, (true, true));
    }
}
