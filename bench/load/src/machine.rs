//! The header of a report: when, on what, by which command, from which
//! revision of the repository.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Prints `# title` and the lines that say where the figures come from.
/// `invoked_as` is the command a person typed (the script passes it); the
/// binary's own command line is printed too.
pub fn print_header(title: &str, invoked_as: Option<&str>) {
    println!("# {title}");
    println!();
    println!("- date: {}", utc_now());
    println!("- machine: {}", machine());
    if let Some(command) = invoked_as {
        println!("- command: {command}");
    }
    let argv: Vec<String> = std::env::args().collect();
    println!("- binary: {}", argv.join(" "));
    println!("- build: {}", build_profile());
    println!("- repository: {}", revision());
}

/// `2026-05-01 12:34:56 UTC`.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The proleptic Gregorian date of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Architecture, CPU model, logical CPUs and memory.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("CPU model unknown", |(_, m)| m.trim());
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(String::new, |kib| {
            format!(", {:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0)
        });
    format!(
        "{}, {model}, {cpus} logical CPUs{memory}, Linux {}",
        std::env::consts::ARCH,
        kernel()
    )
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map_or_else(|_| "?".to_owned(), |s| s.trim().to_owned())
}

fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "DEBUG (figures are meaningless: use --release, as the scripts do)"
    } else {
        "release (the workspace's profile)"
    }
}

/// The commit of the repository this was built from, and whether code
/// that runs in the benchmark had uncommitted changes.
fn revision() -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim_end().to_owned())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else {
        return "not a git checkout".to_owned();
    };
    let dirty = git(&[
        "status",
        "--porcelain",
        "--",
        "src",
        "host",
        "tools/otactl",
        "bench/load",
        "Cargo.toml",
    ])
    .filter(|s| !s.is_empty());
    match dirty {
        Some(changes) => {
            let files: Vec<&str> = changes.lines().map(|l| l.get(3..).unwrap_or(l)).collect();
            format!("{head}, with uncommitted changes in {}", files.join(", "))
        }
        None => head,
    }
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        assert_eq!(civil_from_days(20_000), (2024, 10, 4));
    }
}
