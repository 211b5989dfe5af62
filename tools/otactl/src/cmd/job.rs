//! `otactl job`: an AWS IoT OTA job document for a signed file, or the
//! `$next/get/accepted` reply that delivers it to a device.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use clap::Subcommand;
use otactl::jobdoc::{
    validate_job_id, FileEntry, GetAccepted, JobDocument, JobExecution, Protocol,
};
use otactl::keys;

use super::parse_int;

/// Arguments of `otactl job`: either a subcommand or the document to write.
#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct Args {
    /// What to do instead of writing a document.
    #[command(subcommand)]
    pub command: Option<JobCommand>,
    /// The document to write.
    #[command(flatten)]
    pub create: Option<CreateArgs>,
}

/// Subcommands of `otactl job`.
#[derive(Subcommand)]
pub enum JobCommand {
    /// Check a job document exactly as the agent parses it, and print what it
    /// makes of it as one JSON object.
    Check(super::check::Args),
}

/// What goes into the document.
#[derive(clap::Args)]
pub struct CreateArgs {
    /// The job id (1-64 characters of A-Z a-z 0-9 _ -).
    #[arg(long)]
    job_id: String,
    /// The file the device downloads (an MCUboot image); its size and signature go in the document.
    #[arg(long)]
    file: PathBuf,
    /// Private key to sign the file with (PEM, PKCS#8 or SEC1).
    #[arg(long)]
    key: PathBuf,
    /// Data protocols the device may use, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "MQTT")]
    protocols: Vec<Protocol>,
    /// MQTT stream name (required when MQTT is listed).
    #[arg(long)]
    stream: Option<String>,
    /// Pre-signed HTTP URL of the file (required when HTTP is listed).
    #[arg(long)]
    url: Option<String>,
    /// The stream's file id (0-255).
    #[arg(long, default_value_t = 0, value_parser = parse_int::<u8>)]
    file_id: u8,
    /// File type (0 = firmware); omitted from the document when not given.
    #[arg(long, value_parser = parse_int::<u8>)]
    file_type: Option<u8>,
    /// Path on the device [default: the file's name].
    #[arg(long)]
    filepath: Option<String>,
    /// Code-signing certificate path or label on the device; omitted when not given.
    #[arg(long)]
    certfile: Option<String>,
    /// Write the full $next/get/accepted reply instead of the bare jobDocument.
    #[arg(long)]
    execution: bool,
    /// The clientToken echoed in the reply.
    #[arg(long, requires = "execution")]
    client_token: Option<String>,
    /// Make the execution IN_PROGRESS with self_test "ready", as the device
    /// finds it after rebooting into the new image.
    #[arg(long, requires_all = ["execution", "updated_by"])]
    self_test_ready: bool,
    /// The packed version (major<<24 | minor<<16 | build) of the firmware that downloaded the image.
    #[arg(long, value_parser = parse_int::<u32>, requires = "self_test_ready")]
    updated_by: Option<u32>,
    /// Where to write the JSON [default: standard output].
    #[arg(short, long)]
    out: Option<PathBuf>,
}

/// Write the document (or reply) as compact JSON, as the service sends it.
pub fn run(args: &Args) -> anyhow::Result<()> {
    let args = args
        .create
        .as_ref()
        .context("no job arguments (see `otactl job --help`)")?;
    validate_job_id(&args.job_id)?;
    let key = keys::load(&args.key)?;
    let data = super::read(&args.file)?;
    let filepath = match &args.filepath {
        Some(path) => path.clone(),
        None => file_name(&args.file)?,
    };
    let mut file = FileEntry::signed(&filepath, args.file_id, &data, &key)?;
    if let Some(url) = &args.url {
        file = file.with_url(url);
    }
    file.certfile = args.certfile.clone();
    file.file_type = args.file_type.map(u32::from);
    let document = JobDocument::new(&args.protocols, args.stream.as_deref(), vec![file])?;

    let mut json = if args.execution {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        let execution = if args.self_test_ready {
            let updated_by = args
                .updated_by
                .context("--self-test-ready needs --updated-by")?;
            JobExecution::awaiting_self_test(&args.job_id, document, updated_by, now)?
        } else {
            JobExecution::queued(&args.job_id, document, now)?
        };
        let reply = GetAccepted {
            client_token: args.client_token.clone(),
            timestamp: now,
            execution: Some(execution),
        };
        serde_json::to_string(&reply)?
    } else {
        serde_json::to_string(&document)?
    };
    json.push('\n');
    super::write_or_print(args.out.as_deref(), &json)
}

fn file_name(path: &Path) -> anyhow::Result<String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "{} has no usable file name; pass --filepath",
                path.display()
            )
        })
}
