//! What MCUboot checks before it swaps to or boots an image: the header
//! (`boot_check_header_erased`, `boot_check_header_valid`), the size against
//! the slot (`bootutil_max_image_size`) and the SHA-256 TLV
//! (`bootutil_img_validate`), the last two through the core's
//! [`check_image`]. Signatures are the agent's business, not the simulator's.

use ota_agent::mcuboot::{
    check_image, ImageHeader, HEADER_LEN, IMAGE_MAGIC, TLV_HEADER_LEN, TLV_INFO_MAGIC,
    TLV_PROT_INFO_MAGIC,
};

use crate::flash::FlashError;
use crate::partition::Area;

/// `IMAGE_F_ENCRYPTED_AES128 | IMAGE_F_ENCRYPTED_AES256`: not supported.
const FLAGS_ENCRYPTED: u32 = 0x0000_0004 | 0x0000_0008;
/// `IMAGE_F_NON_BOOTABLE`.
const FLAG_NON_BOOTABLE: u32 = 0x0000_0010;
/// `IMAGE_F_COMPRESSED_LZMA1 | IMAGE_F_COMPRESSED_LZMA2`: not supported.
const FLAGS_COMPRESSED: u32 = 0x0000_0200 | 0x0000_0400;

/// The outcome of checking a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// A complete image whose hash matches.
    Valid(ImageHeader),
    /// No image: the header magic is erased, or the image is marked
    /// non-bootable.
    Empty,
    /// Something that is not a bootable image.
    Invalid,
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Check the image at the start of `area`, which may use at most
/// `max_image_size` bytes (TLVs included).
pub(super) fn check_slot(area: &Area, max_image_size: u32) -> Result<Verdict, FlashError> {
    let mut head = [0; HEADER_LEN];
    area.read(0, &mut head)?;
    let erased = area.geometry().erased();
    if head[..4].iter().all(|&b| b == erased) || le32(&head[16..]) & FLAG_NON_BOOTABLE != 0 {
        return Ok(Verdict::Empty);
    }
    let Ok(header) = ImageHeader::parse(&head) else {
        return Ok(Verdict::Invalid);
    };
    if header.flags & (FLAGS_ENCRYPTED | FLAGS_COMPRESSED) != 0 {
        return Ok(Verdict::Invalid);
    }
    let Some(hashed) = header.hashed_len() else {
        return Ok(Verdict::Invalid);
    };
    if hashed >= max_image_size {
        return Ok(Verdict::Invalid);
    }
    let mut info = [0; TLV_HEADER_LEN];
    area.read(hashed, &mut info)?;
    let total = hashed + u32::from(le16(&info[2..]));
    if total > max_image_size {
        return Ok(Verdict::Invalid);
    }
    let mut image = vec![0; total as usize];
    area.read(0, &mut image)?;
    Ok(match check_image(&image) {
        Ok(_) => Verdict::Valid(header),
        Err(_) => Verdict::Invalid,
    })
}

/// `boot_read_image_size`, for sizing a swap: the bytes the image in `area`
/// occupies (TLVs included); 0 without an image magic. Where MCUboot would
/// assert on a malformed TLV area, the whole usable slot (`max_image_size`)
/// is swapped so that nothing is lost.
pub(super) fn swap_size_of(area: &Area, max_image_size: u32) -> Result<u32, FlashError> {
    let mut head = [0; HEADER_LEN];
    area.read(0, &mut head)?;
    if le32(&head) != IMAGE_MAGIC {
        return Ok(0);
    }
    let protect = u32::from(le16(&head[10..]));
    let read_info = |off: u32| -> Result<Option<(u16, u32)>, FlashError> {
        if off >= max_image_size {
            return Ok(None);
        }
        let mut info = [0; TLV_HEADER_LEN];
        area.read(off, &mut info)?;
        Ok(Some((le16(&info), u32::from(le16(&info[2..])))))
    };
    let off = u32::from(le16(&head[8..])).saturating_add(le32(&head[12..]));
    let mut info = read_info(off)?;
    if let Some((TLV_PROT_INFO_MAGIC, tot)) = info {
        info = if tot == protect {
            read_info(off + tot)?
        } else {
            None
        };
    } else if protect != 0 {
        info = None;
    }
    Ok(match info {
        Some((TLV_INFO_MAGIC, tot)) => (off + protect + tot).min(max_image_size),
        _ => max_image_size,
    })
}
