//! `otactl pubkey`: the public half of a private key, as the device's
//! verifier takes it (SEC1 hex, C or Rust array) or as PEM.

use std::path::PathBuf;

use clap::ValueEnum;
use otactl::keys;
use p256::ecdsa::VerifyingKey;

/// The array name used when none is given.
pub const DEFAULT_NAME: &str = "OTA_SIGNING_PUBLIC_KEY";

/// Arguments of `otactl pubkey`.
#[derive(clap::Args)]
pub struct Args {
    /// Private key, PEM (PKCS#8, or SEC1 as openssl ecparam writes it).
    #[arg(long)]
    key: PathBuf,
    /// What to print.
    #[arg(long, value_enum, default_value_t = Format::All)]
    format: Format,
    /// Name of the C / Rust array.
    #[arg(long, default_value = DEFAULT_NAME)]
    name: String,
}

/// The forms a public key can be printed in.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// SEC1 uncompressed point in hex (`04 ‖ x ‖ y`, 130 digits).
    Hex,
    /// SEC1 point as a C `uint8_t` array.
    C,
    /// SEC1 point as a Rust `[u8; 65]` constant.
    Rust,
    /// SubjectPublicKeyInfo PEM (for openssl and imgtool).
    Pem,
    /// Hex, C and Rust, labelled.
    All,
}

/// Print the public key of `--key`.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let key = keys::load(&args.key)?;
    print!("{}", render(key.verifying_key(), args.format, &args.name));
    Ok(())
}

/// The public key in `format`, ending with a newline.
pub fn render(key: &VerifyingKey, format: Format, name: &str) -> String {
    let sec1 = keys::public_key_sec1(key);
    match format {
        Format::Hex => format!("{}\n", keys::to_hex(&sec1)),
        Format::C => keys::c_array(name, &sec1),
        Format::Rust => keys::rust_array(name, &sec1),
        Format::Pem => keys::public_key_pem(key),
        Format::All => format!(
            "SEC1 public key (for ota_agent::P256Verifier::from_sec1):\n{}\n\
             C:\n{}\nRust:\n{}",
            keys::to_hex(&sec1),
            keys::c_array(name, &sec1),
            keys::rust_array(name, &sec1)
        ),
    }
}
