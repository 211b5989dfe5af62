//! The `otactl` commands, one module each, and what they share: number
//! parsing and file output.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;

pub mod check;
pub mod demo;
pub mod device;
pub mod image;
pub mod job;
pub mod keygen;
pub mod pubkey;
pub mod serve;
pub mod sign;
pub mod stream;

/// Parse an unsigned integer given in decimal or as `0x` hex (clap value parser).
pub fn parse_int<T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    let value = Some(digits)
        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_digit(radix)))
        .and_then(|d| u64::from_str_radix(d, radix).ok())
        .ok_or_else(|| format!("{text:?} is not a decimal or 0x-hex number"))?;
    T::try_from(value).map_err(|_| format!("{text} is out of range"))
}

/// Read a whole input file.
pub fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Write `bytes` to `path`, replacing it.
pub fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Write `text` to `path`, or to standard output without a path.
pub fn write_or_print(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => write(path, text.as_bytes()),
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .context("cannot write to standard output"),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_int;

    #[test]
    fn parses_decimal_and_hex() {
        assert_eq!(parse_int::<u16>("0x200"), Ok(0x200));
        assert_eq!(parse_int::<u16>("512"), Ok(512));
        assert_eq!(parse_int::<u32>("0X01000000"), Ok(0x0100_0000));
        assert!(parse_int::<u16>("0x10000").is_err());
        assert!(parse_int::<u32>("-1").is_err());
        assert!(parse_int::<u32>("0x").is_err());
        assert!(parse_int::<u32>("1e3").is_err());
        assert!(parse_int::<u32>("+1").is_err());
    }
}
