//! Integration tests of the `otactl` binary and its library against the
//! tools the ecosystem uses: openssl for keys and signatures, MCUboot's
//! imgtool for images, and the device's own parsers and verifier.
//!
//! They need `openssl` (apt-get install -y openssl) and `imgtool`
//! (pip install imgtool) on PATH, and fail, not skip, without them.

mod common;
mod image;
mod inspect;
mod job;
mod keys;
mod sign;
