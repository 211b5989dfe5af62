//! MCUboot image format: the header at offset 0 and the TLV areas after the
//! image, as MCUboot's `bootutil/image.h` defines them (all little-endian).
//!
//! ```text
//! [header: hdr_size bytes, the first 32 parsed here]
//! [image: img_size bytes]
//! [protected TLV area: protect_tlv_size bytes, info magic 0x6908]   (optional)
//! [TLV area: info {magic 0x6907, tlv_tot} then TLVs {type u16, len u16, data}]
//! ```
//!
//! MCUboot's image hash (TLV 0x10) is the SHA-256 of everything before the
//! unprotected TLV area: [`ImageHeader::hashed_len`] bytes from offset 0.

use crate::reason::ImageError;
use sha2::{Digest, Sha256};

/// `IMAGE_MAGIC`.
pub const IMAGE_MAGIC: u32 = 0x96f3_b83d;
/// `IMAGE_TLV_INFO_MAGIC`: the unprotected TLV area.
pub const TLV_INFO_MAGIC: u16 = 0x6907;
/// `IMAGE_TLV_PROT_INFO_MAGIC`: the protected TLV area.
pub const TLV_PROT_INFO_MAGIC: u16 = 0x6908;
/// `IMAGE_TLV_SHA256`.
pub const TLV_SHA256: u16 = 0x10;
/// Size of the fixed header fields.
pub const HEADER_LEN: usize = 32;
/// Size of a TLV area info header and of a TLV header.
pub const TLV_HEADER_LEN: usize = 4;

/// `struct image_version`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImageVersion {
    /// Major.
    pub major: u8,
    /// Minor.
    pub minor: u8,
    /// Revision.
    pub revision: u16,
    /// Build number.
    pub build_num: u32,
}

/// The fields of `struct image_header`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageHeader {
    /// `ih_load_addr`.
    pub load_addr: u32,
    /// `ih_hdr_size`: bytes before the image (at least 32).
    pub hdr_size: u16,
    /// `ih_protect_tlv_size`: bytes of the protected TLV area (0 if none).
    pub protect_tlv_size: u16,
    /// `ih_img_size`: bytes of the image proper.
    pub img_size: u32,
    /// `ih_flags`.
    pub flags: u32,
    /// `ih_ver`.
    pub version: ImageVersion,
}

fn le16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl ImageHeader {
    /// Parse the first 32 bytes of an image.
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Self, ImageError> {
        if le32(bytes, 0) != IMAGE_MAGIC {
            return Err(ImageError::BadMagic);
        }
        let header = ImageHeader {
            load_addr: le32(bytes, 4),
            hdr_size: le16(bytes, 8),
            protect_tlv_size: le16(bytes, 10),
            img_size: le32(bytes, 12),
            flags: le32(bytes, 16),
            version: ImageVersion {
                major: bytes[20],
                minor: bytes[21],
                revision: le16(bytes, 22),
                build_num: le32(bytes, 24),
            },
        };
        if (header.hdr_size as usize) < HEADER_LEN {
            return Err(ImageError::BadSizes);
        }
        if header.protect_tlv_size != 0 && (header.protect_tlv_size as usize) < TLV_HEADER_LEN {
            return Err(ImageError::BadTlv);
        }
        Ok(header)
    }

    /// Bytes covered by MCUboot's image hash: header, image and protected TLVs.
    /// `None` if that overflows a u32.
    pub fn hashed_len(&self) -> Option<u32> {
        (self.hdr_size as u32)
            .checked_add(self.img_size)?
            .checked_add(self.protect_tlv_size as u32)
    }

    /// The header serialised back to its 32 bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0..4].copy_from_slice(&IMAGE_MAGIC.to_le_bytes());
        b[4..8].copy_from_slice(&self.load_addr.to_le_bytes());
        b[8..10].copy_from_slice(&self.hdr_size.to_le_bytes());
        b[10..12].copy_from_slice(&self.protect_tlv_size.to_le_bytes());
        b[12..16].copy_from_slice(&self.img_size.to_le_bytes());
        b[16..20].copy_from_slice(&self.flags.to_le_bytes());
        b[20] = self.version.major;
        b[21] = self.version.minor;
        b[22..24].copy_from_slice(&self.version.revision.to_le_bytes());
        b[24..28].copy_from_slice(&self.version.build_num.to_le_bytes());
        b
    }
}

/// The layout of a complete image file, derived from its header and the
/// unprotected TLV info that follows the hashed part.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageLayout {
    /// The header.
    pub header: ImageHeader,
    /// Offset of the unprotected TLV area (= `header.hashed_len()`).
    pub tlv_offset: u32,
    /// Size of the unprotected TLV area, info header included.
    pub tlv_len: u32,
}

impl ImageLayout {
    /// Check that the header, the 4-byte TLV info at the end of the hashed
    /// part and `file_len` agree: the image must end exactly where the file does.
    pub fn new(
        header: ImageHeader,
        tlv_info: &[u8; TLV_HEADER_LEN],
        file_len: u32,
    ) -> Result<Self, ImageError> {
        let tlv_offset = header.hashed_len().ok_or(ImageError::BadSizes)?;
        let tlv_len = tlv_area_len(tlv_offset, tlv_info, file_len)?;
        Ok(ImageLayout {
            header,
            tlv_offset,
            tlv_len,
        })
    }
}

/// The size of the unprotected TLV area at `tlv_offset`, info header
/// included, from its info header: it must end where the file does.
pub(crate) fn tlv_area_len(
    tlv_offset: u32,
    tlv_info: &[u8; TLV_HEADER_LEN],
    file_len: u32,
) -> Result<u32, ImageError> {
    if le16(tlv_info, 0) != TLV_INFO_MAGIC {
        return Err(ImageError::BadTlv);
    }
    let tlv_len = le16(tlv_info, 2) as u32;
    if (tlv_len as usize) < TLV_HEADER_LEN {
        return Err(ImageError::BadTlv);
    }
    if tlv_offset.checked_add(tlv_len) != Some(file_len) {
        return Err(ImageError::BadSizes);
    }
    Ok(tlv_len)
}

/// Find the SHA-256 TLV among the TLVs of an unprotected TLV area (`tlvs` is
/// the area *after* its 4-byte info header).
pub fn find_sha256(tlvs: &[u8]) -> Result<[u8; 32], ImageError> {
    let mut rest = tlvs;
    while !rest.is_empty() {
        if rest.len() < TLV_HEADER_LEN {
            return Err(ImageError::BadTlv);
        }
        let kind = le16(rest, 0);
        let len = le16(rest, 2) as usize;
        let data = rest
            .get(TLV_HEADER_LEN..TLV_HEADER_LEN + len)
            .ok_or(ImageError::BadTlv)?;
        if kind == TLV_SHA256 {
            return data.try_into().map_err(|_| ImageError::BadTlv);
        }
        rest = &rest[TLV_HEADER_LEN + len..];
    }
    Err(ImageError::NoHash)
}

/// Check a whole image held in memory the way MCUboot would before booting
/// it: header magic, sizes that add up to `image.len()`, a well-formed TLV
/// area, and a SHA-256 TLV equal to the hash of the image.
pub fn check_image(image: &[u8]) -> Result<ImageLayout, ImageError> {
    let file_len = u32::try_from(image.len()).map_err(|_| ImageError::BadSizes)?;
    let head: &[u8; HEADER_LEN] = image
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(ImageError::BadMagic)?;
    let header = ImageHeader::parse(head)?;
    let tlv_offset = header.hashed_len().ok_or(ImageError::BadSizes)? as usize;
    let info: &[u8; TLV_HEADER_LEN] = image
        .get(tlv_offset..tlv_offset + TLV_HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(ImageError::BadSizes)?;
    let layout = ImageLayout::new(header, info, file_len)?;
    let expected = find_sha256(&image[tlv_offset + TLV_HEADER_LEN..])?;
    let actual: [u8; 32] = Sha256::digest(&image[..tlv_offset]).into();
    if expected != actual {
        return Err(ImageError::HashMismatch);
    }
    Ok(layout)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal valid image: `hdr_size`-byte header, `payload`, SHA-256 TLV.
    pub(crate) fn make_image(payload: &[u8], version: (u8, u8, u16), out: &mut [u8]) -> usize {
        let hdr_size = 64u16;
        let header = ImageHeader {
            load_addr: 0,
            hdr_size,
            protect_tlv_size: 0,
            img_size: payload.len() as u32,
            flags: 0,
            version: ImageVersion {
                major: version.0,
                minor: version.1,
                revision: version.2,
                build_num: 0,
            },
        };
        let h = hdr_size as usize;
        out[..h].fill(0);
        out[..HEADER_LEN].copy_from_slice(&header.to_bytes());
        out[h..h + payload.len()].copy_from_slice(payload);
        let t = h + payload.len();
        let digest: [u8; 32] = Sha256::digest(&out[..t]).into();
        out[t..t + 2].copy_from_slice(&TLV_INFO_MAGIC.to_le_bytes());
        out[t + 2..t + 4].copy_from_slice(&(4u16 + 4 + 32).to_le_bytes());
        out[t + 4..t + 6].copy_from_slice(&TLV_SHA256.to_le_bytes());
        out[t + 6..t + 8].copy_from_slice(&32u16.to_le_bytes());
        out[t + 8..t + 40].copy_from_slice(&digest);
        t + 40
    }

    #[test]
    fn accepts_a_valid_image() {
        let mut buf = [0u8; 512];
        let n = make_image(b"hello firmware", (1, 2, 3), &mut buf);
        let layout = check_image(&buf[..n]).unwrap();
        assert_eq!(layout.header.version.major, 1);
        assert_eq!(layout.header.version.revision, 3);
        assert_eq!(layout.tlv_len, 40);
    }

    #[test]
    fn rejects_each_kind_of_damage() {
        let mut buf = [0u8; 512];
        let n = make_image(b"hello firmware", (1, 2, 3), &mut buf);
        let mut bad = buf;
        bad[0] ^= 1;
        assert_eq!(check_image(&bad[..n]), Err(ImageError::BadMagic));
        let mut bad = buf;
        bad[70] ^= 1; // payload byte
        assert_eq!(check_image(&bad[..n]), Err(ImageError::HashMismatch));
        assert_eq!(check_image(&buf[..n - 1]), Err(ImageError::BadSizes));
        let mut bad = buf;
        bad[64 + 14 + 4] = 0x11; // TLV type: no longer SHA-256
        assert_eq!(check_image(&bad[..n]), Err(ImageError::NoHash));
        let mut bad = buf;
        bad[64 + 14] = 0; // TLV info magic
        assert_eq!(check_image(&bad[..n]), Err(ImageError::BadTlv));
        let mut bad = buf;
        bad[8] = 8; // hdr_size below 32
        assert_eq!(check_image(&bad[..n]), Err(ImageError::BadSizes));
        assert_eq!(check_image(&buf[..10]), Err(ImageError::BadMagic));
    }

    #[test]
    fn header_round_trips() {
        let mut buf = [0u8; 512];
        make_image(b"x", (9, 8, 7), &mut buf);
        let head: &[u8; 32] = buf[..32].try_into().unwrap();
        let h = ImageHeader::parse(head).unwrap();
        assert_eq!(&h.to_bytes(), head);
    }

    #[test]
    fn truncated_tlv_is_malformed() {
        assert_eq!(
            find_sha256(&[0x10, 0, 32, 0, 1, 2]),
            Err(ImageError::BadTlv)
        );
        assert_eq!(find_sha256(&[0x10]), Err(ImageError::BadTlv));
        assert_eq!(find_sha256(&[]), Err(ImageError::NoHash));
    }
}
