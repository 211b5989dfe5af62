//! The code-signing public key, as Kconfig carries it: the SEC1 point in hex
//! (what `otactl pubkey --format hex` prints).

use heapless::Vec;

/// The longest SEC1 P-256 point (uncompressed: `04 ‖ x ‖ y`).
pub const SEC1_MAX: usize = 65;

/// Why a hex key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyError {
    /// No key was configured.
    Missing,
    /// Not an even number of hex digits, or longer than a SEC1 point.
    BadHex,
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Decode a hex SEC1 point. Whitespace and `:` separators are ignored, so a
/// key pasted from `openssl ec -text` works too.
pub fn sec1_from_hex(hex: &str) -> Result<Vec<u8, SEC1_MAX>, KeyError> {
    let mut digits = hex
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b':');
    let mut out = Vec::new();
    let mut empty = true;
    while let Some(hi) = digits.next() {
        empty = false;
        let lo = digits.next().ok_or(KeyError::BadHex)?;
        let byte = nibble(hi)
            .zip(nibble(lo))
            .map(|(h, l)| h << 4 | l)
            .ok_or(KeyError::BadHex)?;
        out.push(byte).map_err(|_| KeyError::BadHex)?;
    }
    if empty {
        return Err(KeyError::Missing);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_separators() {
        assert_eq!(
            sec1_from_hex("04:aB 0f").unwrap().as_slice(),
            &[4, 0xab, 0x0f]
        );
    }

    #[test]
    fn refuses_bad_input() {
        assert_eq!(sec1_from_hex(""), Err(KeyError::Missing));
        assert_eq!(sec1_from_hex("  "), Err(KeyError::Missing));
        assert_eq!(sec1_from_hex("0"), Err(KeyError::BadHex));
        assert_eq!(sec1_from_hex("zz"), Err(KeyError::BadHex));
        let long = "00".repeat(SEC1_MAX + 1);
        assert_eq!(sec1_from_hex(&long), Err(KeyError::BadHex));
    }

    #[test]
    fn full_point_fits() {
        let hex = "04".to_string() + &"11".repeat(64);
        assert_eq!(sec1_from_hex(&hex).unwrap().len(), SEC1_MAX);
    }
}
