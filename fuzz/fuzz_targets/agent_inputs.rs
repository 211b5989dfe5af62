//! Whole input sequences into the agent: messages (valid, mutated, raw),
//! HTTP data, timeouts, acknowledgements and API calls. The platform panics
//! on any write outside the slot or over unerased flash; the target asserts
//! that no deadline is left in the past and that `Activate` only ever comes
//! with the signed file in the slot. A run is bounded by the input length.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use ota_agent::testing::RamPlatform;
use ota_agent::{
    Agent, Config, DeliveryToken, Event, HttpOutcome, ImageVerdict, Instant, Transmit,
};
use ota_agent_fuzz::{artifacts, block, platform};

const THING: &str = "t";
const BS: usize = 1024;

#[derive(Arbitrary, Debug)]
enum Op {
    Job(u8),
    MutatedJob(u8, u16, u8),
    RawJob(Vec<u8>),
    Block(bool, u8),
    MutatedBlock(u8, u16, u8),
    RawBlock(Vec<u8>),
    Http(bool, u16, u16),
    HttpDone(u16),
    Advance(u32),
    Deliver(u8),
    Api(u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    on_trial: bool,
    ops: Vec<Op>,
}

fuzz_target!(|input: Input| {
    let a = artifacts();
    let config = Config {
        block_size: BS as u32,
        blocks_per_request: 3,
        resume_every_blocks: 2,
        max_retries: 4,
        ..Config::default()
    };
    let mut agent: Agent<RamPlatform, 64> =
        Agent::new(config, THING, platform(input.on_trial)).unwrap();
    let mut now = Instant::from_millis(0);
    let _ = agent.start(now);
    let mut tokens: Vec<DeliveryToken> = Vec::new();
    let data = "$aws/things/t/streams/S/data/cbor";
    let jobs = "$aws/things/t/jobs/notify-next";
    for op in input.ops.iter().take(200) {
        match op {
            Op::Job(k) => {
                agent.handle_message(now, jobs, a.docs[*k as usize % a.docs.len()].as_bytes());
            }
            Op::MutatedJob(k, pos, byte) => {
                let mut d = a.docs[*k as usize % a.docs.len()].clone().into_bytes();
                let at = *pos as usize % d.len();
                d[at] = *byte;
                agent.handle_message(now, jobs, &d);
            }
            Op::RawJob(bytes) => {
                agent.handle_message(now, jobs, bytes);
            }
            Op::Block(second, i) => {
                let f = &a.files[*second as usize];
                let s = (*i as usize % 16 * BS).min(f.len());
                agent.handle_message(
                    now,
                    data,
                    &block(*i as u32 % 16, &f[s..(s + BS).min(f.len())]),
                );
            }
            Op::MutatedBlock(i, pos, byte) => {
                let f = &a.files[0];
                let s = (*i as usize % 16 * BS).min(f.len());
                let mut m = block(*i as u32 % 16, &f[s..(s + BS).min(f.len())]);
                let at = *pos as usize % m.len();
                m[at] = *byte;
                agent.handle_message(now, data, &m);
            }
            Op::RawBlock(bytes) => {
                agent.handle_message(now, data, bytes);
            }
            Op::Http(second, offset, len) => {
                let f = &a.files[*second as usize];
                let s = (*offset as usize).min(f.len());
                let e = (s + *len as usize).min(f.len());
                agent.handle_http_data(now, *offset as u32, &f[s..e]);
            }
            Op::HttpDone(status) => {
                let outcome = if *status == 200 {
                    HttpOutcome::Complete
                } else {
                    HttpOutcome::Failed { status: *status }
                };
                agent.handle_http_done(now, outcome);
            }
            Op::Advance(ms) => {
                now = now.plus_millis(*ms % 100_000);
                agent.handle_timeout(now);
                if let Some(t) = agent.poll_timeout() {
                    assert!(t > now, "a deadline was left in the past");
                }
            }
            Op::Deliver(k) => {
                if !tokens.is_empty() {
                    let t = tokens[*k as usize % tokens.len()];
                    agent.handle_delivered(now, t);
                }
            }
            Op::Api(k) => {
                let _ = match k % 10 {
                    0 => agent.suspend(),
                    1 => agent.resume(now),
                    2 => agent.check_for_update(now),
                    3 => agent.set_image_state(now, ImageVerdict::Accepted),
                    4 => agent.set_image_state(now, ImageVerdict::Rejected),
                    5 => agent.set_image_state(now, ImageVerdict::Aborted),
                    6 => agent.activate_new_image(now),
                    7 => {
                        agent.shutdown(k % 2 == 0);
                        Ok(())
                    }
                    8 => agent.start(now),
                    _ => {
                        let _ = (agent.state(), agent.statistics(), agent.progress());
                        Ok(())
                    }
                };
            }
        }
        while let Some(delivery) = agent.poll_transmit(|t| match t {
            Transmit::Publish { delivery, .. } => delivery,
            _ => None,
        }) {
            tokens.extend(delivery);
        }
        while let Some(e) = agent.poll_event() {
            if e == Event::Activate {
                let id = agent.job_id().unwrap_or_default().to_string();
                let f = if id == "job-b" {
                    &a.files[1]
                } else {
                    &a.files[0]
                };
                assert_eq!(
                    &agent.platform().slot.mem[..f.len()],
                    &f[..],
                    "activate without the file"
                );
            }
        }
    }
});
