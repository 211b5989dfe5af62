//! The transition table (PROTOCOL.md §7.3, with the fixes): from each state,
//! each input, the state after.

use super::harness::*;
use crate::{BootState, ImageVerdict, State};

const DATA: &str = "streams/AFR_OTA-stream-1/data/cbor";

/// The situations the table starts from.
#[derive(Clone, Copy, Debug)]
enum Situation {
    Init,
    Idle,
    Downloading,
    Reporting,
    AwaitingActivation,
    SelfTest,
    Suspended,
    Stopped,
}

fn file() -> std::vec::Vec<u8> {
    image(20_000, (1, 1, 0))
}

fn setup(from: Situation) -> Dut {
    let f = file();
    let spec = JobSpec::for_file("j", &f);
    let mut p = platform(1 << 20, V1);
    if matches!(from, Situation::SelfTest) {
        p.boot.state = BootState::PendingCommit;
        p.boot.version = crate::Version::new(1, 0, 1);
    }
    let mut d = Dut::new(config(), p);
    if matches!(from, Situation::Init) {
        return d;
    }
    d.agent.start(d.now).unwrap();
    d.pump();
    match from {
        Situation::Idle => {
            d.job(&no_job());
        }
        Situation::Downloading | Situation::Suspended => {
            d.job(&spec.doc());
            if matches!(from, Situation::Suspended) {
                d.agent.suspend().unwrap();
            }
        }
        Situation::Reporting | Situation::AwaitingActivation => {
            d.job(&spec.doc());
            d.download("AFR_OTA-stream-1", &f);
            if matches!(from, Situation::AwaitingActivation) {
                d.ack_all();
            }
        }
        Situation::SelfTest => {
            d.job(&spec.self_test("0x01000000").doc());
        }
        Situation::Stopped => d.agent.shutdown(false),
        Situation::Init => unreachable!(),
    }
    d
}

#[derive(Clone, Copy, Debug)]
enum Input {
    Start,
    NewJob,
    NoJob,
    Block,
    Timeout,
    Suspend,
    Resume,
    Check,
    Abort,
    Shutdown,
}

fn apply(d: &mut Dut, input: Input) {
    let now = d.now;
    let f = file();
    let _ = match input {
        Input::Start => d.agent.start(now).map(|_| ()),
        Input::NewJob => {
            d.job(&JobSpec::for_file("k", &f).doc());
            Ok(())
        }
        Input::NoJob => {
            d.job(&no_job());
            Ok(())
        }
        Input::Block => {
            d.msg(DATA, &block(0, 0, &f[..4096]));
            Ok(())
        }
        Input::Timeout => {
            d.advance(10_000);
            Ok(())
        }
        Input::Suspend => d.agent.suspend(),
        Input::Resume => d.agent.resume(now),
        Input::Check => d.agent.check_for_update(now),
        Input::Abort => d.agent.set_image_state(now, ImageVerdict::Aborted),
        Input::Shutdown => {
            d.agent.shutdown(false);
            Ok(())
        }
    };
    d.pump();
}

use Input as I;
use Situation as F;
use State as S;

/// (from, input, state after the port drained the outputs)
const TABLE: &[(Situation, Input, State)] = &[
    (F::Init, I::Start, S::WaitingForJob),
    (F::Init, I::NewJob, S::Init),
    (F::Init, I::Timeout, S::Init),
    (F::Init, I::Check, S::Init),
    (F::Idle, I::NewJob, S::WaitingForFileBlock),
    (F::Idle, I::NoJob, S::WaitingForJob),
    (F::Idle, I::Block, S::WaitingForJob),
    (F::Idle, I::Timeout, S::WaitingForJob),
    (F::Idle, I::Check, S::WaitingForJob),
    (F::Idle, I::Suspend, S::Suspended),
    (F::Idle, I::Abort, S::WaitingForJob),
    (F::Idle, I::Shutdown, S::Stopped),
    (F::Idle, I::Start, S::WaitingForJob),
    (F::Downloading, I::Block, S::WaitingForFileBlock),
    (F::Downloading, I::Timeout, S::WaitingForFileBlock),
    (F::Downloading, I::NewJob, S::WaitingForJob),
    (F::Downloading, I::NoJob, S::WaitingForJob),
    (F::Downloading, I::Check, S::WaitingForFileBlock),
    (F::Downloading, I::Suspend, S::Suspended),
    (F::Downloading, I::Resume, S::WaitingForFileBlock),
    (F::Downloading, I::Abort, S::WaitingForJob),
    (F::Downloading, I::Shutdown, S::Stopped),
    (F::Reporting, I::Block, S::ClosingFile),
    (F::Reporting, I::NewJob, S::ClosingFile),
    (F::Reporting, I::Timeout, S::ClosingFile),
    (F::Reporting, I::Check, S::ClosingFile),
    (F::Reporting, I::Suspend, S::Suspended),
    (F::Reporting, I::Shutdown, S::Stopped),
    // A different job means this one was cancelled or replaced.
    (F::AwaitingActivation, I::NewJob, S::WaitingForJob),
    (F::AwaitingActivation, I::NoJob, S::WaitingForJob),
    (F::AwaitingActivation, I::Timeout, S::ClosingFile),
    (F::AwaitingActivation, I::Abort, S::WaitingForJob),
    (F::AwaitingActivation, I::Shutdown, S::Stopped),
    (F::SelfTest, I::NewJob, S::Stopped),
    (F::SelfTest, I::NoJob, S::Stopped),
    (F::SelfTest, I::Block, S::WaitingForJob),
    (F::SelfTest, I::Check, S::WaitingForJob),
    (F::SelfTest, I::Abort, S::WaitingForJob),
    (F::SelfTest, I::Suspend, S::Suspended),
    (F::Suspended, I::Block, S::Suspended),
    (F::Suspended, I::NewJob, S::Suspended),
    (F::Suspended, I::Timeout, S::Suspended),
    (F::Suspended, I::Suspend, S::Suspended),
    (F::Suspended, I::Resume, S::WaitingForFileBlock),
    (F::Suspended, I::Shutdown, S::Stopped),
    (F::Stopped, I::NewJob, S::Stopped),
    (F::Stopped, I::Block, S::Stopped),
    (F::Stopped, I::Timeout, S::Stopped),
    (F::Stopped, I::Resume, S::Stopped),
    (F::Stopped, I::Start, S::WaitingForJob),
];

#[test]
fn transition_table() {
    let mut failures = std::vec::Vec::new();
    for &(from, input, expect) in TABLE {
        let mut d = setup(from);
        apply(&mut d, input);
        let got = d.agent.state();
        if got != expect {
            failures.push(std::format!(
                "{from:?} + {input:?}: expected {expect:?}, got {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn intermediate_states_before_the_port_drains() {
    let f = file();
    let mut d = Dut::new(config(), platform(1 << 20, V1));
    d.agent.start(d.now).unwrap();
    assert_eq!(d.agent.state(), State::RequestingJob);
    d.pump();
    d.agent.handle_message(
        d.now,
        topic("jobs/$next/get/accepted"),
        JobSpec::for_file("j", &f).doc().as_bytes(),
    );
    assert_eq!(d.agent.state(), State::CreatingFile);
    d.agent.poll_transmit(|_| ());
    assert_eq!(d.agent.state(), State::RequestingFileBlock);
    d.agent.poll_transmit(|_| ());
    assert_eq!(d.agent.state(), State::WaitingForFileBlock);
}
