//! MCUboot image builder: wraps a payload as an image that MCUboot boots and
//! that `imgtool verify` accepts, in the layout `imgtool sign` produces.
//!
//! ```text
//! [header: 32 bytes, then padding up to header_size]
//! [payload]
//! [TLV info {0x6907, tlv_tot}]
//! [SHA-256 TLV (0x10): hash of header + padding + payload]
//! [key hash TLV (0x01): SHA-256 of the public key's SubjectPublicKeyInfo DER]  (signed only)
//! [ECDSA signature TLV (0x22): DER ECDSA P-256 over that hash]                   (signed only)
//! ```
//!
//! The header is serialised with [`ImageHeader::to_bytes`] from the core, and
//! the core's [`check_image`](ota_agent::mcuboot::check_image) accepts every
//! image built here. No protected TLVs are written (imgtool writes none unless
//! asked for a security counter, dependencies, a boot record or custom TLVs).

use core::fmt;

use ota_agent::mcuboot::{
    ImageHeader, ImageVersion, HEADER_LEN, TLV_HEADER_LEN, TLV_INFO_MAGIC, TLV_SHA256,
};
use p256::ecdsa::{signature::Signer, DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey;
use sha2::{Digest, Sha256};

/// The header size Zephyr's imgtool invocation uses (`CONFIG_ROM_START_OFFSET`).
pub const DEFAULT_HEADER_SIZE: u16 = 0x200;
/// `IMAGE_TLV_KEYHASH`: SHA-256 of the signing key's public part.
pub const TLV_KEYHASH: u16 = 0x01;
/// `IMAGE_TLV_ECDSA_SIG`: a DER ECDSA signature over the image hash.
pub const TLV_ECDSA_SIG: u16 = 0x22;
/// `IMAGE_F_RAM_LOAD`: the image runs from RAM at its load address.
pub const IMAGE_F_RAM_LOAD: u32 = 0x20;
/// What imgtool fills a prepended header with after the 32 header bytes
/// (its default `--erased-val`).
pub const ERASED_VALUE: u8 = 0xff;

/// How to build an image.
#[derive(Clone, Debug)]
pub struct ImageOptions {
    /// The image version (`ih_ver`).
    pub version: ImageVersion,
    /// `ih_hdr_size`: the bytes before the payload (at least 32).
    pub header_size: u16,
    /// `true`: prepend `header_size` bytes to the payload (imgtool's
    /// `--pad-header`). `false`: the payload already starts with
    /// `header_size` zero bytes (a Zephyr binary linked with a ROM start
    /// offset), and the header is written over them.
    pub pad_header: bool,
    /// A RAM load address (imgtool's `--load-addr`); sets `IMAGE_F_RAM_LOAD`.
    pub load_addr: Option<u32>,
    /// Sign the image hash with this key (key hash and ECDSA TLVs).
    pub signing_key: Option<SigningKey>,
}

impl Default for ImageOptions {
    /// Version 0.0.0+0, a 0x200-byte prepended header, no load address, unsigned.
    fn default() -> Self {
        ImageOptions {
            version: ImageVersion::default(),
            header_size: DEFAULT_HEADER_SIZE,
            pad_header: true,
            load_addr: None,
            signing_key: None,
        }
    }
}

/// Why an image could not be built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The header size is below the 32 bytes of the header itself.
    HeaderTooSmall(u16),
    /// Without `pad_header`, the payload is shorter than the header space.
    PayloadShorterThanHeader {
        /// The payload length.
        payload_len: usize,
        /// The header size.
        header_size: u16,
    },
    /// Without `pad_header`, the header space at the start of the payload is
    /// not all zeros (it would be overwritten).
    HeaderSpaceNotBlank(u16),
    /// The image does not fit the 32-bit `ih_img_size`.
    PayloadTooLarge(usize),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::HeaderTooSmall(size) => write!(
                f,
                "header size {size:#x} is smaller than the {HEADER_LEN}-byte MCUboot header"
            ),
            BuildError::PayloadShorterThanHeader {
                payload_len,
                header_size,
            } => write!(
                f,
                "the payload ({payload_len} bytes) is shorter than the header space \
                 ({header_size:#x} bytes); use pad-header to prepend the header"
            ),
            BuildError::HeaderSpaceNotBlank(size) => write!(
                f,
                "the payload's first {size:#x} bytes are not zeros, so there is no room \
                 for the header; use pad-header to prepend it"
            ),
            BuildError::PayloadTooLarge(len) => {
                write!(
                    f,
                    "the payload ({len} bytes) is too large for an MCUboot image"
                )
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// Why a version string could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionError(String);

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid image version {:?}: expected major[.minor[.revision[+build]]] \
             with major, minor < 256, revision < 65536, build < 2^32",
            self.0
        )
    }
}

impl std::error::Error for VersionError {}

/// Parse an imgtool version string, `major[.minor[.revision[+build]]]`
/// (missing parts are 0), e.g. `1.2.3+4`.
pub fn parse_version(text: &str) -> Result<ImageVersion, VersionError> {
    let error = || VersionError(text.to_owned());
    let (dotted, build) = match text.split_once('+') {
        Some((dotted, build)) => (dotted, Some(build)),
        None => (text, None),
    };
    let parts: Vec<&str> = dotted.split('.').collect();
    if parts.len() > 3 || (build.is_some() && parts.len() != 3) {
        return Err(error());
    }
    fn number<T: core::str::FromStr>(part: Option<&str>) -> Option<T> {
        match part {
            None => "0".parse().ok(),
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
            Some(_) => None,
        }
    }
    Ok(ImageVersion {
        major: number(parts.first().copied()).ok_or_else(error)?,
        minor: number(parts.get(1).copied()).ok_or_else(error)?,
        revision: number(parts.get(2).copied()).ok_or_else(error)?,
        build_num: number(build).ok_or_else(error)?,
    })
}

/// Format a version the way [`parse_version`] reads it: `major.minor.revision+build`.
pub fn format_version(version: &ImageVersion) -> String {
    format!(
        "{}.{}.{}+{}",
        version.major, version.minor, version.revision, version.build_num
    )
}

/// Wrap `payload` as an MCUboot image (see the module documentation for the
/// layout). With the same inputs the result is byte-identical to `imgtool sign`
/// for unsigned images; signed images differ only in the signature bytes.
pub fn build_image(payload: &[u8], opts: &ImageOptions) -> Result<Vec<u8>, BuildError> {
    let header_size = opts.header_size as usize;
    if header_size < HEADER_LEN {
        return Err(BuildError::HeaderTooSmall(opts.header_size));
    }
    let mut image = if opts.pad_header {
        let mut image = vec![ERASED_VALUE; header_size];
        image.extend_from_slice(payload);
        image
    } else {
        let space = payload
            .get(..header_size)
            .ok_or(BuildError::PayloadShorterThanHeader {
                payload_len: payload.len(),
                header_size: opts.header_size,
            })?;
        if space.iter().any(|&b| b != 0) {
            return Err(BuildError::HeaderSpaceNotBlank(opts.header_size));
        }
        payload.to_vec()
    };
    let img_size = u32::try_from(image.len() - header_size)
        .ok()
        .filter(|size| size.checked_add(header_size as u32).is_some())
        .ok_or(BuildError::PayloadTooLarge(payload.len()))?;
    let header = ImageHeader {
        load_addr: opts.load_addr.unwrap_or(0),
        hdr_size: opts.header_size,
        protect_tlv_size: 0,
        img_size,
        flags: if opts.load_addr.is_some() {
            IMAGE_F_RAM_LOAD
        } else {
            0
        },
        version: opts.version,
    };
    image[..HEADER_LEN].copy_from_slice(&header.to_bytes());

    let hash: [u8; 32] = Sha256::digest(&image).into();
    let mut tlvs = Vec::new();
    push_tlv(&mut tlvs, TLV_SHA256, &hash);
    if let Some(key) = &opts.signing_key {
        push_tlv(&mut tlvs, TLV_KEYHASH, &public_key_hash(key));
        let signature: DerSignature = key.sign(&image);
        push_tlv(&mut tlvs, TLV_ECDSA_SIG, signature.as_bytes());
    }
    let tlv_tot = u16::try_from(TLV_HEADER_LEN + tlvs.len())
        .expect("three TLVs of at most 72 bytes fit a u16 length");
    image.extend_from_slice(&TLV_INFO_MAGIC.to_le_bytes());
    image.extend_from_slice(&tlv_tot.to_le_bytes());
    image.extend_from_slice(&tlvs);
    Ok(image)
}

/// MCUboot's key hash: SHA-256 of the public key as SubjectPublicKeyInfo DER
/// (what imgtool embeds, and what a bootloader built with that key compares).
pub fn public_key_hash(key: &SigningKey) -> [u8; 32] {
    let der = key
        .verifying_key()
        .to_public_key_der()
        .expect("a P-256 public key always encodes as SubjectPublicKeyInfo");
    Sha256::digest(der.as_bytes()).into()
}

fn push_tlv(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = u16::try_from(data.len()).expect("TLV data is at most 72 bytes");
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(data);
}

#[cfg(test)]
mod tests {
    use super::*;
    use ota_agent::mcuboot::check_image;
    use ota_agent::ImageError;
    use p256::ecdsa::{signature::Verifier, Signature};

    fn version(major: u8, minor: u8, revision: u16, build_num: u32) -> ImageVersion {
        ImageVersion {
            major,
            minor,
            revision,
            build_num,
        }
    }

    fn test_key() -> SigningKey {
        SigningKey::from_slice(&[7u8; 32]).unwrap()
    }

    /// The TLVs of an image built here, as (type, data) pairs.
    fn tlvs(image: &[u8], tlv_offset: usize) -> Vec<(u16, Vec<u8>)> {
        let mut rest = &image[tlv_offset + TLV_HEADER_LEN..];
        let mut out = Vec::new();
        while !rest.is_empty() {
            let kind = u16::from_le_bytes([rest[0], rest[1]]);
            let len = u16::from_le_bytes([rest[2], rest[3]]) as usize;
            out.push((kind, rest[4..4 + len].to_vec()));
            rest = &rest[4 + len..];
        }
        out
    }

    #[test]
    fn parses_versions_like_imgtool() {
        assert_eq!(parse_version("1.2.3+4"), Ok(version(1, 2, 3, 4)));
        assert_eq!(parse_version("1.2.3"), Ok(version(1, 2, 3, 0)));
        assert_eq!(parse_version("1.2"), Ok(version(1, 2, 0, 0)));
        assert_eq!(parse_version("7"), Ok(version(7, 0, 0, 0)));
        assert_eq!(
            parse_version("255.255.65535+4294967295"),
            Ok(version(255, 255, 65535, u32::MAX))
        );
        for bad in [
            "",
            "1.",
            ".1",
            "1.2.3.4",
            "1.2+3",
            "256.0.0",
            "1.2.65536",
            "1.2.3+4294967296",
            "1.-2.3",
            "v1.2.3",
            "1.2.3+",
            " 1.2.3",
        ] {
            assert!(parse_version(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(format_version(&version(1, 2, 3, 4)), "1.2.3+4");
        assert_eq!(
            parse_version(&format_version(&version(9, 8, 7, 6))),
            Ok(version(9, 8, 7, 6))
        );
    }

    #[test]
    fn unsigned_image_passes_the_core_check() {
        let opts = ImageOptions {
            version: version(1, 2, 3, 4),
            ..ImageOptions::default()
        };
        let image = build_image(b"firmware", &opts).unwrap();
        assert_eq!(image.len(), 0x200 + 8 + 4 + 36);
        assert!(image[HEADER_LEN..0x200].iter().all(|&b| b == ERASED_VALUE));
        assert_eq!(&image[0x200..0x208], b"firmware");
        let layout = check_image(&image).unwrap();
        assert_eq!(layout.header.version, version(1, 2, 3, 4));
        assert_eq!(layout.header.hdr_size, 0x200);
        assert_eq!(layout.header.img_size, 8);
        assert_eq!(layout.header.flags, 0);
        assert_eq!(layout.tlv_len, 40);
    }

    #[test]
    fn tampering_is_detected_by_the_core_check() {
        let image = build_image(b"firmware", &ImageOptions::default()).unwrap();
        let mut bad = image.clone();
        bad[0x203] ^= 0x01;
        assert_eq!(check_image(&bad), Err(ImageError::HashMismatch));
        let mut bad = image.clone();
        bad[20] = 9; // the version is hashed too
        assert_eq!(check_image(&bad), Err(ImageError::HashMismatch));
    }

    #[test]
    fn header_written_over_blank_space_without_pad_header() {
        let mut payload = vec![0u8; 0x100];
        payload.extend_from_slice(b"code");
        let opts = ImageOptions {
            header_size: 0x100,
            pad_header: false,
            ..ImageOptions::default()
        };
        let image = build_image(&payload, &opts).unwrap();
        assert_eq!(image.len(), 0x104 + 40);
        assert!(image[HEADER_LEN..0x100].iter().all(|&b| b == 0));
        let layout = check_image(&image).unwrap();
        assert_eq!(layout.header.img_size, 4);

        payload[0x80] = 1;
        assert_eq!(
            build_image(&payload, &opts),
            Err(BuildError::HeaderSpaceNotBlank(0x100))
        );
        assert_eq!(
            build_image(&[0; 0x20], &opts),
            Err(BuildError::PayloadShorterThanHeader {
                payload_len: 0x20,
                header_size: 0x100
            })
        );
    }

    #[test]
    fn rejects_a_header_smaller_than_the_header() {
        let opts = ImageOptions {
            header_size: 31,
            ..ImageOptions::default()
        };
        assert_eq!(
            build_image(b"x", &opts),
            Err(BuildError::HeaderTooSmall(31))
        );
        let opts = ImageOptions {
            header_size: 32,
            ..ImageOptions::default()
        };
        check_image(&build_image(b"x", &opts).unwrap()).unwrap();
    }

    #[test]
    fn load_address_sets_ram_load() {
        let opts = ImageOptions {
            load_addr: Some(0x2000_8000),
            ..ImageOptions::default()
        };
        let layout = check_image(&build_image(b"ram code", &opts).unwrap()).unwrap();
        assert_eq!(layout.header.load_addr, 0x2000_8000);
        assert_eq!(layout.header.flags, IMAGE_F_RAM_LOAD);
    }

    #[test]
    fn signed_image_carries_key_hash_and_a_valid_signature() {
        let key = test_key();
        let opts = ImageOptions {
            signing_key: Some(key.clone()),
            ..ImageOptions::default()
        };
        let image = build_image(b"signed firmware", &opts).unwrap();
        let layout = check_image(&image).unwrap();
        let hashed = &image[..layout.tlv_offset as usize];
        let found = tlvs(&image, layout.tlv_offset as usize);
        let kinds: Vec<u16> = found.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, [TLV_SHA256, TLV_KEYHASH, TLV_ECDSA_SIG]);
        assert_eq!(found[1].1, public_key_hash(&key));
        let signature = Signature::from_der(&found[2].1).unwrap();
        key.verifying_key().verify(hashed, &signature).unwrap();

        let other = SigningKey::from_slice(&[9u8; 32]).unwrap();
        assert!(other.verifying_key().verify(hashed, &signature).is_err());
        assert_ne!(public_key_hash(&other), public_key_hash(&key));
    }
}
