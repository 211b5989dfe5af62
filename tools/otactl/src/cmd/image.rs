//! `otactl image`: wrap a payload as an MCUboot image.

use std::path::PathBuf;

use anyhow::anyhow;
use ota_agent::mcuboot::{check_image, ImageVersion};
use ota_agent_host::image::{
    build_image, format_version, parse_version, public_key_hash, ImageOptions,
};
use otactl::keys;
use sha2::{Digest as _, Sha256};

use super::parse_int;

/// Arguments of `otactl image` (named like imgtool's `sign`).
#[derive(clap::Args)]
pub struct Args {
    /// Image version: major[.minor[.revision[+build]]], e.g. 1.2.3+4.
    #[arg(long, value_parser = parse_version)]
    version: ImageVersion,
    /// Bytes reserved for the header (Zephyr's CONFIG_ROM_START_OFFSET).
    #[arg(long, default_value = "0x200", value_parser = parse_int::<u16>)]
    header_size: u16,
    /// Prepend the header to the payload; without it the payload must start
    /// with --header-size zero bytes, which the header replaces.
    #[arg(long)]
    pad_header: bool,
    /// Load address for an image that runs from RAM (sets IMAGE_F_RAM_LOAD).
    #[arg(long, value_parser = parse_int::<u32>)]
    load_addr: Option<u32>,
    /// Also sign the image for MCUboot with this P-256 key (ECDSA and key hash TLVs).
    #[arg(long)]
    key: Option<PathBuf>,
    /// The payload, e.g. zephyr.bin.
    payload: PathBuf,
    /// Where to write the image.
    #[arg(short, long)]
    out: PathBuf,
}

/// Build the image, write it, and print what was written.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let payload = super::read(&args.payload)?;
    let signing_key = args.key.as_deref().map(keys::load).transpose()?;
    let opts = ImageOptions {
        version: args.version,
        header_size: args.header_size,
        pad_header: args.pad_header,
        load_addr: args.load_addr,
        signing_key,
    };
    let image = build_image(&payload, &opts)?;
    let layout = check_image(&image)
        .map_err(|e| anyhow!("the built image fails MCUboot's check ({e:?}); this is a bug"))?;
    super::write(&args.out, &image)?;
    println!(
        "{}: {} bytes, version {}, header {:#x}, image sha256 {}",
        args.out.display(),
        image.len(),
        format_version(&args.version),
        args.header_size,
        keys::to_hex(&Sha256::digest(&image[..layout.tlv_offset as usize])),
    );
    if let Some(key) = &opts.signing_key {
        println!("signed; key hash {}", keys::to_hex(&public_key_hash(key)));
    }
    Ok(())
}
