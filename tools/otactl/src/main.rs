//! `otactl`: code-signing keys, signatures, MCUboot images and AWS IoT OTA
//! job documents for ota-agent; a local OTA service, a simulated device and a
//! demo. Each command lives in its own module under `cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

#[derive(Parser)]
#[command(name = "otactl", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a P-256 code-signing key pair (PKCS#8 PEM) and print its public key.
    Keygen(cmd::keygen::Args),
    /// Print the public key of a private key, in the forms firmware embeds.
    Pubkey(cmd::pubkey::Args),
    /// Print a file's sig-sha256-ecdsa signature, as AWS code signing puts it in a job.
    Sign(cmd::sign::Args),
    /// Wrap a payload as an MCUboot image (as `imgtool sign` does).
    Image(cmd::image::Args),
    /// Write an AWS IoT OTA job document, or the $next/get/accepted reply carrying it.
    Job(cmd::job::Args),
    /// Encode and decode MQTT file-delivery messages exactly as the agent does.
    Stream {
        #[command(subcommand)]
        command: cmd::stream::Command,
    },
    /// Run a local OTA service: Jobs, MQTT streams and HTTP, with an embedded broker.
    Serve(cmd::serve::Args),
    /// Run a simulated device (flash in a file) against an OTA service.
    Device(cmd::device::Args),
    /// Run an end-to-end update demo on this machine, step by step.
    Demo(cmd::demo::Args),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Keygen(args) => cmd::keygen::run(&args),
        Command::Pubkey(args) => cmd::pubkey::run(&args),
        Command::Sign(args) => cmd::sign::run(&args),
        Command::Image(args) => cmd::image::run(&args),
        Command::Job(cmd::job::Args {
            command: Some(cmd::job::JobCommand::Check(args)),
            ..
        }) => return cmd::check::run(&args),
        Command::Job(args) => cmd::job::run(&args),
        Command::Stream { command } => return cmd::stream::run(&command),
        Command::Serve(args) => cmd::serve::run(args),
        Command::Device(args) => cmd::device::run(&args),
        Command::Demo(args) => cmd::demo::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("otactl: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
