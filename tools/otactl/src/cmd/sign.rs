//! `otactl sign`: the `sig-sha256-ecdsa` value of a file.

use std::path::PathBuf;

use otactl::{keys, sign};

/// Arguments of `otactl sign`.
#[derive(clap::Args)]
pub struct Args {
    /// Private key, PEM (PKCS#8, or SEC1 as openssl ecparam writes it).
    #[arg(long)]
    key: PathBuf,
    /// Also write the raw DER signature here (what `openssl dgst -verify -signature` reads).
    #[arg(long)]
    der: Option<PathBuf>,
    /// The file to sign (the whole file, as the device downloads it).
    file: PathBuf,
}

/// Print the base64 DER ECDSA P-256 signature of the file's SHA-256.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let key = keys::load(&args.key)?;
    let data = super::read(&args.file)?;
    if let Some(der) = &args.der {
        super::write(der, sign::signature_der(&key, &data).as_bytes())?;
    }
    println!("{}", sign::signature_base64(&key, &data));
    Ok(())
}
