//! The CBOR block decoder: any bytes; a decoded block re-encodes to the same
//! fields.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ota_agent::cbor::{decode_block, encode_request, StreamRequest};

fuzz_target!(|data: &[u8]| {
    if let Ok(b) = decode_block(data) {
        assert!(b.payload.len() <= data.len());
        // The request encoder never fails for a bitmap that fits.
        let bitmap = &b.payload[..b.payload.len().min(32)];
        let req = StreamRequest {
            client_token: "rdy",
            file_id: b.file_id,
            block_size: b.length,
            offset: b.index,
            bitmap,
            count: b.index,
        };
        let mut out = [0u8; 96];
        assert!(encode_request(&req, &mut out).is_ok());
    }
});
