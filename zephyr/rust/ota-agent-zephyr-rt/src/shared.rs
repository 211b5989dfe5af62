//! State shared between the agent thread and the callers: the channel ends,
//! the settings, and a snapshot of what the getters report.

use crate::input::{Input, Reply};
use ota_agent::Agent;
use ota_agent_zephyr::capi::{image_state_code, state_code, StatisticsC, STATE_UNINITIALIZED};
use ota_agent_zephyr::config::Settings;
use ota_agent_zephyr::ZephyrPlatform;
use zephyr::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use zephyr::sync::channel::{Receiver, Sender};
use zephyr::sync::Mutex;

/// The channel ends callers use, created with the agent thread. Never
/// dropped: zephyr-lang-rust channels panic when their last end is dropped
/// (`zephyr/src/sync/channel.rs`, `Drop for Sender`).
pub struct Shared {
    /// Into the agent thread.
    pub tx: Sender<Input>,
    /// Results of calls and inits.
    pub replies: Receiver<Reply>,
    /// The Kconfig values.
    pub settings: Settings,
}

/// Set once, by the first `init`.
pub static SHARED: Mutex<Option<Shared>> = Mutex::new(None);

/// Serialises callers that wait for a reply; holds the last sequence number.
pub static CALLS: Mutex<u32> = Mutex::new(0);

/// The agent thread (`k_current_get()` as an integer), 0 before it runs.
pub static AGENT_THREAD: AtomicUsize = AtomicUsize::new(0);

/// Messages the MQTT hook could not queue, not yet counted by the agent.
pub static DROPPED: AtomicU32 = AtomicU32::new(0);

/// What the getters report, refreshed by the agent thread after every input.
pub struct Snapshot {
    state: AtomicU32,
    image_state: AtomicU32,
    stats: [AtomicU32; 4],
}

/// The agent's last published state.
pub static SNAPSHOT: Snapshot = Snapshot {
    state: AtomicU32::new(STATE_UNINITIALIZED),
    image_state: AtomicU32::new(0),
    stats: [const { AtomicU32::new(0) }; 4],
};

impl Snapshot {
    /// Publish the agent's state.
    pub fn update<const URL_CAP: usize>(&self, agent: &Agent<ZephyrPlatform, URL_CAP>) {
        let s = StatisticsC::from(agent.statistics());
        for (cell, v) in self
            .stats
            .iter()
            .zip([s.received, s.queued, s.processed, s.dropped])
        {
            cell.store(v, Ordering::Relaxed);
        }
        self.image_state
            .store(image_state_code(agent.image_state()), Ordering::Relaxed);
        self.state
            .store(state_code(agent.state()), Ordering::Release);
    }

    /// `enum ota_agent_state`.
    pub fn state(&self) -> u32 {
        self.state.load(Ordering::Acquire)
    }

    /// `enum ota_agent_image_state`.
    pub fn image_state(&self) -> u32 {
        self.image_state.load(Ordering::Relaxed)
    }

    /// The block statistics.
    pub fn statistics(&self) -> StatisticsC {
        let [received, queued, processed, dropped] =
            self.stats.each_ref().map(|c| c.load(Ordering::Relaxed));
        StatisticsC {
            received,
            queued,
            processed,
            dropped,
        }
    }
}

/// A clone of the sender and the settings, if the agent was initialised.
pub fn sender() -> Option<(Sender<Input>, Settings)> {
    let Ok(shared) = SHARED.lock();
    shared.as_ref().map(|s| (s.tx.clone(), s.settings))
}
