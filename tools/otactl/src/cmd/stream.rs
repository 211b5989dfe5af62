//! `otactl stream decode-block HEX` and `otactl stream encode-request ...`:
//! the agent's own CBOR codec (`ota_agent::cbor`), for inspecting traffic.

use std::process::ExitCode;

use ota_agent::cbor::{decode_block, encode_request, StreamRequest, CLIENT_TOKEN};
use serde_json::json;

use super::parse_int;

/// The `stream` subcommands.
#[derive(clap::Subcommand)]
pub enum Command {
    /// Decode a data message from `.../streams/{stream}/data/cbor` (hex) and
    /// print `{"file_id","block","length","payload_len"}` or an error.
    DecodeBlock {
        /// The message, in hex (spaces allowed).
        hex: String,
    },
    /// Encode a GetStream request as the agent sends it and print it in hex.
    EncodeRequest {
        /// `f`: the file id.
        #[arg(long, value_parser = parse_int::<u32>)]
        file_id: u32,
        /// `l`: the block size.
        #[arg(long, value_parser = parse_int::<u32>)]
        block_size: u32,
        /// `o`: the block the bitmap starts at.
        #[arg(long, value_parser = parse_int::<u32>, default_value = "0")]
        offset: u32,
        /// `b`: the bitmap of wanted blocks, in hex (bit k of byte k/8 = block o+k).
        #[arg(long)]
        bitmap: String,
        /// `n`: the most blocks to send.
        #[arg(long, value_parser = parse_int::<u32>, default_value = "1")]
        count: u32,
    },
}

fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let digits: String = text.split_whitespace().collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16)
                .map_err(|_| format!("not hex: {:?}", &digits[i..i + 2]))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Run a `stream` subcommand.
pub fn run(command: &Command) -> ExitCode {
    match command {
        Command::DecodeBlock { hex } => {
            let decoded = from_hex(hex).and_then(|msg| {
                decode_block(&msg)
                    .map(|b| {
                        json!({"file_id": b.file_id, "block": b.index, "length": b.length, "payload_len": b.payload.len()})
                    })
                    .map_err(|e| format!("{e:?}"))
            });
            match decoded {
                Ok(v) => {
                    println!("{v}");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    println!("{}", json!({ "error": e }));
                    ExitCode::FAILURE
                }
            }
        }
        Command::EncodeRequest {
            file_id,
            block_size,
            offset,
            bitmap,
            count,
        } => {
            let bitmap = match from_hex(bitmap) {
                Ok(b) => b,
                Err(e) => {
                    eprintln!("otactl stream encode-request: --bitmap: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let req = StreamRequest {
                client_token: CLIENT_TOKEN,
                file_id: *file_id,
                block_size: *block_size,
                offset: *offset,
                bitmap: &bitmap,
                count: *count,
            };
            let mut out = vec![0u8; bitmap.len() + 64];
            match encode_request(&req, &mut out) {
                Ok(n) => {
                    println!("{}", hex(&out[..n]));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("otactl stream encode-request: {e:?}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{from_hex, hex};

    #[test]
    fn hex_round_trip() {
        assert_eq!(from_hex("a6 61").unwrap(), [0xa6, 0x61]);
        assert!(from_hex("a").is_err());
        assert!(from_hex("zz").is_err());
        assert_eq!(hex(&[0, 0xff]), "00ff");
    }
}
