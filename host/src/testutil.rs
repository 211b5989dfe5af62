//! Test images, built with the crate's MCUboot image builder ([`crate::image`]).

use crate::image::{build_image, ImageOptions};
use ota_agent::mcuboot::ImageVersion;

/// A valid unsigned MCUboot image of `version` (build 0): the header padded
/// to 64 bytes, `len` payload bytes derived from `seed`, and a SHA-256 TLV.
pub(crate) fn image(version: (u8, u8, u16), len: usize, seed: u8) -> Vec<u8> {
    let payload: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect();
    let options = ImageOptions {
        version: ImageVersion {
            major: version.0,
            minor: version.1,
            revision: version.2,
            build_num: 0,
        },
        header_size: 64,
        ..ImageOptions::default()
    };
    build_image(&payload, &options).expect("a valid image")
}

#[test]
fn test_images_pass_the_cores_check() {
    let img = image((1, 2, 3), 1000, 7);
    let layout = ota_agent::mcuboot::check_image(&img).unwrap();
    assert_eq!(layout.header.version.revision, 3);
    assert_eq!(img.len(), 64 + 1000 + 40);
}
