//! The MCUboot header and TLV checks: any image bytes; an accepted image has
//! sizes that add up.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ota_agent::mcuboot::{check_image, find_sha256, ImageHeader, HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    if let Ok(layout) = check_image(data) {
        assert_eq!(
            layout.tlv_offset as usize + layout.tlv_len as usize,
            data.len()
        );
        assert_eq!(layout.header.hashed_len(), Some(layout.tlv_offset));
    }
    if let Some(head) = data.get(..HEADER_LEN) {
        let head: &[u8; HEADER_LEN] = head.try_into().unwrap();
        if let Ok(h) = ImageHeader::parse(head) {
            assert_eq!(&h.to_bytes()[..28], &head[..28]);
        }
    }
    let _ = find_sha256(data);
});
