//! CPU time and peak resident memory of a process, read from `/proc`
//! (Linux only).

use std::fs;
use std::io;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// What a process has used so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    /// User plus system CPU time, all threads.
    pub cpu: Duration,
    /// Peak resident set size (`VmHWM`), in KiB.
    pub peak_rss_kib: Option<u64>,
}

/// The usage of process `pid` now.
pub fn usage(pid: u32) -> io::Result<Usage> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let fields = fields_after_comm(&stat)?;
    // Fields 14 and 15 of proc(5): utime and stime, in clock ticks; the
    // first field after the command name is field 3.
    let ticks = |n: usize| -> io::Result<u64> {
        fields
            .get(n - 3)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| malformed(pid))
    };
    let total = ticks(14)? + ticks(15)?;
    let cpu = Duration::from_secs_f64(total as f64 / clock_ticks() as f64);
    let peak_rss_kib = fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| status_kib(&status, "VmHWM:"));
    Ok(Usage { cpu, peak_rss_kib })
}

/// The whitespace-separated fields after `(comm)`, which may hold spaces.
fn fields_after_comm(stat: &str) -> io::Result<Vec<&str>> {
    let end = stat
        .rfind(')')
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no ')' in stat"))?;
    Ok(stat[end + 1..].split_whitespace().collect())
}

fn malformed(pid: u32) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("unexpected /proc/{pid}/stat"),
    )
}

/// A `Key:   1234 kB` line of `/proc/PID/status`.
fn status_kib(status: &str, key: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Clock ticks per second (`getconf CLK_TCK`; 100, the Linux value, if
/// that cannot be run).
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_and_status_lines() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 3";
        let fields = fields_after_comm(stat).unwrap();
        assert_eq!(fields[0], "S");
        assert_eq!(fields[14 - 3], "250");
        assert_eq!(fields[15 - 3], "50");
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t  1234 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(1234));
        assert_eq!(status_kib(status, "VmRSS:"), None);
    }

    #[test]
    fn this_process_is_readable() {
        let usage = usage(std::process::id()).unwrap();
        assert!(usage.peak_rss_kib.is_some_and(|kib| kib > 0));
    }
}
