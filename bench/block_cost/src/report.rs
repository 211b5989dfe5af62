//! The `report` mode: each figure is this program run once under callgrind,
//! counting only inside a measured function, and the table derived from
//! them.

use crate::measure::{AGENT_SYMBOL, SHA_SYMBOL};
use std::path::Path;
use std::process::Command;

/// Block sizes of the table.
const BLOCK_SIZES: [usize; 2] = [1024, 4096];

/// One agent configuration of the table.
struct Case {
    block: usize,
    per_request: usize,
    reversed: bool,
}

/// For each block size: one block per request, then 16 in order, then 16
/// answered last first.
const CASES: [Case; 6] = {
    const fn case(block: usize, per_request: usize, reversed: bool) -> Case {
        Case {
            block,
            per_request,
            reversed,
        }
    }
    [
        case(BLOCK_SIZES[0], 1, false),
        case(BLOCK_SIZES[0], 16, false),
        case(BLOCK_SIZES[0], 16, true),
        case(BLOCK_SIZES[1], 1, false),
        case(BLOCK_SIZES[1], 16, false),
        case(BLOCK_SIZES[1], 16, true),
    ]
};

/// Runs this program under callgrind and keeps the commands it ran.
struct Callgrind<'a> {
    exe: &'a Path,
    out: &'a Path,
    commands: Vec<String>,
}

impl Callgrind<'_> {
    /// Instructions executed inside `symbol` (callees included) when this
    /// program runs with `args` (separated by spaces); the callgrind file is
    /// `<out>/<name>.out`.
    fn count(&mut self, symbol: &str, name: &str, args: &str) -> Result<u64, String> {
        let file = self.out.join(format!("{name}.out"));
        let mut command = Command::new("valgrind");
        command
            .arg("--tool=callgrind")
            .arg(format!("--toggle-collect={symbol}"))
            .arg(format!("--callgrind-out-file={}", file.display()))
            .arg(self.exe)
            .args(args.split_whitespace());
        self.commands.push(format!(
            "valgrind {}",
            command
                .get_args()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        ));
        let output = command
            .output()
            .map_err(|e| format!("cannot run valgrind: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "{name} failed ({}):\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let total = text
            .lines()
            .find_map(|l| l.strip_prefix("totals:"))
            .and_then(|t| t.trim().parse().ok())
            .ok_or_else(|| format!("{}: no totals line", file.display()))?;
        if total == 0 {
            return Err(format!(
                "{name}: nothing counted inside {symbol} (is the symbol in the binary?)"
            ));
        }
        Ok(total)
    }
}

/// A measured agent configuration.
struct Row<'a> {
    case: &'a Case,
    blocks: usize,
    agent: u64,
    sha: u64,
}

/// Run every measurement for a file of `size` bytes and print the table.
pub fn run(exe: &Path, size: usize, out: &Path) -> Result<(), String> {
    let mut callgrind = Callgrind {
        exe,
        out,
        commands: Vec::new(),
    };
    let mut sha = Vec::new();
    for block in BLOCK_SIZES {
        let args = format!("sha --size {size} --block {block}");
        sha.push((
            block,
            callgrind.count(SHA_SYMBOL, &format!("sha-{block}"), &args)?,
        ));
    }
    let mut rows = Vec::new();
    for case in &CASES {
        let (block, n) = (case.block, case.per_request);
        let order = if case.reversed {
            "reversed"
        } else {
            "in-order"
        };
        let args = format!("agent --size {size} --block {block} --per-request {n} --order {order}");
        let name = format!("agent-{block}-{n}-{order}");
        rows.push(Row {
            case,
            blocks: size.div_ceil(block),
            agent: callgrind.count(AGENT_SYMBOL, &name, &args)?,
            sha: sha
                .iter()
                .find(|&&(b, _)| b == block)
                .map(|&(_, count)| count)
                .expect("SHA-256 is measured for every block size"),
        });
    }
    print_table(size, &rows);
    print_read_back(size, &rows);
    println!();
    println!("Commands (each figure is the `totals:` line of the file it writes):");
    for c in &callgrind.commands {
        println!("  {c}");
    }
    Ok(())
}

fn print_table(size: usize, rows: &[Row<'_>]) {
    let kib = size as f64 / 1024.0;
    println!("File: {size} bytes ({kib} KiB), an MCUboot image.");
    println!();
    println!("| block | per request | order | blocks | agent instr/KiB | SHA-256 instr/KiB | agent / SHA-256 | overhead instr/block |");
    println!("|---:|---:|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let order = if r.case.reversed {
            "last first"
        } else {
            "in order"
        };
        println!(
            "| {} KiB | {} | {order} | {} | {:.0} | {:.0} | {:.3} | {:.0} |",
            r.case.block / 1024,
            r.case.per_request,
            r.blocks,
            r.agent as f64 / kib,
            r.sha as f64 / kib,
            r.agent as f64 / r.sha as f64,
            (r.agent as f64 - r.sha as f64) / r.blocks as f64,
        );
    }
}

/// The extra cost of out-of-order arrival: each reversed row against the
/// in-order row with the same block size and request size.
fn print_read_back(size: usize, rows: &[Row<'_>]) {
    println!();
    for r in rows.iter().filter(|r| r.case.reversed) {
        let Some(in_order) = rows.iter().find(|o| {
            !o.case.reversed
                && o.case.block == r.case.block
                && o.case.per_request == r.case.per_request
        }) else {
            continue;
        };
        let extra = r.agent as f64 - in_order.agent as f64;
        let n = r.case.per_request;
        println!(
            "Out of order, {} KiB blocks: each request's {n} blocks last first, so {} of every {n} \
             are hashed by reading them back from the slot: {:+.0} instr/KiB, {:+.0} instr/block \
             over in order.",
            r.case.block / 1024,
            n - 1,
            extra * 1024.0 / size as f64,
            extra / r.blocks as f64,
        );
    }
}
