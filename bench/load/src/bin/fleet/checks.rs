//! The checks of a fleet run: every device runs the new version,
//! confirmed, and every execution of the job is SUCCEEDED.

use ota_agent_host::image::format_version;

use super::report::Measured;

/// Prints the checks; whether every device runs the new version, confirmed,
/// and every execution of the job is SUCCEEDED.
pub fn print(m: &Measured) -> bool {
    let wanted = format_version(&m.version);
    let mut bad_devices = Vec::new();
    for ((thing, status), marks) in m.things.iter().zip(&m.statuses).zip(&m.marks) {
        if status.boot.version != m.version || !status.confirmed {
            bad_devices.push(format!(
                "{thing} (runs {} {}, agent {:?}{})",
                format_version(&status.boot.version),
                if status.confirmed {
                    "confirmed"
                } else {
                    "on trial"
                },
                status.state,
                marks
                    .failure
                    .as_ref()
                    .map_or_else(String::new, |f| format!(", {f}"))
            ));
        }
    }
    let mut bad_executions = Vec::new();
    for thing in &m.things {
        let execution = m.executions.iter().find(|e| {
            e["thingName"].as_str() == Some(thing.as_str()) && e["jobId"].as_str() == Some(m.job)
        });
        match execution {
            Some(e) if e["status"].as_str() == Some("SUCCEEDED") => {}
            Some(e) => {
                bad_executions.push(format!("{thing} ({} {})", e["status"], e["statusDetails"]))
            }
            None => bad_executions.push(format!("{thing} (no execution)")),
        }
    }
    let n = m.things.len();
    println!();
    println!("## Checks");
    println!();
    println!(
        "- devices confirmed on {wanted}: {}/{n}{}",
        n - bad_devices.len(),
        list(&bad_devices)
    );
    println!(
        "- executions of {} SUCCEEDED: {}/{n}{}",
        m.job,
        n - bad_executions.len(),
        list(&bad_executions)
    );
    let ok = bad_devices.is_empty() && bad_executions.is_empty();
    println!();
    println!(
        "{}",
        if ok {
            "All checks passed."
        } else {
            "CHECKS FAILED."
        }
    );
    ok
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        String::new()
    } else {
        format!("; NOT: {}", items.join(", "))
    }
}
