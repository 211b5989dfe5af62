//! The way out: counts every message, applies fault injection and publishes
//! through the MQTT client. Delayed and reordered messages go through a
//! timer thread.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Instant;

use rumqttc::Client;

use super::faults::{FaultAction, FaultConfig, FaultInjector, REORDER_HOLD};
use super::lock;
use super::message::Outgoing;
use super::stats::Stats;

/// A message held back by a reorder fault.
struct Held {
    id: u64,
    message: Outgoing,
}

/// Work for the timer thread.
enum Timed {
    /// Publish this at that time.
    Publish(Outgoing),
    /// Publish held message `id` at that time if it is still held.
    Release(u64),
}

/// The timer thread's queue and handle.
type Timer = (Sender<(Instant, Timed)>, JoinHandle<()>);

/// Publishes the service's messages.
pub(crate) struct Outbox {
    client: Client,
    faults: Mutex<FaultInjector>,
    held: Arc<Mutex<Vec<Held>>>,
    next_id: AtomicU64,
    stats: Arc<Mutex<Stats>>,
    timer: Mutex<Option<Timer>>,
}

impl Outbox {
    pub fn new(client: Client, faults: FaultConfig, stats: Arc<Mutex<Stats>>) -> Self {
        let held = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let thread = {
            let client = client.clone();
            let held = Arc::clone(&held);
            thread::Builder::new()
                .name("ota-service-timer".into())
                .spawn(move || run_timer(rx, client, held))
                .expect("spawning a thread")
        };
        Outbox {
            client,
            faults: Mutex::new(FaultInjector::new(faults)),
            held,
            next_id: AtomicU64::new(0),
            stats,
            timer: Mutex::new(Some((tx, thread))),
        }
    }

    /// Replaces the fault rules (and restarts their random sequence).
    pub fn set_faults(&self, faults: FaultConfig) {
        *lock(&self.faults) = FaultInjector::new(faults);
    }

    /// Counts, then publishes each message (or not, or later) as the fault
    /// rules say.
    pub fn send_all(&self, messages: Vec<Outgoing>) {
        for message in messages {
            lock(&self.stats).record(&message);
            self.send(message);
        }
    }

    fn send(&self, message: Outgoing) {
        let action = lock(&self.faults).decide(&message);
        match action {
            None => self.publish_then_release(message, false),
            Some(FaultAction::Drop) => {
                log::debug!("fault: dropped {}", message.topic);
                lock(&self.stats).faults_dropped += 1;
            }
            Some(FaultAction::Duplicate) => {
                lock(&self.stats).faults_duplicated += 1;
                self.publish_then_release(message, true);
            }
            Some(FaultAction::Delay(delay)) => {
                lock(&self.stats).faults_delayed += 1;
                self.schedule(Instant::now() + delay, Timed::Publish(message));
            }
            Some(FaultAction::Reorder) => {
                lock(&self.stats).faults_reordered += 1;
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                lock(&self.held).push(Held { id, message });
                self.schedule(Instant::now() + REORDER_HOLD, Timed::Release(id));
            }
        }
    }

    /// Publishes `message` (twice if `duplicate`), then whatever was held
    /// back for the same thing.
    fn publish_then_release(&self, message: Outgoing, duplicate: bool) {
        if duplicate {
            publish(&self.client, message.clone());
        }
        let thing = message.thing.clone();
        publish(&self.client, message);
        let released: Vec<Held> = {
            let mut held = lock(&self.held);
            let (mine, others) = held.drain(..).partition(|h| h.message.thing == thing);
            *held = others;
            mine
        };
        for h in released {
            publish(&self.client, h.message);
        }
    }

    fn schedule(&self, at: Instant, work: Timed) {
        if let Some((tx, _)) = lock(&self.timer).as_ref() {
            let _ = tx.send((at, work));
        }
    }

    /// Stops the timer thread; delayed messages not yet due are discarded.
    pub fn shutdown(&self) {
        if let Some((tx, thread)) = lock(&self.timer).take() {
            drop(tx);
            let _ = thread.join();
        }
    }
}

fn publish(client: &Client, message: Outgoing) {
    if let Err(e) = client.publish(message.topic.as_str(), message.qos, false, message.payload) {
        log::warn!("publish to {} failed: {e}", message.topic);
    }
}

/// Runs timed work in due order until the outbox is shut down.
fn run_timer(rx: Receiver<(Instant, Timed)>, client: Client, held: Arc<Mutex<Vec<Held>>>) {
    let mut queue: BinaryHeap<Reverse<(Instant, u64)>> = BinaryHeap::new();
    let mut work: HashMap<u64, Timed> = HashMap::new();
    let mut seq = 0u64;
    loop {
        let now = Instant::now();
        while let Some(Reverse((due, key))) = queue.peek().copied() {
            if due > now {
                break;
            }
            queue.pop();
            match work.remove(&key) {
                Some(Timed::Publish(message)) => publish(&client, message),
                Some(Timed::Release(id)) => {
                    let message = {
                        let mut held = lock(&held);
                        held.iter()
                            .position(|h| h.id == id)
                            .map(|i| held.remove(i).message)
                    };
                    if let Some(message) = message {
                        publish(&client, message);
                    }
                }
                None => {}
            }
        }
        let received = match queue.peek() {
            Some(Reverse((due, _))) => {
                rx.recv_timeout(due.saturating_duration_since(Instant::now()))
            }
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok((due, item)) => {
                seq += 1;
                queue.push(Reverse((due, seq)));
                work.insert(seq, item);
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
