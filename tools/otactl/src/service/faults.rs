//! Fault injection on what the service publishes: drop, duplicate, delay or
//! reorder data blocks and Jobs messages, by rule or by seeded probability.

use ota_agent_host::rng::SplitMix64;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::message::{MessageKind, Outgoing};

/// What to do to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Do not publish it.
    Drop,
    /// Publish it twice.
    Duplicate,
    /// Publish it this much later.
    Delay(Duration),
    /// Hold it back until the next message for the same thing has been
    /// published (or at most [`REORDER_HOLD`]).
    Reorder,
}

/// The longest a reordered message is held back.
pub const REORDER_HOLD: Duration = Duration::from_millis(500);

/// Which messages a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultTarget {
    /// GetStream answers: data blocks and `rejected/cbor` errors.
    Data,
    /// Jobs replies (`get`/`update` accepted and rejected) and notify-next.
    Jobs,
    /// Everything.
    All,
}

/// One fault rule. The first rule that matches a message and fires (by its
/// probability, while it has firings left) decides its fate.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultRule {
    /// What to do.
    pub action: FaultAction,
    /// Which messages.
    pub target: FaultTarget,
    /// Chance of firing on a matching message, 0.0..=1.0.
    pub probability: f64,
    /// Only messages for this thing.
    pub thing: Option<String>,
    /// Only data messages carrying this block index.
    pub block: Option<u32>,
    /// Only messages whose topic contains this text (e.g. `notify-next`).
    pub topic_contains: Option<String>,
    /// Fire at most this many times.
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule that always fires on every message of `target`.
    pub fn new(action: FaultAction, target: FaultTarget) -> Self {
        FaultRule {
            action,
            target,
            probability: 1.0,
            thing: None,
            block: None,
            topic_contains: None,
            times: None,
        }
    }

    /// Fire with this probability.
    pub fn with_probability(mut self, probability: f64) -> Self {
        self.probability = probability;
        self
    }

    /// Only for messages to `thing`.
    pub fn for_thing(mut self, thing: &str) -> Self {
        self.thing = Some(thing.to_owned());
        self
    }

    /// Only for the data message of block `index`.
    pub fn for_block(mut self, index: u32) -> Self {
        self.block = Some(index);
        self
    }

    /// Only for topics containing `text`.
    pub fn topic_contains(mut self, text: &str) -> Self {
        self.topic_contains = Some(text.to_owned());
        self
    }

    /// Fire at most `n` times.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }

    fn matches(&self, message: &Outgoing) -> bool {
        let target = match (&self.target, &message.kind) {
            (FaultTarget::All, _) => true,
            (FaultTarget::Data, kind) => {
                matches!(
                    kind,
                    MessageKind::StreamData { .. } | MessageKind::StreamRejected { .. }
                )
            }
            (FaultTarget::Jobs, kind) => {
                matches!(kind, MessageKind::JobReply | MessageKind::NotifyNext)
            }
        };
        let block = match (self.block, &message.kind) {
            (None, _) => true,
            (Some(want), MessageKind::StreamData { block, .. }) => want == *block,
            (Some(_), _) => false,
        };
        target
            && block
            && self.thing.as_ref().is_none_or(|t| *t == message.thing)
            && self
                .topic_contains
                .as_ref()
                .is_none_or(|t| message.topic.contains(t.as_str()))
    }
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action {
            FaultAction::Drop => f.write_str("drop")?,
            FaultAction::Duplicate => f.write_str("duplicate")?,
            FaultAction::Delay(d) => write!(f, "delay={}", d.as_millis())?,
            FaultAction::Reorder => f.write_str("reorder")?,
        }
        let target = match self.target {
            FaultTarget::Data => "data",
            FaultTarget::Jobs => "jobs",
            FaultTarget::All => "all",
        };
        write!(f, ":{target}@{}", self.probability)
    }
}

impl FromStr for FaultRule {
    type Err = String;

    /// `ACTION[:TARGET][@PROBABILITY]`, where ACTION is `drop`, `duplicate`,
    /// `reorder` or `delay=MILLISECONDS`, and TARGET is `data`, `jobs` or
    /// `all` (default `data`). Examples: `drop:data@0.05`, `delay=200:jobs`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (rest, probability) = match s.split_once('@') {
            Some((rest, p)) => {
                let p: f64 = p
                    .parse()
                    .map_err(|_| format!("bad probability {p:?} in {s:?}"))?;
                if !(0.0..=1.0).contains(&p) {
                    return Err(format!("probability {p} in {s:?} is not in 0..=1"));
                }
                (rest, p)
            }
            None => (s, 1.0),
        };
        let (action, target) = rest.split_once(':').unwrap_or((rest, "data"));
        let action = match action {
            "drop" => FaultAction::Drop,
            "duplicate" => FaultAction::Duplicate,
            "reorder" => FaultAction::Reorder,
            other => match other.strip_prefix("delay=") {
                Some(ms) => FaultAction::Delay(Duration::from_millis(
                    ms.parse()
                        .map_err(|_| format!("bad delay {ms:?} in {s:?} (milliseconds)"))?,
                )),
                None => {
                    return Err(format!(
                        "unknown fault action {other:?} (drop, duplicate, reorder, delay=MS)"
                    ))
                }
            },
        };
        let target = match target {
            "data" => FaultTarget::Data,
            "jobs" => FaultTarget::Jobs,
            "all" => FaultTarget::All,
            other => return Err(format!("unknown fault target {other:?} (data, jobs, all)")),
        };
        Ok(FaultRule::new(action, target).with_probability(probability))
    }
}

/// The fault rules and the seed of their random choices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FaultConfig {
    /// Seeds the probabilities: the same seed and the same messages give the
    /// same faults.
    pub seed: u64,
    /// Tried in order.
    pub rules: Vec<FaultRule>,
}

/// Applies a [`FaultConfig`] to outgoing messages.
pub(crate) struct FaultInjector {
    rules: Vec<FaultRule>,
    rng: SplitMix64,
}

impl FaultInjector {
    pub fn new(config: FaultConfig) -> Self {
        FaultInjector {
            rules: config.rules,
            rng: SplitMix64::new(config.seed),
        }
    }

    /// What to do to `message`, if anything.
    pub fn decide(&mut self, message: &Outgoing) -> Option<FaultAction> {
        for rule in &mut self.rules {
            if rule.times == Some(0) || !rule.matches(message) {
                continue;
            }
            if rule.probability < 1.0 && self.rng.next_f64() >= rule.probability {
                continue;
            }
            if let Some(times) = &mut rule.times {
                *times -= 1;
            }
            return Some(rule.action);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rumqttc::QoS;

    fn data(thing: &str, block: u32) -> Outgoing {
        Outgoing {
            topic: format!("$aws/things/{thing}/streams/S/data/cbor"),
            payload: vec![],
            qos: QoS::AtMostOnce,
            thing: thing.into(),
            kind: MessageKind::StreamData {
                stream: "S".into(),
                file: 0,
                block,
                len: 0,
            },
        }
    }

    fn notify(thing: &str) -> Outgoing {
        Outgoing {
            topic: format!("$aws/things/{thing}/jobs/notify-next"),
            payload: vec![],
            qos: QoS::AtLeastOnce,
            thing: thing.into(),
            kind: MessageKind::NotifyNext,
        }
    }

    #[test]
    fn rules_match_and_count_down() {
        let mut f = FaultInjector::new(FaultConfig {
            seed: 1,
            rules: vec![
                FaultRule::new(FaultAction::Drop, FaultTarget::Data)
                    .for_block(2)
                    .for_thing("a")
                    .times(1),
                FaultRule::new(FaultAction::Duplicate, FaultTarget::Jobs)
                    .topic_contains("notify-next"),
            ],
        });
        assert_eq!(f.decide(&data("a", 1)), None);
        assert_eq!(f.decide(&data("b", 2)), None);
        assert_eq!(f.decide(&data("a", 2)), Some(FaultAction::Drop));
        assert_eq!(f.decide(&data("a", 2)), None, "fired once already");
        assert_eq!(f.decide(&notify("a")), Some(FaultAction::Duplicate));
    }

    #[test]
    fn probabilities_are_seeded() {
        let run = |seed| {
            let rule = FaultRule::new(FaultAction::Drop, FaultTarget::All).with_probability(0.3);
            let mut f = FaultInjector::new(FaultConfig {
                seed,
                rules: vec![rule],
            });
            (0..1000)
                .map(|i| f.decide(&data("a", i)).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let dropped = run(7).iter().filter(|d| **d).count();
        assert!((250..350).contains(&dropped), "{dropped} of 1000 at p=0.3");
    }

    #[test]
    fn parse_rules() {
        let r: FaultRule = "drop:data@0.05".parse().unwrap();
        assert_eq!(
            (r.action, r.target, r.probability),
            (FaultAction::Drop, FaultTarget::Data, 0.05)
        );
        let r: FaultRule = "delay=200:jobs".parse().unwrap();
        assert_eq!(r.action, FaultAction::Delay(Duration::from_millis(200)));
        assert_eq!(r.target, FaultTarget::Jobs);
        assert_eq!(
            "reorder".parse::<FaultRule>().unwrap().target,
            FaultTarget::Data
        );
        assert_eq!(
            "duplicate:all@1".parse::<FaultRule>().unwrap().to_string(),
            "duplicate:all@1"
        );
        for bad in ["explode", "drop:nowhere", "drop@2", "drop@x", "delay=soon"] {
            assert!(bad.parse::<FaultRule>().is_err(), "{bad}");
        }
    }
}
