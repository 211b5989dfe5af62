//! Random sequences of inputs: no panic, no write outside the slot or over
//! unerased flash, no deadline left in the past, and `Activate` only when the
//! slot holds exactly the signed file of the active job.

use super::harness::*;
use crate::{BootState, Config, Event, HttpOutcome, ImageVerdict};
use proptest::prelude::*;
use std::vec::Vec;

const DATA: &str = "streams/AFR_OTA-stream-1/data/cbor";
const BS: usize = 1024;

#[derive(Clone, Debug)]
enum Op {
    Job(u8),
    Mutated(u8, usize, u8),
    Block(u8, u32),
    BadBlock(u32, usize, u8),
    Http(u8, u32, u16),
    HttpDone(u16),
    Advance(u32),
    AckAll,
    Api(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        1 => (0u8..6).prop_map(Op::Job),
        1 => (0u8..6, any::<usize>(), any::<u8>()).prop_map(|(k, p, b)| Op::Mutated(k, p, b)),
        6 => (0u8..2, 0u32..14).prop_map(|(f, i)| Op::Block(f, i)),
        1 => (0u32..14, any::<usize>(), any::<u8>()).prop_map(|(i, p, b)| Op::BadBlock(i, p, b)),
        2 => (0u8..2, 0u32..14_000, 1u16..5000).prop_map(|(f, o, n)| Op::Http(f, o, n)),
        1 => prop_oneof![Just(0u16), Just(200), Just(403), Just(500)].prop_map(Op::HttpDone),
        2 => (0u32..70_000).prop_map(Op::Advance),
        2 => Just(Op::AckAll),
        1 => (0u8..10).prop_map(Op::Api),
    ]
}

struct World {
    files: [Vec<u8>; 2],
    docs: Vec<(std::string::String, usize)>,
}

fn world() -> World {
    let a = image(9_000, (1, 1, 0));
    let b = image(12_000, (1, 2, 0));
    let docs = std::vec![
        (JobSpec::for_file("job-a", &a).doc(), 0),
        (JobSpec::for_file("job-b", &b).doc(), 1),
        (JobSpec::for_file("job-a", &a).http("https://h/a").doc(), 0),
        (
            JobSpec::for_file("job-a", &a).self_test("0x01000000").doc(),
            0
        ),
        (no_job(), 0),
        (
            r#"{"execution":{"jobId":"c","jobDocument":{"x":1}}}"#.into(),
            0
        ),
    ];
    World {
        files: [a, b],
        docs,
    }
}

fn run(ops: &[Op], on_trial: bool) -> Result<(), TestCaseError> {
    let w = world();
    let config = Config {
        block_size: BS as u32,
        blocks_per_request: 3,
        resume_every_blocks: 2,
        max_retries: 4,
        ..Config::default()
    };
    let mut p = platform(1 << 16, V1);
    if on_trial {
        p.boot.state = BootState::PendingCommit;
    }
    let mut d = Dut::started(config, p);
    for op in ops {
        match op {
            Op::Job(k) => {
                d.job(&w.docs[*k as usize].0);
            }
            Op::Mutated(k, pos, byte) => {
                let mut doc = w.docs[*k as usize].0.clone().into_bytes();
                let at = pos % doc.len();
                doc[at] = *byte;
                d.msg("jobs/notify-next", &doc);
            }
            Op::Block(f, i) => {
                let file = &w.files[*f as usize];
                let s = (*i as usize * BS).min(file.len());
                let e = (s + BS).min(file.len());
                d.msg(DATA, &block(0, *i, &file[s..e]));
            }
            Op::BadBlock(i, pos, byte) => {
                let file = &w.files[0];
                let s = (*i as usize * BS).min(file.len());
                let mut m = block(0, *i, &file[s..(s + BS).min(file.len())]);
                let at = pos % m.len();
                m[at] = *byte;
                d.msg(DATA, &m);
            }
            Op::Http(f, o, n) => {
                let file = &w.files[*f as usize];
                let s = (*o as usize).min(file.len());
                let e = (s + *n as usize).min(file.len());
                d.agent.handle_http_data(d.now, *o, &file[s..e]);
                d.pump();
            }
            Op::HttpDone(status) => {
                let outcome = match status {
                    200 => HttpOutcome::Complete,
                    s => HttpOutcome::Failed { status: *s },
                };
                d.agent.handle_http_done(d.now, outcome);
                d.pump();
            }
            Op::Advance(ms) => {
                d.advance(*ms as u64);
                if let Some(t) = d.agent.poll_timeout() {
                    prop_assert!(t > d.now, "deadline {t:?} left in the past at {:?}", d.now);
                }
            }
            Op::AckAll => d.ack_all(),
            Op::Api(k) => {
                let now = d.now;
                let a = &mut d.agent;
                let _ = match k {
                    0 => a.suspend(),
                    1 => a.resume(now),
                    2 => a.check_for_update(now),
                    3 => a.set_image_state(now, ImageVerdict::Accepted),
                    4 => a.set_image_state(now, ImageVerdict::Rejected),
                    5 => a.set_image_state(now, ImageVerdict::Aborted),
                    6 => a.activate_new_image(now),
                    7 => {
                        a.shutdown(true);
                        Ok(())
                    }
                    8 => a.start(now),
                    _ => {
                        let _ = (a.state(), a.statistics(), a.progress(), a.image_state());
                        Ok(())
                    }
                };
                d.pump();
            }
        }
        prop_assert_eq!(d.pf().slot.violations, 0);
        for e in d.take_events() {
            if e == Event::Activate {
                let id = std::string::String::from(d.agent.job_id().unwrap_or_default());
                let file = if id == "job-b" {
                    &w.files[1]
                } else {
                    &w.files[0]
                };
                prop_assert_eq!(
                    &d.pf().slot.mem[..file.len()],
                    &file[..],
                    "activate for {}",
                    id
                );
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_input_sequences(ops in proptest::collection::vec(op(), 1..80), on_trial in proptest::bool::weighted(0.2)) {
        run(&ops, on_trial)?;
    }
}

/// The same, biased towards completing downloads (in-order blocks).
#[test]
fn random_sequences_that_complete_downloads() {
    let mut ops = std::vec![Op::Job(0)];
    for i in 0..10 {
        ops.push(Op::Block(0, i));
    }
    ops.push(Op::AckAll);
    ops.push(Op::Api(6));
    run(&ops, false).unwrap();
}
