//! The file's SHA-256, computed while it downloads, in order.
//!
//! For firmware, the same pass also yields MCUboot's image hash: that hash
//! covers a prefix of the file (header, image and protected TLVs, a length the
//! header gives in its first 32 bytes), so when the running hash reaches the
//! end of that prefix a copy of the hash state is finalised. No second pass
//! and no second hash state over the data.

use crate::mcuboot::{ImageHeader, HEADER_LEN, TLV_HEADER_LEN};
use crate::reason::ImageError;
use sha2::{Digest, Sha256};

/// One call site for the hash's update, so it is not inlined three times
/// (flash matters more than a call here).
#[inline(never)]
fn feed(sha: &mut Sha256, data: &[u8]) {
    sha.update(data);
}

/// What the download learned about the MCUboot image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BootImage {
    /// The parsed header.
    pub(crate) header: ImageHeader,
    /// SHA-256 of the header, image and protected TLVs.
    pub(crate) digest: [u8; 32],
}

#[derive(Clone, Debug)]
enum BootHash {
    /// Not firmware: no MCUboot checks.
    Off,
    /// Gathering the first 32 bytes.
    Collecting { head: [u8; HEADER_LEN], len: u8 },
    /// Hashing towards the end of MCUboot's hashed prefix.
    Until { header: ImageHeader, end: u32 },
    /// The prefix hash is known.
    Done(BootImage),
}

/// Running hashes over a file of known size.
#[derive(Clone, Debug)]
pub(crate) struct FileDigest {
    sha: Sha256,
    hashed: u32,
    file_size: u32,
    boot: BootHash,
}

impl FileDigest {
    /// Hashes for a file of `file_size` bytes; `mcuboot` when it must be an
    /// MCUboot image.
    pub(crate) fn new(file_size: u32, mcuboot: bool) -> Self {
        FileDigest {
            sha: Sha256::new(),
            hashed: 0,
            file_size,
            boot: if mcuboot {
                BootHash::Collecting {
                    head: [0; HEADER_LEN],
                    len: 0,
                }
            } else {
                BootHash::Off
            },
        }
    }

    /// Bytes hashed so far (the offset of the next byte expected).
    pub(crate) fn hashed(&self) -> u32 {
        self.hashed
    }

    /// Hash the next bytes of the file. Fails as soon as the MCUboot header is
    /// known to be bad, so a wrong file is refused after its first block.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<(), ImageError> {
        let start = self.hashed;
        let end_of_data = start as u64 + data.len() as u64;
        if let BootHash::Collecting { head, len } = &mut self.boot {
            let have = *len as usize;
            let take = (HEADER_LEN - have).min(data.len());
            head[have..have + take].copy_from_slice(&data[..take]);
            *len += take as u8;
            if *len as usize == HEADER_LEN {
                let header = ImageHeader::parse(head)?;
                let end = header.hashed_len().ok_or(ImageError::BadSizes)?;
                if end as u64 + TLV_HEADER_LEN as u64 > self.file_size as u64 {
                    return Err(ImageError::BadSizes);
                }
                self.boot = BootHash::Until { header, end };
            }
        }
        match self.boot {
            BootHash::Until { header, end } if start <= end && end as u64 <= end_of_data => {
                let (before, after) = data.split_at((end - start) as usize);
                feed(&mut self.sha, before);
                let digest = self.sha.clone().finalize().into();
                self.boot = BootHash::Done(BootImage { header, digest });
                feed(&mut self.sha, after);
            }
            _ => feed(&mut self.sha, data),
        }
        self.hashed = end_of_data.min(u32::MAX as u64) as u32;
        Ok(())
    }

    /// The file's SHA-256 and, for firmware, the MCUboot image hash.
    pub(crate) fn finish(self) -> Result<([u8; 32], Option<BootImage>), ImageError> {
        let boot = match self.boot {
            BootHash::Off => None,
            BootHash::Done(image) => Some(image),
            BootHash::Collecting { .. } => return Err(ImageError::BadMagic),
            BootHash::Until { .. } => return Err(ImageError::BadSizes),
        };
        Ok((self.sha.finalize().into(), boot))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcuboot::tests::make_image;
    use proptest::prelude::*;

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
        let (file, boot) = d.finish().unwrap();
        assert_eq!(file, <[u8; 32]>::from(Sha256::digest(img)));
        let boot = boot.unwrap();
        let layout = crate::mcuboot::check_image(img).unwrap();
        assert_eq!(boot.header, layout.header);
        assert_eq!(
            boot.digest,
            <[u8; 32]>::from(Sha256::digest(&img[..layout.tlv_offset as usize]))
        );
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
        let (file, boot) = d.finish().unwrap();
        assert_eq!(boot, None);
        assert_eq!(file, <[u8; 32]>::from(Sha256::digest(b"abc")));
    }

    #[test]
    fn an_incomplete_image_fails() {
        let mut d = FileDigest::new(100, true);
        d.update(&[0x3d, 0xb8]).unwrap();
        assert_eq!(d.finish().unwrap_err(), ImageError::BadMagic);
    }

    proptest! {
        #[test]
        fn any_chunking_gives_the_same_hashes(cuts in proptest::collection::vec(0usize..400, 0..12)) {
            let (buf, n) = image();
            let img = &buf[..n];
            let mut whole = FileDigest::new(n as u32, true);
            whole.update(img).unwrap();
            let expect = whole.finish().unwrap();
            let mut cuts: std::vec::Vec<usize> = cuts.into_iter().map(|c| c % n).collect();
            cuts.push(0);
            cuts.push(n);
            cuts.sort_unstable();
            let mut d = FileDigest::new(n as u32, true);
            for w in cuts.windows(2) {
                d.update(&img[w[0]..w[1]]).unwrap();
            }
            prop_assert_eq!(d.hashed() as usize, n);
            prop_assert_eq!(d.finish().unwrap(), expect);
        }
    }
}
