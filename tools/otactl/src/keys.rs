//! P-256 code-signing keys: generation, reading PEM as openssl and otactl
//! write it, and the public-key forms firmware embeds.
//!
//! Private keys are read from PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1
//! (`BEGIN EC PRIVATE KEY`) PEM; other blocks before the key, such as the
//! `EC PARAMETERS` block `openssl ecparam -genkey` writes, are skipped.
//! Private keys are written as PKCS#8 PEM, public keys as SubjectPublicKeyInfo
//! PEM (what `openssl dgst -verify` and `imgtool verify -k` take) and as the
//! 65-byte SEC1 uncompressed point the device's verifier takes
//! (`ota_agent::P256Verifier::from_sec1`).

use std::fmt::{self, Write as _};
use std::path::Path;

use anyhow::Context as _;
use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::elliptic_curve::zeroize::Zeroizing;
use p256::elliptic_curve::Generate as _;
use p256::pkcs8::{DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _, LineEnding};
use p256::SecretKey;

/// Length of a SEC1 uncompressed P-256 public key: `04 ‖ x ‖ y`.
pub const SEC1_PUBLIC_KEY_LEN: usize = 65;

/// Why a PEM text did not yield a P-256 private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No `PRIVATE KEY` or `EC PRIVATE KEY` block in the text.
    NoPrivateKey,
    /// The key is password-protected.
    Encrypted,
    /// A private-key block that is not a valid P-256 key (another curve,
    /// explicit curve parameters, or damaged data).
    Invalid {
        /// The PEM label of the block.
        label: String,
        /// The decoder's explanation.
        detail: String,
    },
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyError::NoPrivateKey => write!(
                f,
                "no \"PRIVATE KEY\" or \"EC PRIVATE KEY\" PEM block found \
                 (expected a P-256 private key, e.g. from `otactl keygen` or \
                 `openssl ecparam -name prime256v1 -genkey -noout`)"
            ),
            KeyError::Encrypted => write!(
                f,
                "the private key is encrypted; decrypt it first, e.g. \
                 `openssl pkey -in key.pem -out plain.pem`"
            ),
            KeyError::Invalid { label, detail } => write!(
                f,
                "the \"{label}\" block is not a P-256 (prime256v1, named curve) \
                 private key: {detail}"
            ),
        }
    }
}

impl std::error::Error for KeyError {}

/// A new random key pair from the operating system's random source.
pub fn generate() -> SigningKey {
    SigningKey::generate()
}

/// Read a P-256 private key from PEM text: the first PKCS#8 or SEC1
/// private-key block, skipping any other blocks (e.g. `EC PARAMETERS`).
pub fn from_pem(text: &str) -> Result<SigningKey, KeyError> {
    for (label, block) in pem_blocks(text) {
        match label {
            "ENCRYPTED PRIVATE KEY" => return Err(KeyError::Encrypted),
            // Legacy OpenSSL encryption of a SEC1 key uses PEM headers.
            "EC PRIVATE KEY" if block.contains("Proc-Type: 4,ENCRYPTED") => {
                return Err(KeyError::Encrypted)
            }
            "PRIVATE KEY" | "EC PRIVATE KEY" => {
                return SecretKey::from_pem(block)
                    .map(SigningKey::from)
                    .map_err(|e| KeyError::Invalid {
                        label: label.to_owned(),
                        detail: e.to_string(),
                    });
            }
            _ => {}
        }
    }
    Err(KeyError::NoPrivateKey)
}

/// Read a P-256 public key from PEM text: the first SubjectPublicKeyInfo
/// block (`BEGIN PUBLIC KEY`, as `otactl keygen --public` and
/// `openssl pkey -pubout` write it), or else the public half of the private
/// key [`from_pem`] finds.
pub fn public_from_pem(text: &str) -> Result<VerifyingKey, KeyError> {
    for (label, block) in pem_blocks(text) {
        if label == "PUBLIC KEY" {
            return VerifyingKey::from_public_key_pem(block).map_err(|e| KeyError::Invalid {
                label: label.to_owned(),
                detail: e.to_string(),
            });
        }
    }
    from_pem(text).map(|key| *key.verifying_key())
}

/// Read a P-256 public key from a PEM file (see [`public_from_pem`]).
pub fn load_public(path: &Path) -> anyhow::Result<VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    public_from_pem(&text).with_context(|| format!("cannot use the key file {}", path.display()))
}

/// Read a P-256 private key from a PEM file (see [`from_pem`]).
pub fn load(path: &Path) -> anyhow::Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the key file {}", path.display()))?;
    from_pem(&text).with_context(|| format!("cannot use the key file {}", path.display()))
}

/// The private key as PKCS#8 PEM (`BEGIN PRIVATE KEY`, LF line endings).
pub fn private_key_pem(key: &SigningKey) -> Zeroizing<String> {
    key.to_pkcs8_pem(LineEnding::LF)
        .expect("a P-256 key always encodes as PKCS#8")
}

/// The public key as SubjectPublicKeyInfo PEM (`BEGIN PUBLIC KEY`).
pub fn public_key_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF)
        .expect("a P-256 key always encodes as SubjectPublicKeyInfo")
}

/// The public key as a SEC1 uncompressed point, `04 ‖ x ‖ y`.
pub fn public_key_sec1(key: &VerifyingKey) -> [u8; SEC1_PUBLIC_KEY_LEN] {
    key.to_sec1_point(false)
        .as_bytes()
        .try_into()
        .expect("an uncompressed P-256 point is 65 bytes")
}

/// Lowercase hex, no separators.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A C definition of `bytes`: `const uint8_t NAME[N] = { 0x04, ... };`
/// wrapped at 12 bytes a line.
pub fn c_array(name: &str, bytes: &[u8]) -> String {
    format!(
        "const uint8_t {name}[{}] = {{\n{}}};\n",
        bytes.len(),
        array_body(bytes)
    )
}

/// A Rust definition of `bytes`: `pub const NAME: [u8; N] = [ 0x04, ... ];`
/// wrapped at 12 bytes a line.
pub fn rust_array(name: &str, bytes: &[u8]) -> String {
    format!(
        "pub const {name}: [u8; {}] = [\n{}];\n",
        bytes.len(),
        array_body(bytes)
    )
}

fn array_body(bytes: &[u8]) -> String {
    bytes.chunks(12).fold(String::new(), |mut s, line| {
        let items: Vec<String> = line.iter().map(|b| format!("0x{b:02x},")).collect();
        let _ = writeln!(s, "    {}", items.join(" "));
        s
    })
}

/// The PEM blocks of `text` as (label, whole block text), in order.
fn pem_blocks(text: &str) -> impl Iterator<Item = (&str, &str)> {
    const BEGIN: &str = "-----BEGIN ";
    let mut rest = text;
    std::iter::from_fn(move || loop {
        let start = rest.find(BEGIN)?;
        let after_begin = &rest[start + BEGIN.len()..];
        let label = &after_begin[..after_begin.find("-----")?];
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            // An unterminated block: skip its BEGIN line and keep looking.
            rest = &rest[start + BEGIN.len()..];
            continue;
        };
        let block_end = start + end + end_marker.len();
        let block = &rest[start..block_end];
        rest = &rest[block_end..];
        return Some((label, block));
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC1_WITH_PARAMS: &str = "-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIKXLA00/uzohnuvo6vURRb/OtC6cGGrs4Ta5Sj0vTecuoAoGCCqGSM49
AwEHoUQDQgAEFie8RgXLlRKRv6NsTW7mwrLChvOCGD+CnneMJ9Id6D0kFFGdEvDk
QsoGFEUc9nvMFHQIoLKC9+QuoEebH+Dn8Q==
-----END EC PRIVATE KEY-----
";

    #[test]
    fn pkcs8_round_trip() {
        let key = generate();
        let pem = private_key_pem(&key);
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert_eq!(from_pem(&pem).unwrap(), key);
    }

    #[test]
    fn reads_sec1_after_ec_parameters() {
        let key = from_pem(SEC1_WITH_PARAMS).unwrap();
        let sec1 = public_key_sec1(key.verifying_key());
        assert_eq!(sec1[0], 0x04);
        assert_eq!(
            to_hex(&sec1),
            "041627bc4605cb951291bfa36c4d6ee6c2b2c286f382183f829e778c27d21de83d\
             2414519d12f0e442ca0614451cf67bcc147408a0b282f7e42ea0479b1fe0e7f1"
        );
    }

    #[test]
    fn rejects_what_is_not_a_plain_p256_private_key() {
        assert_eq!(from_pem("hello"), Err(KeyError::NoPrivateKey));
        let public = public_key_pem(generate().verifying_key());
        assert_eq!(from_pem(&public), Err(KeyError::NoPrivateKey));
        let encrypted =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n";
        assert_eq!(from_pem(encrypted), Err(KeyError::Encrypted));
        let damaged = SEC1_WITH_PARAMS.replace("MHcCAQEEIKXL", "MHcCAQEEIKXM");
        assert!(matches!(
            from_pem(&damaged),
            Err(KeyError::Invalid { label, .. }) if label == "EC PRIVATE KEY"
        ));
    }

    #[test]
    fn public_keys_come_from_public_or_private_pem() {
        let key = generate();
        let public = public_key_pem(key.verifying_key());
        assert_eq!(public_from_pem(&public).unwrap(), *key.verifying_key());
        let private = private_key_pem(&key);
        assert_eq!(public_from_pem(&private).unwrap(), *key.verifying_key());
        assert_eq!(public_from_pem("nothing"), Err(KeyError::NoPrivateKey));
        let damaged = public.replace("MFkwEwYHKoZIzj0CAQYI", "MFkwEwYHKoZIzj0CAQYJ");
        assert!(matches!(
            public_from_pem(&damaged),
            Err(KeyError::Invalid { label, .. }) if label == "PUBLIC KEY"
        ));
    }

    #[test]
    fn finds_blocks_in_order_and_skips_unterminated_ones() {
        let text = "x\n-----BEGIN A-----\n1\n-----END A-----\n-----BEGIN B-----\n\
                    -----BEGIN C-----\n2\n-----END C-----\n";
        let labels: Vec<&str> = pem_blocks(text).map(|(label, _)| label).collect();
        assert_eq!(labels, ["A", "C"]);
    }

    #[test]
    fn formats_arrays() {
        let bytes: Vec<u8> = (0..13).collect();
        assert_eq!(to_hex(&bytes[..3]), "000102");
        assert_eq!(
            c_array("k", &bytes),
            "const uint8_t k[13] = {\n    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, \
             0x08, 0x09, 0x0a, 0x0b,\n    0x0c,\n};\n"
        );
        assert!(rust_array("K", &bytes).starts_with("pub const K: [u8; 13] = [\n    0x00,"));
    }
}
