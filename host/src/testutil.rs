//! Test images until `crate::image` (the MCUboot image builder) exists.

use ota_agent::mcuboot::{ImageHeader, ImageVersion, TLV_INFO_MAGIC, TLV_SHA256};
use sha2::{Digest, Sha256};

/// A valid MCUboot image: a 32-byte header padded to 64, `len` payload bytes
/// derived from `seed`, and a SHA-256 TLV.
pub(crate) fn image(version: (u8, u8, u16), len: usize, seed: u8) -> Vec<u8> {
    let header = ImageHeader {
        load_addr: 0,
        hdr_size: 64,
        protect_tlv_size: 0,
        img_size: len as u32,
        flags: 0,
        version: ImageVersion {
            major: version.0,
            minor: version.1,
            revision: version.2,
            build_num: 0,
        },
    };
    let mut out = header.to_bytes().to_vec();
    out.resize(64, 0);
    out.extend((0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    let digest = Sha256::digest(&out);
    out.extend(TLV_INFO_MAGIC.to_le_bytes());
    out.extend(40u16.to_le_bytes());
    out.extend(TLV_SHA256.to_le_bytes());
    out.extend(32u16.to_le_bytes());
    out.extend(digest);
    out
}

#[test]
fn test_images_pass_the_cores_check() {
    let img = image((1, 2, 3), 1000, 7);
    let layout = ota_agent::mcuboot::check_image(&img).unwrap();
    assert_eq!(layout.header.version.revision, 3);
    assert_eq!(img.len(), 64 + 1000 + 40);
}
