//! What the fleet run measured, the printed report, and the checks.

use std::time::{Duration, Instant};

use ota_agent::mcuboot::ImageVersion;
use ota_agent::Config;
use ota_agent_bench::procstat::{self, Usage};
use ota_agent_bench::summary::{self, mib_per_s, percentile, print_table, rate, seconds};
use ota_agent_bench::tracker::Marks;
use ota_agent_host::DeviceStatus;
use serde_json::Value;

use super::checks;
use super::serve::OtactlServe;
use super::Args;

/// The counters and resource usage at one moment.
pub struct Snapshot {
    broker: Usage,
    service: Usage,
    devices: Usage,
    stats: Value,
}

impl Snapshot {
    /// Reads the three processes' usage and the service's counters.
    pub fn take(service: &OtactlServe, broker_pid: u32) -> anyhow::Result<Snapshot> {
        Ok(Snapshot {
            broker: procstat::usage(broker_pid)?,
            service: procstat::usage(service.pid())?,
            devices: procstat::usage(std::process::id())?,
            stats: service.stats()?,
        })
    }

    /// A counter of the service (`/stream_requests`, `/blocks_by_stream/S`...).
    fn counter(&self, pointer: &str) -> u64 {
        self.stats
            .pointer(pointer)
            .and_then(Value::as_u64)
            .unwrap_or(0)
    }
}

/// Everything the report needs.
pub struct Measured {
    /// The thing names, in device order.
    pub things: Vec<String>,
    /// Their marks when the wait ended.
    pub marks: Vec<Marks>,
    /// Their status then.
    pub statuses: Vec<DeviceStatus>,
    /// Every execution in the service (admin API JSON).
    pub executions: Vec<Value>,
    /// Before the job was created.
    pub before: Snapshot,
    /// After the wait.
    pub after: Snapshot,
    /// When the job was created.
    pub started: Instant,
    /// When the wait for the devices ended.
    pub ended: Instant,
    /// How long the devices took to start and connect.
    pub startup: Duration,
    /// The version delivered.
    pub version: ImageVersion,
    /// Its image's size.
    pub image_len: usize,
    /// The stream.
    pub stream: &'static str,
    /// The job.
    pub job: &'static str,
    /// The broker's process.
    pub broker_pid: u32,
    /// The service's process.
    pub service_pid: u32,
}

/// The parameters of the run.
pub fn print_parameters(args: &Args, agent: &Config, image_len: usize) {
    let blocks = image_len.div_ceil(args.block_size as usize);
    println!(
        "- parameters: {} devices; image {image_len} bytes ({blocks} blocks of {}); {}",
        args.devices,
        summary::size(u64::from(args.block_size)),
        if args.http {
            format!(
                "HTTP, ranges of {}",
                summary::size(u64::from(agent.http_range_size))
            )
        } else {
            format!(
                "MQTT streams, {} blocks per request",
                agent.blocks_per_request
            )
        }
    );
    println!(
        "- agent: request timeout {} ms, status every {} blocks, resume record every {} blocks; \
         devices: nrf52840 flash model in files, no activation delay, self test passes",
        agent.request_timeout_ms, agent.status_every_blocks, agent.resume_every_blocks
    );
    println!(
        "- setup: mosquitto on 127.0.0.1 (a free port), `otactl serve --broker` as a separate \
         process driven through its admin API, the devices in this process (3 threads each)"
    );
}

/// Prints the results and the checks; whether every check held.
pub fn print_results(args: &Args, m: &Measured) -> bool {
    let since = |t: Instant| t.saturating_duration_since(m.started).as_secs_f64();
    let activated: Vec<f64> = m
        .marks
        .iter()
        .filter_map(|k| k.activate.map(|(t, _)| since(t)))
        .collect();
    let confirmed: Vec<f64> = m
        .marks
        .iter()
        .filter_map(|k| {
            k.confirmed
                .filter(|(_, v)| *v == m.version)
                .map(|(t, _)| since(t))
        })
        .collect();
    let all_confirmed = confirmed.len() == m.marks.len();
    // Until the last commit; or, if some device never committed, until the
    // wait gave up.
    let wall = if all_confirmed {
        Duration::from_secs_f64(confirmed.iter().copied().fold(0.0, f64::max))
    } else {
        m.ended.saturating_duration_since(m.started)
    };
    let delta = |p: &str| m.after.counter(p).saturating_sub(m.before.counter(p));
    let blocks = delta(&format!("/blocks_by_stream/{}", m.stream));
    let block_bytes = delta("/block_bytes");
    let http_bytes = delta("/http_bytes");
    let needed = m.image_len.div_ceil(args.block_size as usize) as u64 * m.things.len() as u64;

    println!();
    println!("## Results");
    println!();
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |what: &str, value: String| rows.push(vec![what.to_owned(), value]);
    row(
        "devices started and idle (before the job)",
        seconds(m.startup),
    );
    row(
        "wall time, job created -> last device confirmed",
        if all_confirmed {
            seconds(wall)
        } else {
            format!(
                "{} of {} confirmed; gave up after {}",
                confirmed.len(),
                m.marks.len(),
                seconds(wall)
            )
        },
    );
    row(
        "download complete (Activate), per device",
        spread(&activated),
    );
    row(
        "confirmed on the new version, per device",
        spread(&confirmed),
    );
    if args.http {
        row(
            "HTTP range requests served",
            delta("/http_requests").to_string(),
        );
        row(
            "HTTP bytes served",
            format!("{http_bytes} ({})", mib_per_s(http_bytes, wall)),
        );
    } else {
        row(
            "blocks delivered by the service",
            format!(
                "{blocks} ({needed} needed: {} per device)",
                needed / m.things.len() as u64
            ),
        );
        row(
            "blocks per second",
            format!("{:.0}", rate(blocks as f64, wall)),
        );
        row(
            "block bytes per second",
            format!("{block_bytes} bytes, {}", mib_per_s(block_bytes, wall)),
        );
        row("GetStream requests", delta("/stream_requests").to_string());
    }
    row(
        "Jobs requests (get, update)",
        delta("/job_requests").to_string(),
    );
    row(
        "devices: data messages received / written / dropped",
        device_messages(&m.marks),
    );
    row(
        "devices: reboots / lost connections / failed connects",
        reconnects(&m.marks),
    );
    for (name, pid, before, after) in [
        (
            "broker (mosquitto)",
            m.broker_pid,
            &m.before.broker,
            &m.after.broker,
        ),
        (
            "service (otactl serve)",
            m.service_pid,
            &m.before.service,
            &m.after.service,
        ),
        (
            "devices' process (this one)",
            std::process::id(),
            &m.before.devices,
            &m.after.devices,
        ),
    ] {
        row(&format!("CPU, {name}, pid {pid}"), cpu(before, after, wall));
    }
    for (name, usage, per) in [
        ("broker", &m.after.broker, 1),
        ("service", &m.after.service, 1),
        ("devices' process", &m.after.devices, m.things.len()),
    ] {
        row(&format!("peak RSS, {name}"), peak(usage, per));
    }
    print_table(&["measure", "value"], &rows);
    println!();
    println!(
        "Times are from the moment the job was created (POST /jobs sent), stamped by each \
         device as the event happened. CPU is user + system time from /proc/PID/stat between \
         job creation and the end of the wait; \"cores\" is that over the wall time."
    );
    checks::print(m)
}

/// first / median / p90 / last, in seconds.
fn spread(values: &[f64]) -> String {
    let get = |p: f64| percentile(values, p).map_or_else(|| "-".to_owned(), |v| format!("{v:.3}"));
    format!(
        "first {} / median {} / p90 {} / last {} s ({} devices)",
        get(0.0),
        summary::median(values).map_or_else(|| "-".to_owned(), |v| format!("{v:.3}")),
        get(90.0),
        get(100.0),
        values.len()
    )
}

fn device_messages(marks: &[Marks]) -> String {
    let (mut received, mut processed, mut dropped) = (0u64, 0u64, 0u64);
    for (_, s) in marks.iter().filter_map(|m| m.activate) {
        received += u64::from(s.received);
        processed += u64::from(s.processed);
        dropped += u64::from(s.dropped);
    }
    format!("{received} / {processed} / {dropped} (agent statistics at Activate, summed)")
}

fn reconnects(marks: &[Marks]) -> String {
    let sum = |f: fn(&Marks) -> u32| marks.iter().map(|m| u64::from(f(m))).sum::<u64>();
    format!(
        "{} / {} / {}",
        sum(|m| m.reboots),
        sum(|m| m.disconnects),
        sum(|m| m.unreachable)
    )
}

fn cpu(before: &Usage, after: &Usage, wall: Duration) -> String {
    let used = after.cpu.saturating_sub(before.cpu);
    format!(
        "{:.2} s ({:.2} cores)",
        used.as_secs_f64(),
        rate(used.as_secs_f64(), wall)
    )
}

fn peak(usage: &Usage, per: usize) -> String {
    match usage.peak_rss_kib {
        Some(kib) if per > 1 => format!(
            "{:.1} MiB ({:.2} MiB per device)",
            kib as f64 / 1024.0,
            kib as f64 / 1024.0 / per as f64
        ),
        Some(kib) => format!("{:.1} MiB", kib as f64 / 1024.0),
        None => "unknown".to_owned(),
    }
}
