//! The job document reader: any bytes, and every value it hands out is used.
#![no_main]
use libfuzzer_sys::fuzz_target;
use ota_agent::job::{parse_document, Document};

fuzz_target!(|data: &[u8]| {
    match parse_document(data) {
        Document::Ota(j) => {
            assert!(j.file_size > 0);
            assert!(j.signature.len() <= ota_agent::MAX_SIGNATURE_LEN);
            assert!(ota_agent::job::valid_name(
                j.job_id.as_bytes(),
                ota_agent::MAX_JOB_ID_LEN
            ));
            if let Some(url) = j.url {
                let mut buf = [0u8; 256];
                let _ = url.decode_str(&mut buf);
            }
        }
        Document::Custom { job_id, document } => {
            assert!(ota_agent::json::parse(document).is_ok());
            assert!(!job_id.is_empty());
        }
        Document::Invalid { .. } | Document::NoJob => {}
    }
    if let Ok(v) = ota_agent::json::parse(data) {
        for (_, m) in v.members() {
            let _ = m.as_u32();
            let _ = m.elements().count();
        }
    }
});
