//! ASCII bytes as `&str`, without core's UTF-8 validator (about 600 bytes
//! of flash with its table, more than everything in this module): every
//! name, topic and URL the agent hands out is ASCII, checked here.
#![allow(unsafe_code)]

/// `bytes` as a `&str` when every byte is ASCII; `None` otherwise.
pub(crate) fn ascii(bytes: &[u8]) -> Option<&str> {
    if bytes.iter().all(u8::is_ascii) {
        // SAFETY: every byte is below 0x80 (checked just above), and a
        // sequence of ASCII bytes is valid UTF-8.
        Some(unsafe { core::str::from_utf8_unchecked(bytes) })
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::ascii;

    #[test]
    fn only_ascii_becomes_text() {
        assert_eq!(ascii(b""), Some(""));
        assert_eq!(ascii(b"job-1_A"), Some("job-1_A"));
        assert_eq!(ascii(&[0x7f, b' ', 0]), Some("\u{7f} \0"));
        assert_eq!(ascii("é".as_bytes()), None);
        assert_eq!(ascii(&[b'a', 0x80]), None);
        assert_eq!(ascii(&[0xff]), None);
    }
}
