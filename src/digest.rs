//! The file's SHA-256, computed while it downloads, in order.
//!
//! For firmware, the same pass also yields MCUboot's image hash: that hash
//! covers a prefix of the file (header, image and protected TLVs, a length the
//! header gives in its first 32 bytes), so when the running hash reaches the
//! end of that prefix a copy of the hash state is finalised. No second pass
//! and no second hash state over the data.

use crate::mcuboot::{ImageHeader, HEADER_LEN, TLV_HEADER_LEN};
use crate::platform::Version;
use crate::reason::ImageError;
use crate::sha256::Sha256;

/// What the download learned about the MCUboot image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BootImage {
    /// The header's version (its revision as the build), packed as
    /// [`Version::packed`]: the form it is compared, saved and reported in.
    pub(crate) version: u32,
    /// Where the unprotected TLV area starts: the length of the hashed prefix.
    pub(crate) tlv_offset: u32,
    /// SHA-256 of the header, image and protected TLVs.
    pub(crate) digest: [u8; 32],
}

/// How far the MCUboot checks are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Not firmware: no MCUboot checks.
    Off,
    /// Hashing the first 32 bytes (the hash's block buffer keeps them).
    Header,
    /// Hashing towards the end of MCUboot's hashed prefix.
    Prefix,
    /// The prefix hash is known.
    Done,
}

/// Running hashes over a file of known size.
#[derive(Clone, Debug)]
pub(crate) struct FileDigest {
    sha: Sha256,
    hashed: u32,
    file_size: u32,
    phase: Phase,
    /// Where the phase ends: the end of the header, then of the prefix.
    stop: u32,
    /// The header's facts from [`Phase::Prefix`] on, the prefix hash in
    /// [`Phase::Done`].
    boot: BootImage,
}

impl FileDigest {
    /// Hashes for a file of `file_size` bytes; `mcuboot` when it must be an
    /// MCUboot image.
    pub(crate) fn new(file_size: u32, mcuboot: bool) -> Self {
        FileDigest {
            sha: Sha256::new(),
            hashed: 0,
            file_size,
            phase: if mcuboot { Phase::Header } else { Phase::Off },
            stop: HEADER_LEN as u32,
            boot: BootImage {
                version: 0,
                tlv_offset: 0,
                digest: [0; 32],
            },
        }
    }

    /// Bytes hashed so far (the offset of the next byte expected).
    pub(crate) fn hashed(&self) -> u32 {
        self.hashed
    }

    /// Hash the next bytes of the file. Fails as soon as the MCUboot header is
    /// known to be bad, so a wrong file is refused after its first block.
    pub(crate) fn update(&mut self, mut data: &[u8]) -> Result<(), ImageError> {
        loop {
            // Up to the next stop, if any.
            let mut n = data.len();
            if let Some(stop) = self.stop() {
                if self.hashed == stop {
                    self.reached_stop()?;
                    continue;
                }
                n = n.min((stop - self.hashed) as usize);
            }
            if n == 0 {
                return Ok(());
            }
            let (now, rest) = data.split_at(n);
            self.feed(now);
            data = rest;
        }
    }

    fn feed(&mut self, data: &[u8]) {
        self.sha.update(self.hashed, data);
        self.hashed = self.hashed.wrapping_add(data.len() as u32);
    }

    /// The offset where the MCUboot checks next need the hash.
    fn stop(&self) -> Option<u32> {
        matches!(self.phase, Phase::Header | Phase::Prefix).then_some(self.stop)
    }

    /// The hash has reached [`stop`](Self::stop): check the header, or keep
    /// the prefix hash.
    #[inline(never)]
    fn reached_stop(&mut self) -> Result<(), ImageError> {
        if self.phase == Phase::Header {
            // No block is complete yet: the hash's buffer holds the header.
            let head = self
                .sha
                .buffered()
                .first_chunk()
                .ok_or(ImageError::BadMagic)?;
            let header = ImageHeader::parse(head)?;
            let end = header.hashed_len().ok_or(ImageError::BadSizes)?;
            if self
                .file_size
                .checked_sub(TLV_HEADER_LEN as u32)
                .is_none_or(|last| end > last)
            {
                return Err(ImageError::BadSizes);
            }
            let v = header.version;
            self.boot.version = Version::new(v.major, v.minor, v.revision).packed();
            self.boot.tlv_offset = end;
            self.stop = end;
            self.phase = Phase::Prefix;
        } else {
            self.boot.digest = self.sha.finalize(self.hashed);
            self.phase = Phase::Done;
        }
        Ok(())
    }

    /// For a complete file: what the download learned about the MCUboot
    /// image (`None` if not firmware), or why it is not a valid one.
    pub(crate) fn boot_image(&self) -> Result<Option<&BootImage>, ImageError> {
        match self.phase {
            Phase::Off => Ok(None),
            Phase::Done => Ok(Some(&self.boot)),
            Phase::Header => Err(ImageError::BadMagic),
            Phase::Prefix => Err(ImageError::BadSizes),
        }
    }

    /// The SHA-256 of the bytes hashed: the file's, once it is complete.
    pub(crate) fn sha256(&self) -> [u8; 32] {
        self.sha.finalize(self.hashed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcuboot::tests::make_image;
    use proptest::prelude::*;
    use sha2::Digest;

    fn reference(data: &[u8]) -> [u8; 32] {
        sha2::Sha256::digest(data).into()
    }

    fn image() -> ([u8; 512], usize) {
        let mut buf = [0u8; 512];
        let n = make_image(&[0x5a; 300], (2, 0, 1), &mut buf);
        (buf, n)
    }

    #[test]
    fn whole_file_and_boot_hash_in_one_pass() {
        let (buf, n) = image();
        let img = &buf[..n];
        let mut d = FileDigest::new(n as u32, true);
        d.update(img).unwrap();
        assert_eq!(d.sha256(), reference(img));
        let boot = d.boot_image().unwrap().unwrap();
        let layout = crate::mcuboot::check_image(img).unwrap();
        let v = layout.header.version;
        assert_eq!(
            boot.version,
            Version::new(v.major, v.minor, v.revision).packed()
        );
        assert_eq!(boot.tlv_offset, layout.tlv_offset);
        assert_eq!(boot.digest, reference(&img[..layout.tlv_offset as usize]));
    }

    #[test]
    fn a_bad_header_fails_early() {
        let mut d = FileDigest::new(1000, true);
        assert_eq!(d.update(&[0u8; 64]), Err(ImageError::BadMagic));
        let (buf, n) = image();
        let mut d = FileDigest::new(n as u32 - 41, true);
        assert_eq!(
            d.update(&buf[..n]),
            Err(ImageError::BadSizes),
            "prefix past the file"
        );
    }

    #[test]
    fn non_firmware_skips_mcuboot() {
        let mut d = FileDigest::new(3, false);
        d.update(b"abc").unwrap();
        assert_eq!(d.boot_image(), Ok(None));
        assert_eq!(d.sha256(), reference(b"abc"));
    }

    #[test]
    fn an_incomplete_image_fails() {
        let mut d = FileDigest::new(100, true);
        d.update(&[0x3d, 0xb8]).unwrap();
        assert_eq!(d.boot_image(), Err(ImageError::BadMagic));
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_hashes(cuts in proptest::collection::vec(0usize..400, 0..12)) {
            let (buf, n) = image();
            let img = &buf[..n];
            let mut whole = FileDigest::new(n as u32, true);
            whole.update(img).unwrap();
            let expect = (whole.sha256(), *whole.boot_image().unwrap().unwrap());
            let mut cuts: std::vec::Vec<usize> = cuts.into_iter().map(|c| c % n).collect();
            cuts.push(0);
            cuts.push(n);
            cuts.sort_unstable();
            let mut d = FileDigest::new(n as u32, true);
            for w in cuts.windows(2) {
                d.update(&img[w[0]..w[1]]).unwrap();
            }
            prop_assert_eq!(d.hashed() as usize, n);
            prop_assert_eq!((d.sha256(), *d.boot_image().unwrap().unwrap()), expect);
        }
    }
}
