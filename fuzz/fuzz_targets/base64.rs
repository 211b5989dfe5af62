//! Base64: any text; decoded output never exceeds 3/4 of the data characters
//! and always fits the buffer it was given.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = [0u8; 72];
    if let Ok(n) = ota_agent::base64::decode(data, &mut out) {
        assert!(n <= out.len());
        assert!(n * 4 <= data.len() * 3);
    }
});
