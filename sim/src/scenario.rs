//! What a seed decides: the update, the device's configuration, and the
//! faults the run will suffer.

use crate::rng::Rng;
use std::fmt;

/// How the new firmware behaves in its self test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfTest {
    /// Accepts itself.
    Pass,
    /// Rejects itself.
    Fail,
    /// Never answers (the self-test timeout must roll it back).
    Hang,
}

/// The parameters of one run.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The seed everything else derives from.
    pub seed: u64,
    /// Bytes of the new image's payload.
    pub payload_len: usize,
    /// Block size.
    pub block_size: u32,
    /// Blocks per GetStream request.
    pub blocks_per_request: u32,
    /// Download over HTTP instead of MQTT.
    pub http: bool,
    /// HTTP range size in blocks.
    pub range_blocks: u32,
    /// Resume record interval in blocks.
    pub resume_every: u32,
    /// Flash write unit.
    pub write_align: u32,
    /// The new image's version (the device runs 1.0.0).
    pub new_version: (u8, u8, u16),
    /// The job carries a valid signature.
    pub signature_ok: bool,
    /// The new firmware's self test.
    pub self_test: SelfTest,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Probability that a service → device message is duplicated.
    pub duplication: f64,
    /// Probability that a message is held back (reordered).
    pub reorder: f64,
    /// Probability that an HTTP response is cut short.
    pub http_truncation: f64,
    /// When the device's connection drops (ms).
    pub disconnects: Vec<u64>,
    /// When the broker restarts (ms).
    pub broker_restarts: Vec<u64>,
    /// Power cuts, as the index of the flash operation they tear (counted
    /// from the start of the run, across boots).
    pub power_cuts: Vec<u64>,
    /// When the job is force-cancelled in the service (ms).
    pub cancel_at: Option<u64>,
    /// Lifetime of pre-signed URLs (ms).
    pub url_lifetime: u64,
}

impl Scenario {
    /// The scenario of `seed`: a mix of sizes, planes and faults.
    pub fn from_seed(seed: u64) -> Self {
        let mut r = Rng::new(seed);
        let block_size = r.pick(&[256, 1024, 4096]);
        let payload_len = r.range(1_000, 48_000) as usize;
        let blocks = (payload_len as u64 + 600).div_ceil(block_size as u64);
        let quiet = r.chance(0.2);
        let faulty = |r: &mut Rng, p: f64| {
            if quiet {
                0.0
            } else {
                r.pick(&[0.0, p / 4.0, p])
            }
        };
        let loss = faulty(&mut r, 0.15);
        let duplication = faulty(&mut r, 0.1);
        let reorder = faulty(&mut r, 0.2);
        let http_truncation = faulty(&mut r, 0.3);
        let times = |r: &mut Rng, n: u64, from: u64, until: u64| {
            let mut t: Vec<u64> = (0..n).map(|_| r.range(from, until)).collect();
            t.sort_unstable();
            t
        };
        let disconnects = if quiet {
            vec![]
        } else {
            let n = r.range(0, 4);
            times(&mut r, n, 1_000, 60_000)
        };
        let broker_restarts = if quiet {
            vec![]
        } else {
            let n = r.range(0, 2);
            times(&mut r, n, 1_000, 60_000)
        };
        // A clean run takes about 3 operations per block plus a few hundred
        // for records, the swap and the commit: cut anywhere in that span.
        let ops = blocks * 4 + 400;
        let cuts = r.pick(&[0, 0, 1, 1, 2, 3]);
        let power_cuts = times(&mut r, cuts, 0, ops);
        let new_version = if r.chance(0.06) {
            r.pick(&[(1, 0, 0), (0, 9, 0)])
        } else {
            (1, 1, 0)
        };
        let self_test = if r.chance(0.8) {
            SelfTest::Pass
        } else {
            r.pick(&[SelfTest::Fail, SelfTest::Hang])
        };
        Scenario {
            seed,
            payload_len,
            block_size,
            blocks_per_request: r.pick(&[1, 2, 4, 8]),
            http: r.chance(0.25),
            range_blocks: r.pick(&[1, 2, 8]),
            resume_every: r.pick(&[1, 2, 4, 8]),
            write_align: r.pick(&[4, 8]),
            new_version,
            signature_ok: !r.chance(0.04),
            self_test,
            loss,
            duplication,
            reorder,
            http_truncation,
            disconnects,
            broker_restarts,
            power_cuts,
            cancel_at: r.chance(0.04).then(|| r.range(500, 20_000)),
            url_lifetime: r.pick(&[5_000, 600_000]),
        }
    }

    /// A fault-free run of the same shape with exactly these power cuts: the
    /// sweep that cuts power at every flash operation uses it.
    pub fn power_cuts_only(seed: u64, cuts: Vec<u64>) -> Self {
        Scenario {
            loss: 0.0,
            duplication: 0.0,
            reorder: 0.0,
            http_truncation: 0.0,
            disconnects: vec![],
            broker_restarts: vec![],
            cancel_at: None,
            new_version: (1, 1, 0),
            signature_ok: true,
            self_test: SelfTest::Pass,
            url_lifetime: 600_000,
            power_cuts: cuts,
            ..Scenario::from_seed(seed)
        }
    }

    /// Whether the update itself is good: it ends SUCCEEDED unless the
    /// network gives out or the job is cancelled first.
    pub fn can_succeed(&self) -> bool {
        self.signature_ok && self.new_version > (1, 0, 0) && self.self_test == SelfTest::Pass
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "seed {}: {} B payload, {} B blocks x{} per request, {}, resume every {}, align {}, v{:?}, sig {}, self test {:?}, \
             loss {:.3} dup {:.3} reorder {:.3} trunc {:.3}, disconnects {:?}, broker restarts {:?}, power cuts at ops {:?}, cancel {:?}",
            self.seed,
            self.payload_len,
            self.block_size,
            self.blocks_per_request,
            if self.http { format!("HTTP ranges of {} blocks", self.range_blocks) } else { "MQTT".into() },
            self.resume_every,
            self.write_align,
            self.new_version,
            if self.signature_ok { "ok" } else { "bad" },
            self.self_test,
            self.loss,
            self.duplication,
            self.reorder,
            self.http_truncation,
            self.disconnects,
            self.broker_restarts,
            self.power_cuts,
            self.cancel_at,
        )
    }
}
