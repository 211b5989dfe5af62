//! Standard base64 decoding with the C agent's acceptance rules
//! (PROTOCOL.md §9): alphabet `A–Z a–z 0–9 + /`; `=` padding optional, but
//! if present it must complete the last quantum (at most two); CR and LF
//! ignored anywhere; spaces only at the very end; nothing after padding but
//! spaces and line breaks; non-zero leftover bits rejected; fewer than two
//! data characters, or a single dangling one, rejected.

/// Why base64 text was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base64Error {
    /// A character outside the alphabet, or data after padding or trailing spaces.
    InvalidCharacter,
    /// Too little data, a dangling character, or wrong padding.
    InvalidLength,
    /// The unused low bits of the last character are not zero.
    NonZeroTrailingBits,
    /// The decoded bytes do not fit the output buffer.
    OutputTooSmall,
}

fn sextet(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decode `input` into `out`; the number of bytes written.
pub fn decode(input: &[u8], out: &mut [u8]) -> Result<usize, Base64Error> {
    // All data characters so far, 6 bits each (only the last 24 bits matter).
    let mut acc: u32 = 0;
    // The low bits of `acc` in no byte yet: 6, 4, 2 after the 1st, 2nd, 3rd
    // character of a quantum, 0 when it is complete.
    let mut pending = 0u32;
    let mut padding = 0usize;
    let mut trailing_space = false;
    // Bytes decoded, whether or not they fit `out` (none: fewer than two
    // data characters). Past `out.len()`, a byte did not fit: reported when
    // its quantum is complete, or at the end after the checks of the last
    // quantum.
    let mut written = 0usize;

    for &c in input {
        match c {
            b'\r' | b'\n' => {}
            b' ' => trailing_space = true,
            b'=' if !trailing_space => padding += 1,
            _ => {
                let v = sextet(c).ok_or(Base64Error::InvalidCharacter)?;
                if padding > 0 || trailing_space {
                    return Err(Base64Error::InvalidCharacter);
                }
                acc = (acc << 6) | v;
                // The 2nd, 3rd and 4th character of a quantum complete a byte.
                if pending == 0 {
                    pending = 6;
                } else {
                    pending -= 2;
                    if let Some(b) = out.get_mut(written) {
                        *b = (acc >> pending) as u8;
                    }
                    written += 1;
                }
                if pending == 0 && written > out.len() {
                    return Err(Base64Error::OutputTooSmall);
                }
            }
        }
    }

    // Padding, if any, must complete the last quantum: one `=` per missing
    // character, which is half the pending bits (none after a whole quantum,
    // and a single dangling character is refused anyway).
    if written == 0 || pending == 6 || (padding > 0 && padding != pending as usize / 2) {
        return Err(Base64Error::InvalidLength);
    }
    if acc & ((1 << pending) - 1) != 0 {
        return Err(Base64Error::NonZeroTrailingBits);
    }
    if written > out.len() {
        return Err(Base64Error::OutputTooSmall);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Result<std::vec::Vec<u8>, Base64Error> {
        let mut out = [0u8; 64];
        decode(s.as_bytes(), &mut out).map(|n| out[..n].to_vec())
    }

    #[test]
    fn vectors_from_the_c_agent_tests() {
        assert_eq!(dec("Rk9PQg").unwrap(), b"FOOB");
        assert_eq!(dec("Rk9PQg==").unwrap(), b"FOOB");
        assert_eq!(dec("Zg==").unwrap(), b"f");
        assert_eq!(dec("Zm8=").unwrap(), b"fo");
        assert_eq!(dec("Zm9v").unwrap(), b"foo");
        assert_eq!(dec("Zg==  ").unwrap(), b"f");
        assert_eq!(dec("Zm\r\n9v\n").unwrap(), b"foo");
        assert_eq!(dec("Zg==="), Err(Base64Error::InvalidLength));
        assert_eq!(dec("TWG="), Err(Base64Error::NonZeroTrailingBits));
        assert_eq!(dec("Tf=="), Err(Base64Error::NonZeroTrailingBits));
        assert_eq!(dec("Z"), Err(Base64Error::InvalidLength));
        assert_eq!(dec(""), Err(Base64Error::InvalidLength));
        assert_eq!(dec("Zm9vY"), Err(Base64Error::InvalidLength));
        assert_eq!(dec("Zg==Zg=="), Err(Base64Error::InvalidCharacter));
        assert_eq!(dec("Zm 9v"), Err(Base64Error::InvalidCharacter));
        assert_eq!(dec("Zm9v="), Err(Base64Error::InvalidLength));
        assert_eq!(dec("Zg="), Err(Base64Error::InvalidLength));
        assert_eq!(dec("Zm-v"), Err(Base64Error::InvalidCharacter));
    }

    #[test]
    fn output_bound_is_enforced() {
        let mut out = [0u8; 2];
        assert_eq!(decode(b"Zm9v", &mut out), Err(Base64Error::OutputTooSmall));
        assert_eq!(decode(b"Zm8=", &mut out), Ok(2));
        // A whole quantum that does not fit is refused at once; the bytes of
        // a last, partial one only after the checks of the rest.
        let mut out = [0u8; 3];
        for (text, err) in [
            (&b"Zm9vZm9v-"[..], Base64Error::OutputTooSmall),
            (b"Zm9vZg=x", Base64Error::InvalidCharacter),
            (b"Zm9vZm=", Base64Error::InvalidLength),
            (b"Zm9vZh", Base64Error::NonZeroTrailingBits),
            (b"Zm9vZg", Base64Error::OutputTooSmall),
        ] {
            assert_eq!(decode(text, &mut out), Err(err), "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn round_trips(data in proptest::collection::vec(proptest::num::u8::ANY, 1..60)) {
            let text = ::base64::prelude::Engine::encode(&::base64::prelude::BASE64_STANDARD, &data);
            proptest::prop_assert_eq!(dec(&text).unwrap(), data.clone());
            let unpadded = text.trim_end_matches('=');
            proptest::prop_assert_eq!(dec(unpadded).unwrap(), data);
        }

        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let mut out = [0u8; 72];
            let _ = decode(&input, &mut out);
        }
    }
}
