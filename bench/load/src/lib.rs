//! Load and throughput commands for ota-agent (the binaries `fleet` and
//! `throughput`; see `bench/load/README.md`), and what they share:
//!
//! - [`broker`]: `otactl::testing::Mosquitto` (with `set_tcp_nodelay true`
//!   unless asked for Nagle), started and described for the report;
//! - [`machine`]: the report header (date, machine, command, revision);
//! - [`procstat`]: CPU time and peak memory of a process, from `/proc`;
//! - [`firmware`]: keys, MCUboot images of a given size, job documents, the
//!   flash layout that fits them;
//! - [`tracker`]: a simulated device whose events are time-stamped as they
//!   happen;
//! - [`summary`]: medians and percentiles, durations and rates as text.
//!
//! Figures are printed, never asserted: nothing here is a test.

pub mod broker;
pub mod firmware;
pub mod machine;
pub mod procstat;
pub mod summary;
pub mod tracker;
