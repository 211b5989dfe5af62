//! The HTTP floor: the same ranges from the same file server, fetched one
//! after the other by a plain ureq client with no agent and no flash.

use std::io::Read;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// Fetches `url` (a file of `file_len` bytes) in ranges of `range` bytes,
/// one at a time; the time taken.
pub fn ranges(url: &str, file_len: usize, range: usize) -> anyhow::Result<Duration> {
    let agent = agent();
    let started = Instant::now();
    let mut bytes = 0;
    for first in (0..file_len).step_by(range) {
        let last = (first + range).min(file_len) - 1;
        bytes += get(&agent, url, Some((first, last)))?;
    }
    let elapsed = started.elapsed();
    if bytes != file_len {
        bail!("received {bytes} bytes of {file_len}");
    }
    Ok(elapsed)
}

/// Fetches the whole file with one GET; the time taken.
pub fn whole(url: &str, file_len: usize) -> anyhow::Result<Duration> {
    let agent = agent();
    let started = Instant::now();
    let bytes = get(&agent, url, None)?;
    let elapsed = started.elapsed();
    if bytes != file_len {
        bail!("received {bytes} bytes of {file_len}");
    }
    Ok(elapsed)
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .max_redirects(0)
        .build()
        .into()
}

/// One GET, the body read and counted (not kept); its length.
fn get(agent: &ureq::Agent, url: &str, range: Option<(usize, usize)>) -> anyhow::Result<usize> {
    let mut request = agent.get(url);
    if let Some((first, last)) = range {
        request = request.header("Range", format!("bytes={first}-{last}"));
    }
    let mut response = request.call().context("GET")?;
    let expected = if range.is_some() { 206 } else { 200 };
    if response.status().as_u16() != expected {
        bail!("GET answered {}", response.status());
    }
    let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match reader.read(&mut buf).context("reading the body")? {
            0 => return Ok(total),
            n => total += n,
        }
    }
}
