//! `otactl serve`: the local OTA service (see [`otactl::service`]) as a
//! long-running command.

pub use otactl::service::ServeArgs as Args;

/// Serve until the process is killed.
pub fn run(args: Args) -> anyhow::Result<()> {
    otactl::service::run_serve(args)
}
