//! The throughput table.

use std::time::Duration;

use ota_agent::Config;
use ota_agent_bench::summary::{median, print_table};

use super::agent::Times;
use super::cases::{Case, BLOCK_SIZE};
use super::Args;

/// One line of the table: every run of one case at one image size.
pub struct Row {
    /// The nominal image size, in MiB.
    pub mib: usize,
    /// The image's size.
    pub image_len: usize,
    /// The case.
    pub case: Case,
    /// Each agent update.
    pub agent: Vec<Times>,
    /// Each raw transfer with the agent's pacing.
    pub raw: Vec<Duration>,
    /// Each raw transfer as one stream (shared by the rows of a data plane).
    pub stream: Vec<Duration>,
}

impl Row {
    /// A row with no runs yet.
    pub fn new(mib: usize, image_len: usize, case: Case) -> Self {
        Row {
            mib,
            image_len,
            case,
            agent: Vec::new(),
            raw: Vec::new(),
            stream: Vec::new(),
        }
    }
}

/// What the run does.
pub fn print_parameters(args: &Args) {
    let d = Config::default();
    let sizes: Vec<String> = args.sizes_mib.iter().map(|m| format!("{m} MiB")).collect();
    println!(
        "- parameters: images of {}; {} runs per case (medians shown); blocks of {} bytes",
        sizes.join(" and "),
        args.runs,
        BLOCK_SIZE
    );
    println!(
        "- agent: Config::default() but the block size and the case's request size (request \
         timeout {} ms, status every {} blocks, resume record every {} blocks); a fresh device \
         per run (flash model in a file, slots sized for the image), no activation delay",
        d.request_timeout_ms, d.status_every_blocks, d.resume_every_blocks
    );
    println!(
        "- setup: mosquitto on 127.0.0.1 (a free port); the OTA service in this process (the \
         otactl service library, its own MQTT client and HTTP file server); devices in this process"
    );
}

/// The table and how to read it.
pub fn print_results(rows: &[Row]) {
    let header = [
        "image",
        "data plane",
        "agent: to Activate",
        "agent: full update",
        "agent MiB/s",
        "raw, same pacing MiB/s",
        "agent / raw",
        "raw stream MiB/s",
        "agent / stream",
    ];
    let table: Vec<Vec<String>> = rows.iter().map(line).collect();
    println!();
    println!("## Medians");
    println!();
    print_table(&header, &table);
    println!();
    println!("## Every run (seconds)");
    println!();
    let runs: Vec<Vec<String>> = rows.iter().map(runs).collect();
    print_table(
        &[
            "image",
            "data plane",
            "agent to Activate",
            "agent full update",
            "raw, same pacing",
            "raw stream",
            "agent messages received / dropped",
        ],
        &runs,
    );
    println!();
    println!("{NOTES}");
}

fn line(row: &Row) -> Vec<String> {
    let secs = |d: &[Duration]| median(&d.iter().map(Duration::as_secs_f64).collect::<Vec<_>>());
    let activate: Vec<Duration> = row.agent.iter().map(|t| t.activate).collect();
    let full: Vec<Duration> = row.agent.iter().map(|t| t.confirmed).collect();
    let mib = row.image_len as f64 / (1024.0 * 1024.0);
    let rate = |s: Option<f64>| s.filter(|s| *s > 0.0).map(|s| mib / s);
    let (agent, raw, stream) = (
        rate(secs(&activate)),
        rate(secs(&row.raw)),
        rate(secs(&row.stream)),
    );
    let show =
        |v: Option<f64>, unit: &str| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.3}{unit}"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}", a / b),
        _ => "-".to_owned(),
    };
    vec![
        image(row),
        row.case.to_string(),
        show(secs(&activate), " s"),
        show(secs(&full), " s"),
        show(agent, ""),
        show(raw, ""),
        ratio(agent, raw),
        show(stream, ""),
        ratio(agent, stream),
    ]
}

/// `1 MiB (1048104 B)`.
fn image(row: &Row) -> String {
    format!("{} MiB ({} B)", row.mib, row.image_len)
}

fn runs(row: &Row) -> Vec<String> {
    let list = |d: &mut dyn Iterator<Item = Duration>| {
        d.map(|d| format!("{:.3}", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let messages: Vec<String> = row
        .agent
        .iter()
        .map(|t| format!("{}/{}", t.received, t.dropped))
        .collect();
    vec![
        image(row),
        row.case.to_string(),
        list(&mut row.agent.iter().map(|t| t.activate)),
        list(&mut row.agent.iter().map(|t| t.confirmed)),
        list(&mut row.raw.iter().copied()),
        list(&mut row.stream.iter().copied()),
        messages.join(" "),
    ]
}

const NOTES: &str = "\
How to read it. \"agent: to Activate\" runs from the job's creation (ServiceApi::create_job) to
the agent's Activate event: notify-next, the job document, every block or range, the flash
writes, SHA-256, the signature and MCUboot checks, the status updates. \"full update\" goes on
through the reboot (the simulated MCUboot's swap), the reconnection, the self test and the
commit. agent MiB/s is the image size over the time to Activate. The image sizes are the
MCUboot image's (B: bytes), MiB = 2^20 bytes. \"raw, same pacing\" moves the same bytes through the same
broker (MQTT: a rumqttc client asks a rumqttc responder for n blocks, waits for the n 4 KiB
messages, asks again) or the same HTTP file server (the same ranges, one after the other, with
a plain ureq client). \"raw stream\" asks once for the whole file: every block back to back
over MQTT, or one GET without a range over HTTP. agent / raw is the ratio of the rates: 1.0
would mean the agent costs nothing beyond moving the bytes. Agent and paced raw runs
alternate; the stream runs come first for each size. Nothing here asserts a figure.";
