//! The library half of `otactl`: code-signing keys, signatures and AWS IoT
//! OTA job documents for ota-agent, shared by the CLI, the local OTA service
//! and the tests. MCUboot images are built by `ota_agent_host::image`.

pub mod jobdoc;
pub mod keys;
pub mod sign;

// ---- The local OTA service (src/service/, maintained separately) ----
pub mod service;
pub mod testing;
