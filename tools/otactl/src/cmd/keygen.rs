//! `otactl keygen`: a new P-256 code-signing key pair.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use otactl::keys;

use super::pubkey::{self, Format};

/// Arguments of `otactl keygen`.
#[derive(clap::Args)]
pub struct Args {
    /// Where to write the private key (PKCS#8 PEM, readable by the owner only).
    #[arg(long)]
    out: PathBuf,
    /// Where to write the public key (SubjectPublicKeyInfo PEM).
    #[arg(long)]
    public: Option<PathBuf>,
    /// Replace existing files.
    #[arg(long)]
    force: bool,
}

/// Generate the key pair, write it, and print the public key's embeddable forms.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let key = keys::generate();
    create(
        &args.out,
        keys::private_key_pem(&key).as_bytes(),
        true,
        args.force,
    )?;
    if let Some(public) = &args.public {
        let pem = keys::public_key_pem(key.verifying_key());
        create(public, pem.as_bytes(), false, args.force)?;
    }
    print!(
        "{}",
        pubkey::render(key.verifying_key(), Format::All, pubkey::DEFAULT_NAME)
    );
    Ok(())
}

/// Write a new file; refuse to replace one unless `force`. A `private` file
/// is created with mode 0600 on Unix.
fn create(path: &Path, bytes: &[u8], private: bool, force: bool) -> anyhow::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(path).with_context(|| {
        if path.exists() && !force {
            format!(
                "{} already exists (use --force to replace it)",
                path.display()
            )
        } else {
            format!("cannot create {}", path.display())
        }
    })?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))
}
