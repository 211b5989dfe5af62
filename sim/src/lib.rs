//! Deterministic fault simulation of ota-agent (issue 4).
//!
//! A device (the core agent on the host platform: NOR flash model, MCUboot
//! boot simulator, flash progress store), a model of the AWS IoT service and
//! a broker model run in one process on simulated time. A seed decides the
//! update and the faults: message loss, duplication, reordering and delay,
//! disconnects, broker restarts, truncated HTTP bodies, expiring URLs,
//! force-cancellation, and power cuts at any flash write or erase (torn) —
//! during the download, the activation, the first boot and the commit.
//!
//! After every run these must hold:
//! - the device boots a good image (old or new), never a torn or unverified one;
//! - the job ends SUCCEEDED, FAILED with a reason, or CANCELED — it is never stuck;
//! - SUCCEEDED means the new version runs, confirmed; FAILED or CANCELED
//!   means the old version runs;
//! - after a resume, no block below the resume point is fetched again, and
//!   the download resumes exactly where the record says.

mod rng;
mod scenario;
mod service;
mod world;

pub use scenario::{Scenario, SelfTest};
pub use service::Status;
pub use world::{Counters, Outcome, World};

/// Run the scenario of `seed`.
pub fn run_seed(seed: u64) -> Outcome {
    World::new(Scenario::from_seed(seed), false).run()
}

/// Run a scenario, keeping a trace of every step.
pub fn replay(sc: Scenario) -> (Outcome, Vec<String>) {
    World::new(sc, true).run_traced()
}
