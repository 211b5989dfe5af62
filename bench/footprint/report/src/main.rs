//! Prints the footprint of ota-agent from the firmware images run.sh builds.
//!
//! Usage: `footprint-report --builds DIR --objdump PATH --target T... [--bound NAME=N]...
//! [--check CEILINGS]`.
//!
//! `DIR/T/` holds `baseline.elf` and `{mqtt,http}-{stub,p256}.elf` (sizes)
//! and `stack/{mqtt,http}-{stub,p256}.elf` (built with `-Z emit-stack-sizes`).
//! `--bound NAME=N` lets a recursion through a function whose name contains
//! NAME nest N times; an unbounded recursion is an error.
//!
//! With `--check`, only `baseline.elf` and `{mqtt,http}-stub.elf` (and their
//! stack images) are read: the agent logic and peak stack of each
//! configuration are compared with the ceilings file (see [`ceilings`]), and
//! the exit status says whether they are within them.

mod ceilings;
mod elf;
mod source;
mod stack;

use elf::{component, crate_of, short_name, Image, Sections};
use stack::{CallGraph, Usage};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The AWS C agent with coreJSON and tinycbor, linked with --gc-sections
/// against a stub application, -Os, Cortex-M4F: its own code, without the C
/// library it calls (memcpy, strlen, strstr, strtoul, ...).
const C_FLASH: u64 = 14_068;
const C_RAM: u64 = 1_507;
/// What the C agent asks the application for (`OtaAppBuffer_t`).
const C_APP_BUFFERS: &str = "~10.5 KB";
/// The same C agent (MQTT only) rebuilt by `bench/c_reference` (GCC 12.2,
/// newlib-nano), as (label, own code, with the C library functions it
/// calls). Its own code comes near the published figure; the C library
/// adds 3,881 bytes.
const C_REBUILT: [(&str, u64, u64); 2] = [
    ("C agent rebuilt, MQTT only", 14_615, 18_496),
    ("  the same with -flto", 12_927, 16_808),
];
/// The row of [`C_REBUILT`] built like our images, with LTO.
const C_LTO: usize = 1;
/// Our budget for agent logic (crypto excluded), measured as the C figure
/// is: the agent's own code, without the compiler runtime.
const BUDGET_FLASH: u64 = 14_000;
const BUDGET_RAM: u64 = 1_024;

/// The agent lives in this static; its size is `size_of::<Agent<..>>()`.
const AGENT_STATIC: &str = "OTA_AGENT";
/// The firmware calls each agent API from its own function with this prefix.
const HANDLER_PREFIX: &str = "firmware::app::api_";
/// The handler that builds the agent (by value, on the stack).
const CONSTRUCTOR: &str = "firmware::app::api_new";
/// The buffer `poll_transmit` renders a transmit into, in its own frame
/// (`ota_agent::MAX_TRANSMIT_LEN`).
const TRANSMIT_BUFFER: u64 = 384;

/// The crates of the SHA-256 implementation the agent hashes the file with.
const SHA256_CRATES: [&str; 3] = ["sha2", "digest", "block_buffer"];
/// The agent's own SHA-256 glue on sha2's compression function (buffering
/// and padding): crypto too, as the C agent leaves all of SHA-256 to the platform.
const SHA256_MODULE: &str = "ota_agent::sha256";
/// Its source file.
const SHA256_SOURCE: &str = "src/sha256.rs";

struct Config {
    key: &'static str,
    title: &'static str,
    /// The URL buffer inside the agent.
    url_cap: u64,
}

const CONFIGS: [Config; 2] = [
    Config {
        key: "mqtt",
        title: "MQTT only: Agent<_, 0>, NoProgressStore",
        url_cap: 0,
    },
    Config {
        key: "http",
        title: "MQTT + HTTP + resume: Agent<_, 1536>, progress store",
        url_cap: 1536,
    },
];

struct Args {
    builds: PathBuf,
    objdump: PathBuf,
    targets: Vec<String>,
    bounds: Vec<(String, u64)>,
    /// `--check`: the ceilings file to hold the agent logic to.
    check: Option<PathBuf>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        builds: PathBuf::new(),
        objdump: PathBuf::new(),
        targets: Vec::new(),
        bounds: Vec::new(),
        check: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--builds" => args.builds = value.into(),
            "--objdump" => args.objdump = value.into(),
            "--target" => args.targets.push(value),
            "--check" => args.check = Some(value.into()),
            "--bound" => {
                let (name, n) = value
                    .rsplit_once('=')
                    .and_then(|(name, n)| Some((name.to_string(), n.parse().ok()?)))
                    .ok_or_else(|| format!("--bound {value}: expected NAME=N"))?;
                args.bounds.push((name, n));
            }
            _ => return Err(format!("unknown option {flag}")),
        }
    }
    if args.targets.is_empty() || args.objdump.as_os_str().is_empty() {
        return Err(
            "usage: footprint-report --builds DIR --objdump PATH --target T... [--check CEILINGS]"
                .into(),
        );
    }
    Ok(args)
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| match &args.check {
        Some(file) => check(&args, file),
        None => run(&args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("footprint-report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One configuration of one target: stub-verifier and P256Verifier images
/// and their stack analyses.
struct Build {
    stub: Image,
    p256: Image,
    stub_stack: Stacks,
    p256_stack: Stacks,
}

struct Target {
    name: String,
    /// Where its images are.
    dir: PathBuf,
    baseline: Image,
    /// In the order of [`CONFIGS`].
    builds: Vec<Build>,
}

/// The worst case of every handler of one image.
struct Stacks {
    handlers: Vec<(String, Usage)>,
    /// The image's `.text`, to compare with the image measured for size.
    text: u64,
}

impl Stacks {
    /// The deepest handler other than the constructor.
    fn peak(&self) -> &(String, Usage) {
        self.handlers
            .iter()
            .filter(|(name, _)| name != CONSTRUCTOR)
            .max_by_key(|(_, u)| u.bytes)
            .expect("the firmware has handlers")
    }

    /// The deepest handler's worst case, the constructor included.
    fn deepest(&self) -> u64 {
        self.handlers
            .iter()
            .map(|(_, u)| u.bytes)
            .max()
            .unwrap_or(0)
    }

    /// The worst case of `handler`, if the image has it.
    fn of(&self, handler: &str) -> Option<u64> {
        self.handlers
            .iter()
            .find(|(name, _)| name == handler)
            .map(|(_, u)| u.bytes)
    }

    /// Functions reached whose frame was estimated, with the estimate.
    fn estimated(&self) -> BTreeSet<(String, u64)> {
        self.handlers
            .iter()
            .flat_map(|(_, u)| u.estimated.iter().cloned())
            .collect()
    }
}

fn run(args: &Args) -> Result<(), String> {
    let mut targets = Vec::new();
    for name in &args.targets {
        let dir = args.builds.join(name);
        let mut builds = Vec::new();
        for c in &CONFIGS {
            let (stub, p256) = (format!("{}-stub.elf", c.key), format!("{}-p256.elf", c.key));
            builds.push(Build {
                stub: Image::load(&dir.join(&stub))?,
                p256: Image::load(&dir.join(&p256))?,
                stub_stack: analyse_stack(args, &dir.join("stack").join(&stub))?,
                p256_stack: analyse_stack(args, &dir.join("stack").join(&p256))?,
            });
        }
        targets.push(Target {
            name: name.clone(),
            dir: dir.clone(),
            baseline: Image::load(&dir.join("baseline.elf"))?,
            builds,
        });
    }
    println!(
        "ota-agent footprint: opt-level \"s\", fat LTO, codegen-units 1, panic abort, \
         --gc-sections. Bytes."
    );
    println!("(a) baseline: runtime + port, no agent; (b) agent + P256Verifier; (c) agent + stub verifier");
    for t in &targets {
        print_target(t);
    }
    print_contributors(&targets[0]);
    print_by_source(&targets[0])?;
    print_stacks(&targets[0]);
    Ok(())
}

fn analyse_stack(args: &Args, path: &Path) -> Result<Stacks, String> {
    let image = Image::load(path)?;
    if image.frames.is_empty() {
        return Err(format!("{}: no .stack_sizes section", path.display()));
    }
    let out = Command::new(&args.objdump)
        .args(["-d", "--no-show-raw-insn"])
        .arg(path)
        .output()
        .map_err(|e| format!("{}: {e}", args.objdump.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let disassembly = String::from_utf8_lossy(&out.stdout);
    let graph = CallGraph::new(&disassembly, &image.functions, &image.frames)?;
    let handlers = graph
        .entries(HANDLER_PREFIX)
        .into_iter()
        .map(|entry| Ok((entry.to_string(), graph.worst(entry, &args.bounds)?)))
        .collect::<Result<_, String>>()?;
    Ok(Stacks {
        handlers,
        text: image.sections.text,
    })
}

/// Flash symbol sizes of `image` minus those of `base`, by name, largest
/// growth first; names whose size did not change are left out.
fn delta(image: &Image, base: &Image) -> Vec<(String, i64)> {
    let mut sizes: BTreeMap<&str, i64> = BTreeMap::new();
    for (symbols, sign) in [(&image.symbols, 1), (&base.symbols, -1)] {
        for s in symbols.iter().filter(|s| !s.in_ram) {
            *sizes.entry(&s.name).or_default() += sign * s.size as i64;
        }
    }
    let mut out: Vec<_> = sizes
        .into_iter()
        .filter(|&(_, d)| d != 0)
        .map(|(name, d)| (name.to_string(), d))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

fn is_sha256(name: &str) -> bool {
    SHA256_CRATES.contains(&crate_of(name).as_str()) || component(name) == SHA256_MODULE
}

/// The bytes of symbols matching `pred` in `image` beyond `base`.
fn bytes_of(image: &Image, base: &Image, pred: impl Fn(&str) -> bool) -> u64 {
    let sum: i64 = delta(image, base)
        .iter()
        .filter(|(name, _)| pred(name))
        .map(|(_, d)| d)
        .sum();
    sum.max(0) as u64
}

/// Agent logic: (flash, RAM) of the stub-verifier image (c) less the
/// baseline (a), less SHA-256.
fn agent_logic(stub: &Image, baseline: &Image) -> (u64, u64) {
    let (s, base) = (&stub.sections, &baseline.sections);
    let sha = bytes_of(stub, baseline, is_sha256);
    (s.flash() - base.flash() - sha, s.ram() - base.ram())
}

/// `--check`: the agent logic of every configuration of every target against
/// the ceilings in `file`; an error names each one exceeded.
fn check(args: &Args, file: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let ceilings = ceilings::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut measured = Vec::new();
    for target in &args.targets {
        let dir = args.builds.join(target);
        let baseline = Image::load(&dir.join("baseline.elf"))?;
        for c in &CONFIGS {
            let stub = format!("{}-stub.elf", c.key);
            let (flash, ram) = agent_logic(&Image::load(&dir.join(&stub))?, &baseline);
            let stacks = analyse_stack(args, &dir.join("stack").join(&stub))?;
            measured.push(ceilings::Measured {
                target: target.clone(),
                config: c.key,
                flash,
                ram,
                stack: stacks.deepest(),
            });
        }
    }
    let report = ceilings::compare(&ceilings, &measured);
    for line in &report.lines {
        println!("{line}");
    }
    match report.exceeded {
        0 => Ok(()),
        n => Err(format!(
            "{n} figure(s) above their ceiling in {}",
            file.display()
        )),
    }
}

/// The compiler runtime (mem*, 64-bit division) inside the agent logic.
fn compiler_runtime(t: &Target, b: &Build) -> u64 {
    bytes_of(&b.stub, &t.baseline, |n| crate_of(n) == "compiler_builtins")
}

/// One configuration's agent logic, as the budget comparison uses it.
struct Logic {
    /// Flash with the compiler runtime: the image delta.
    flash: u64,
    /// Flash without the compiler runtime: the budget's measure.
    own: u64,
    ram: u64,
}

fn logic(t: &Target, b: &Build) -> Logic {
    let (flash, ram) = agent_logic(&b.stub, &t.baseline);
    Logic {
        flash,
        own: flash - compiler_runtime(t, b),
        ram,
    }
}

fn handler_name(name: &str) -> &str {
    name.strip_prefix(HANDLER_PREFIX).unwrap_or(name)
}

fn sections_row(label: &str, s: &Sections) {
    println!(
        "  {label:<36} {:>7} {:>8} {:>6} {:>6} {:>7} {:>6}",
        s.text,
        s.rodata,
        s.data,
        s.bss,
        s.flash(),
        s.ram()
    );
}

/// A split row: label, flash, RAM, and optionally a stack figure with its
/// handler.
fn split_row(label: &str, flash: u64, ram: Option<u64>, stack: Option<&(String, Usage)>) {
    let ram = ram.map_or(String::new(), |r| r.to_string());
    let stack = stack.map_or(String::new(), |(name, u)| {
        format!("{:>11}  {}", u.bytes, handler_name(name))
    });
    let row = format!("    {label:<44} {flash:>7} {ram:>6} {stack}");
    println!("{}", row.trim_end());
}

fn verdict(value: u64, budget: u64) -> String {
    if value <= budget {
        format!("within, {} to spare", budget - value)
    } else {
        format!(
            "OVER by {} ({:.2}x the budget)",
            value - budget,
            value as f64 / budget as f64
        )
    }
}

fn print_target(t: &Target) {
    println!();
    println!("=== {} ===", t.name);
    println!(
        "  {:<36} {:>7} {:>8} {:>6} {:>6} {:>7} {:>6}",
        "Sections", ".text", ".rodata", ".data", ".bss", "flash", "RAM"
    );
    sections_row("(a) baseline", &t.baseline.sections);
    for (c, b) in CONFIGS.iter().zip(&t.builds) {
        println!("  {}", c.title);
        sections_row("  (c) agent, stub verifier", &b.stub.sections);
        sections_row("  (b) agent, P256Verifier", &b.p256.sections);
    }

    println!();
    println!(
        "    {:<44} {:>7} {:>6} {:>11}  (deepest handler)",
        "Split", "flash", "RAM", "peak stack"
    );
    for (c, b) in CONFIGS.iter().zip(&t.builds) {
        let (flash, ram) = agent_logic(&b.stub, &t.baseline);
        let sha = bytes_of(&b.stub, &t.baseline, is_sha256);
        let (p, s) = (&b.p256.sections, &b.stub.sections);
        let (p256_flash, p256_ram) = (p.flash() - s.flash(), p.ram() - s.ram());
        let agent_size = |image: &Image| image.symbol_size(AGENT_STATIC).unwrap_or(0);
        println!("  {}", c.title);
        split_row(
            "agent logic = (c) - (a) - SHA-256",
            flash,
            Some(ram),
            Some(b.stub_stack.peak()),
        );
        split_row(
            "  of which compiler runtime (mem*, u64 div)",
            compiler_runtime(t, b),
            None,
            None,
        );
        split_row(
            "crypto: SHA-256, sha2 + ota_agent::sha256",
            sha,
            Some(0),
            None,
        );
        split_row(
            "crypto: P-256 verifier = (b) - (c)",
            p256_flash,
            Some(p256_ram),
            None,
        );
        split_row(
            "crypto total; peak stack with P256Verifier",
            sha + p256_flash,
            Some(p256_ram),
            Some(b.p256_stack.peak()),
        );
        println!(
            "    size_of::<Agent>: {} (stub verifier), {} (P256Verifier); \
             Agent::new stack: {}, {}",
            agent_size(&b.stub),
            agent_size(&b.p256),
            b.stub_stack.of(CONSTRUCTOR).unwrap_or(0),
            b.p256_stack.of(CONSTRUCTOR).unwrap_or(0)
        );
    }

    println!();
    println!("  Against the C agent and the budget (agent logic; crypto excluded)");
    println!(
        "    The published C figure leaves out the C library the agent calls, so the \
         budget is checked on own\n    code: agent logic without the compiler runtime \
         (compiler_builtins' weak mem* symbols, which\n    picolibc or newlib replace \
         in a Zephyr image). The image delta with the runtime is beside it.\n    \
         Ours is built with LTO, the published C figure without; the -flto rows compare \
         like for like."
    );
    println!(
        "    {:<28} {:>8} {:>9}  {:<28} buffers from the application",
        "", "own code", "+ runtime", "static RAM"
    );
    println!(
        "    {:<28} {C_FLASH:>8} {:>9}  {:<28} {C_APP_BUFFERS}",
        "C agent, coreJSON + tinycbor", "", C_RAM
    );
    for (label, own, with_runtime) in C_REBUILT {
        println!("    {label:<28} {own:>8} {with_runtime:>9}");
    }
    let logics: Vec<Logic> = t.builds.iter().map(|b| logic(t, b)).collect();
    for (c, l) in CONFIGS.iter().zip(&logics) {
        let ram = match c.url_cap {
            0 => l.ram.to_string(),
            url => format!("{} = {} + {url} URL buffer", l.ram, l.ram - url),
        };
        println!(
            "    {:<28} {:>8} {:>9}  {ram:<28} none",
            config_name(c),
            l.own,
            l.flash
        );
    }
    println!(
        "    {:<28} {BUDGET_FLASH:>8} {:>9}  {:<28} none",
        "budget",
        "",
        format!("{BUDGET_RAM} + one block buffer")
    );
    for (c, l) in CONFIGS.iter().zip(&logics) {
        let mut line = format!(
            "    {}: flash {}; static RAM {}",
            config_name(c),
            verdict(l.own, BUDGET_FLASH),
            verdict(l.ram, BUDGET_RAM)
        );
        if c.url_cap > 0 {
            line += &format!(
                " ({} without the URL buffer)",
                verdict(l.ram - c.url_cap, BUDGET_RAM)
            );
        }
        println!("{line}");
    }
    // Like for like, both with LTO: own code, and with the runtime each
    // brings (our compiler runtime, the C agent's C library calls).
    let mqtt = &logics[0];
    let (_, c_own, c_with_runtime) = C_REBUILT[C_LTO];
    let ratio = |ours: u64, c: u64| format!("{ours} vs {c}, {:.2}x", ours as f64 / c as f64);
    println!(
        "    MQTT only against the C agent rebuilt with -flto: own code {}; with runtime {}",
        ratio(mqtt.own, c_own),
        ratio(mqtt.flash, c_with_runtime)
    );
}

/// A configuration's name without its details.
fn config_name(c: &Config) -> &'static str {
    c.title.split(':').next().unwrap_or(c.title)
}

/// What the agent logic and the crypto consist of, for one target.
fn print_contributors(t: &Target) {
    let b = &t.builds[1];
    println!();
    println!(
        "=== What takes the space ({}, {}) ===",
        t.name, CONFIGS[1].title
    );
    let logic: Vec<_> = delta(&b.stub, &t.baseline)
        .into_iter()
        .filter(|(name, _)| !is_sha256(name))
        .collect();
    print_by_component("Agent logic by component, (c) - (a)", &logic);
    println!("    firmware::app: agent code the optimiser inlined into the application's calls");
    println!();
    println!("  Largest agent-logic symbols");
    for (name, size) in logic.iter().take(30) {
        println!("    {size:>6}  {}", short_name(name));
    }
    let mut crypto = delta(&b.p256, &b.stub);
    crypto.extend(
        delta(&b.stub, &t.baseline)
            .into_iter()
            .filter(|(name, _)| is_sha256(name)),
    );
    println!();
    print_by_component("Crypto by component, (b) - (c) and sha2", &crypto);
    println!("    ota_agent, firmware: verifier code inlined into the agent's functions");
}

/// The agent logic of the MQTT-only configuration by source file: `.text`
/// of (c) less that of (a), each range given to the innermost inlined
/// function from the agent's `src/` (else the firmware's), see [`source`].
fn print_by_source(t: &Target) -> Result<(), String> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..");
    let repo = repo
        .canonicalize()
        .map_err(|e| format!("{}: {e}", repo.display()))?;
    let (agent, firmware) = (repo.join("src"), repo.join("bench/footprint/firmware/src"));
    let trees = [
        ("src/", agent.as_path()),
        ("firmware/src/", firmware.as_path()),
    ];
    let key = CONFIGS[0].key;
    let image = source::text_by_source(&t.dir.join(format!("{key}-stub.elf")), &trees)?;
    let base = source::text_by_source(&t.dir.join("baseline.elf"), &trees)?;
    let mut rows: BTreeMap<&str, i64> = BTreeMap::new();
    for (map, sign) in [(&image, 1), (&base, -1)] {
        for (file, bytes) in map {
            *rows.entry(file).or_default() += sign * *bytes as i64;
        }
    }
    let mut rows: Vec<_> = rows.into_iter().filter(|r| r.1 != 0).collect();
    rows.sort_by_key(|r| (std::cmp::Reverse(r.1), r.0));
    let is_agent = |f: &str| f.starts_with("src/") && f != SHA256_SOURCE;
    let agent_total: i64 = rows.iter().filter(|r| is_agent(r.0)).map(|r| r.1).sum();
    println!();
    println!(
        "=== Agent logic by source file ({}, {}; .text of (c) - (a)) ===",
        t.name, CONFIGS[0].title
    );
    println!("  Each range of code counts for the innermost inlined function from src/, else");
    println!("  from the firmware's src/ (the DWARF line table; see bench/footprint/README.md).");
    for (file, bytes) in &rows {
        println!("    {bytes:>6}  {file}");
    }
    println!("    {agent_total:>6}  agent source: src/ without {SHA256_SOURCE} (crypto)");
    Ok(())
}

/// Signed sums by [`component`], largest first.
fn print_by_component(title: &str, symbols: &[(String, i64)]) {
    let mut sums: BTreeMap<String, i64> = BTreeMap::new();
    for (name, size) in symbols {
        *sums.entry(component(name)).or_default() += size;
    }
    let mut rows: Vec<_> = sums.into_iter().filter(|r| r.1 != 0).collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    let total: i64 = rows.iter().map(|r| r.1).sum();
    println!("  {title}: {total} in symbols");
    for (name, size) in rows {
        println!("    {size:>6}  {name}");
    }
}

/// Every handler's worst case, and the deepest paths, for one target.
fn print_stacks(t: &Target) {
    println!();
    println!("=== Peak stack per handler ({}) ===", t.name);
    println!(
        "  {:<20} {:>13} {:>13} {:>13} {:>13}",
        "", "MQTT, stub", "MQTT, P-256", "HTTP, stub", "HTTP, P-256"
    );
    let cell = |stacks: &Stacks, name: &str| stacks.of(name).map_or("-".into(), |b| b.to_string());
    for (name, _) in &t.builds[1].stub_stack.handlers {
        print!("  {:<20}", handler_name(name));
        for b in &t.builds {
            print!(
                " {:>13} {:>13}",
                cell(&b.stub_stack, name),
                cell(&b.p256_stack, name)
            );
        }
        println!();
    }
    println!(
        "  (poll_transmit's figure includes the {TRANSMIT_BUFFER}-byte buffer it renders into)"
    );
    let b = &t.builds[1];
    for (label, stacks) in [
        ("stub verifier", &b.stub_stack),
        ("P256Verifier", &b.p256_stack),
    ] {
        let (name, usage) = stacks.peak();
        println!();
        println!(
            "  Deepest path, HTTP, {label}: {} bytes from {} (bytes added per step)",
            usage.bytes,
            handler_name(name)
        );
        for step in &usage.path {
            println!("    {:>5}  {}", step.bytes, step.name);
        }
    }
    let drift = t
        .builds
        .iter()
        .flat_map(|b| [(&b.stub, &b.stub_stack), (&b.p256, &b.p256_stack)])
        .map(|(image, stacks)| {
            let (a, b) = (image.sections.text as f64, stacks.text as f64);
            100.0 * (a - b).abs() / a
        })
        .fold(0.0, f64::max);
    println!();
    println!(
        "  Stack images: nightly with -Z emit-stack-sizes; their .text is within {drift:.1}% \
         of the images measured for size"
    );
    let estimated: Vec<String> = t
        .builds
        .iter()
        .flat_map(|b| {
            b.stub_stack
                .estimated()
                .into_iter()
                .chain(b.p256_stack.estimated())
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|(name, bytes)| format!("{name} {bytes}"))
        .collect();
    println!(
        "  Frames from the instructions (assembly, no .stack_sizes): {}",
        estimated.join(", ")
    );
}
