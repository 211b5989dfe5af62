//! What the service would send: an MCUboot image, the job document that
//! offers it, and its blocks as GetStream data messages (CBOR).

use ota_agent::mcuboot::{
    ImageHeader, ImageVersion, HEADER_LEN, TLV_HEADER_LEN, TLV_INFO_MAGIC, TLV_SHA256,
};
use sha2::{Digest, Sha256};

/// The thing the agent runs as.
pub const THING: &str = "bench-thing";
/// The stream the job names.
const STREAM: &str = "bench-stream";
/// MCUboot header size (`hdr_size`).
const HDR_SIZE: usize = 0x200;
/// The unprotected TLV area: its info header and one SHA-256 TLV.
const TLV_AREA: usize = 2 * TLV_HEADER_LEN + 32;
/// The smallest file [`Image::new`] builds: header, one payload byte, TLVs.
pub const MIN_FILE_SIZE: usize = HDR_SIZE + 1 + TLV_AREA;

/// An MCUboot image (version 2.0.0) and its SHA-256.
pub struct Image {
    /// The whole file, as downloaded.
    pub file: Vec<u8>,
    /// SHA-256 of `file`.
    pub digest: [u8; 32],
}

impl Image {
    /// An image of exactly `size` bytes (at least [`MIN_FILE_SIZE`]): header,
    /// payload, and the SHA-256 TLV MCUboot checks.
    ///
    /// Built here rather than with `ota_agent::testing::mcuboot_image`: the
    /// `testing` feature changes how LTO inlines the agent (about 70 fewer
    /// instructions per block), so the benchmark would no longer measure the
    /// code a product builds.
    pub fn new(size: usize) -> Self {
        assert!(
            size >= MIN_FILE_SIZE,
            "an image needs {MIN_FILE_SIZE} bytes"
        );
        let payload = size - HDR_SIZE - TLV_AREA;
        let header = ImageHeader {
            load_addr: 0,
            hdr_size: HDR_SIZE as u16,
            protect_tlv_size: 0,
            img_size: payload as u32,
            flags: 0,
            version: ImageVersion {
                major: 2,
                minor: 0,
                revision: 0,
                build_num: 1,
            },
        };
        let mut file = vec![0u8; HDR_SIZE];
        file[..HEADER_LEN].copy_from_slice(&header.to_bytes());
        file.extend((0..payload).map(|i| (i * 7 + i / 251) as u8));
        let image_hash = Sha256::digest(&file);
        file.extend(TLV_INFO_MAGIC.to_le_bytes());
        file.extend((TLV_AREA as u16).to_le_bytes());
        file.extend(TLV_SHA256.to_le_bytes());
        file.extend(32u16.to_le_bytes());
        file.extend(image_hash);
        debug_assert_eq!(file.len(), size);
        let digest = Sha256::digest(&file).into();
        Image { file, digest }
    }

    /// The `$next/get/accepted` reply that offers this image over MQTT, to
    /// the agent's first job request. The signature is a placeholder: the
    /// benchmark's verifier checks the digest instead.
    pub fn job_document(&self) -> String {
        format!(
            r#"{{"clientToken":"0:{THING}","timestamp":1,"execution":{{"jobId":"bench-job","status":"QUEUED","jobDocument":{{"afr_ota":{{"protocols":["MQTT"],"streamname":"{STREAM}","files":[{{"filepath":"/","filesize":{},"fileid":0,"certfile":"c","sig-sha256-ecdsa":"AAAA"}}]}}}}}}}}"#,
            self.file.len()
        )
    }

    /// The data messages for a download in `block_size` blocks, in the order
    /// they are delivered: in order, or with the blocks of each request
    /// (`per_request` blocks) last first.
    pub fn blocks(&self, block_size: usize, per_request: usize, reversed: bool) -> Vec<Vec<u8>> {
        let total = self.file.len().div_ceil(block_size);
        let indices: Vec<usize> = (0..total).collect();
        let mut out = Vec::with_capacity(total);
        for request in indices.chunks(per_request) {
            let mut push = |&i: &usize| {
                let start = i * block_size;
                let end = (start + block_size).min(self.file.len());
                out.push(block_message(i as u32, &self.file[start..end]));
            };
            if reversed {
                request.iter().rev().for_each(&mut push);
            } else {
                request.iter().for_each(&mut push);
            }
        }
        out
    }
}

/// A topic under the thing's namespace.
pub fn topic(suffix: &str) -> String {
    format!("$aws/things/{THING}/{suffix}")
}

/// The topic block messages arrive on.
pub fn data_topic() -> String {
    topic(&format!("streams/{STREAM}/data/cbor"))
}

/// A block message as the service sends it:
/// `{"c": "rdy", "f": 0, "l": len, "i": index, "p": payload}`.
fn block_message(index: u32, payload: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(payload.len() + 32);
    cbor_head(&mut m, MAP, 5);
    cbor_text(&mut m, "c");
    cbor_text(&mut m, "rdy");
    cbor_text(&mut m, "f");
    cbor_head(&mut m, UINT, 0);
    cbor_text(&mut m, "l");
    cbor_head(&mut m, UINT, payload.len() as u64);
    cbor_text(&mut m, "i");
    cbor_head(&mut m, UINT, index.into());
    cbor_text(&mut m, "p");
    cbor_head(&mut m, BYTES, payload.len() as u64);
    m.extend_from_slice(payload);
    m
}

/// CBOR major types used here.
const UINT: u8 = 0;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const MAP: u8 = 5;

/// A CBOR item head: major type and argument, in its shortest form.
fn cbor_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let major = major << 5;
    match arg {
        0..=23 => out.push(major | arg as u8),
        24..=0xff => out.extend([major | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(major | 25);
            out.extend((arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(major | 26);
            out.extend((arg as u32).to_be_bytes());
        }
        _ => {
            out.push(major | 27);
            out.extend(arg.to_be_bytes());
        }
    }
}

/// A CBOR text string.
fn cbor_text(out: &mut Vec<u8>, s: &str) {
    cbor_head(out, TEXT, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}
