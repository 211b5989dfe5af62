//! The measured loops. Callgrind counts only inside these functions
//! (`--toggle-collect`), so each is out of line and has an unmangled name,
//! and does nothing but the work being measured: everything it is given was
//! built before the call, and everything it produces is checked after.

use crate::port::BenchPlatform;
use ota_agent::{Agent, Instant, Processed};
use sha2::{Digest, Sha256};
use std::hint::black_box;

/// The agent as a product with MQTT only builds it (no URL buffer).
pub type BenchAgent = Agent<BenchPlatform, 0>;

/// Symbol of [`block_cost_agent`], for `--toggle-collect`.
pub const AGENT_SYMBOL: &str = "block_cost_agent";
/// Symbol of [`block_cost_sha`], for `--toggle-collect`.
pub const SHA_SYMBOL: &str = "block_cost_sha";

/// Feed `messages` to the agent on `topic` as a port does: each through
/// [`Agent::handle_message`], then drain the transmits (rendered, not sent)
/// and the events. Returns how many blocks were accepted.
#[no_mangle]
#[inline(never)]
pub fn block_cost_agent(
    agent: &mut BenchAgent,
    now: Instant,
    topic: &str,
    messages: &[Vec<u8>],
) -> usize {
    let mut accepted = 0;
    for message in messages {
        if agent.handle_message(now, topic, message) == Processed::BlockAccepted {
            accepted += 1;
        }
        while agent
            .poll_transmit(|transmit| {
                black_box(transmit);
            })
            .is_some()
        {}
        while let Some(event) = agent.poll_event() {
            black_box(event);
        }
    }
    accepted
}

/// SHA-256 of `file`, fed in `block_size` chunks: the floor.
#[no_mangle]
#[inline(never)]
pub fn block_cost_sha(file: &[u8], block_size: usize) -> [u8; 32] {
    let mut sha = Sha256::new();
    for chunk in file.chunks(block_size) {
        sha.update(chunk);
    }
    sha.finalize().into()
}
