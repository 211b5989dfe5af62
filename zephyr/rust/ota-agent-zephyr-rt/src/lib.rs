//! # ota-agent-zephyr-rt
//!
//! The part of the Zephyr port that needs the `zephyr` crate
//! (zephyr-lang-rust): the agent thread fed by a channel, and the C API of
//! `zephyr/include/ota_agent.h` (`ota_agent_init`, `ota_agent_suspend`, …,
//! and the `ota_agent_rx_*` entry points the C shim's MQTT event hook calls).
//!
//! Everything else — the platform traits over the C shim, the driver, the
//! Kconfig mapping — is in `ota-agent-zephyr`, which builds and is tested on
//! the host. This crate only compiles inside a Zephyr build (see its
//! Cargo.toml); it was written against zephyr-lang-rust `dd73abc` (the
//! revision Zephyr v4.2.0 pins) and has not been compiled here.
//!
//! Rust applications use [`api`]; C code uses `ota_agent.h`. Both go through
//! the same functions.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;

pub mod api;
mod capi;
mod input;
mod shared;
mod thread;

pub use api::{init, Params};
