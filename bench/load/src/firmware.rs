//! What an update needs: a code-signing key, MCUboot images of simulated
//! firmware of a given size, a flash layout with room for them, and the
//! job document.

use anyhow::{bail, Context};
use ota_agent::mcuboot::ImageVersion;
use ota_agent_host::device::firmware::Firmware;
use ota_agent_host::image::{self, ImageOptions};
use ota_agent_host::Layout;
use otactl::jobdoc::{FileEntry, JobDocument, Protocol};
use otactl::keys;
use p256::ecdsa::SigningKey;

/// Bytes of an image that are not payload, at most (the 512-byte header and
/// the TLVs of an image without an MCUboot signature).
const IMAGE_OVERHEAD: usize = 1024;

/// The code-signing key the devices trust.
pub struct CodeSigner {
    key: SigningKey,
}

impl CodeSigner {
    /// A fresh key.
    pub fn generate() -> Self {
        CodeSigner {
            key: keys::generate(),
        }
    }

    /// The public key, SEC1, for `DeviceConfig::new`.
    pub fn public_key(&self) -> Vec<u8> {
        keys::public_key_sec1(self.key.verifying_key()).to_vec()
    }

    /// The `jobDocument` of an OTA job delivering `image` as file 0 of
    /// `stream` over `protocol`; `url` (the file server's unsigned URL,
    /// which the service pre-signs at delivery) is needed for HTTP.
    pub fn job_document(
        &self,
        protocol: Protocol,
        stream: &str,
        url: Option<&str>,
        image: &[u8],
    ) -> anyhow::Result<serde_json::Value> {
        let mut entry = FileEntry::signed("/firmware", 0, image, &self.key)?;
        if let Some(url) = url {
            entry = entry.with_url(url);
        }
        let stream = (protocol == Protocol::Mqtt).then_some(stream);
        let document = JobDocument::new(&[protocol], stream, vec![entry])?;
        Ok(serde_json::to_value(&document)?)
    }
}

/// An MCUboot image of a simulated firmware that passes its self test, of
/// `version`, at most `size` bytes long and less than 1 KiB shorter, so
/// that with any block size of 1 KiB or more that divides `size` it takes
/// exactly `size / block` blocks.
pub fn image(version: ImageVersion, size: usize) -> anyhow::Result<Vec<u8>> {
    if size <= 2 * IMAGE_OVERHEAD {
        bail!(
            "an image of {size} bytes is too small (at least {} bytes)",
            2 * IMAGE_OVERHEAD + 1
        );
    }
    let seed = u64::from(version.major) << 32
        | u64::from(version.minor) << 16
        | u64::from(version.revision);
    let payload = Firmware::default().payload(size - IMAGE_OVERHEAD, seed);
    let options = ImageOptions {
        version,
        ..ImageOptions::default()
    };
    let image = image::build_image(&payload, &options).context("building an image")?;
    if image.len() > size {
        bail!("the image is {} bytes, more than {size}", image.len());
    }
    Ok(image)
}

/// `major.minor.0`.
pub fn version(major: u8, minor: u8) -> ImageVersion {
    ImageVersion {
        major,
        minor,
        revision: 0,
        build_num: 0,
    }
}

/// The nrf52840dk layout, or the same with larger slots when an image of
/// `image_size` bytes (plus room for swap-move's spare page and the
/// trailer) does not fit.
pub fn layout_for(image_size: usize) -> anyhow::Result<Layout> {
    const ROOM: usize = 64 * 1024;
    let dk = Layout::nrf52840dk();
    let needed = image_size + ROOM;
    if needed <= dk.slot0().size() as usize {
        return Ok(dk);
    }
    let slot = u32::try_from(needed.next_multiple_of(4096)).context("the image is too large")?;
    Layout::nrf52840_with_slots(slot).map_err(|e| anyhow::anyhow!("slots of {slot} bytes: {e}"))
}
