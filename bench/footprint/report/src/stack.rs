//! Worst-case stack depth from a call graph: frame sizes from the
//! `.stack_sizes` section (`-Z emit-stack-sizes`), call edges from the
//! disassembly (`llvm-objdump -d`).
//!
//! - `bl` is a call: the caller's frame plus the callee's worst case.
//! - `b` to another function is a tail call: the caller's frame is already
//!   released, so it costs the callee's worst case.
//! - Indirect calls (`blx rN`, `bx rN`) come only from `core::fmt`, through
//!   `dyn Write` and the formatting functions of `fmt::Arguments`; they are
//!   resolved by name to every `fmt::Write::{write_str, write_char}` (and,
//!   from `fmt::write`, every formatting-trait `fmt`) in the image. Any other indirect call is an
//!   error, so a new kind cannot be missed.
//! - A function without a `.stack_sizes` entry (assembly) is taken to use
//!   what its instructions push and subtract from `sp`.
//! - Recursion must be bounded by the caller of [`CallGraph::worst`]: a cycle
//!   costs its bound times the frames of all its functions.

use crate::elf::{demangle, short_name};
use std::collections::HashMap;

struct Func {
    name: String,
    /// From `.stack_sizes`.
    frame: Option<u64>,
    /// What the instructions push and subtract from `sp`, for functions
    /// without a `.stack_sizes` entry (assembly).
    pushed: u64,
    calls: Vec<usize>,
    tails: Vec<usize>,
}

/// Functions, their frames and who calls whom.
pub struct CallGraph {
    funcs: Vec<Func>,
}

/// One step of the deepest path.
pub struct Step {
    pub name: String,
    /// The bytes this step adds: a frame, or a bounded recursion's total.
    pub bytes: u64,
}

/// The worst case from an entry point.
pub struct Usage {
    pub bytes: u64,
    pub path: Vec<Step>,
    /// Functions reached whose frame was estimated from their instructions,
    /// with the estimate.
    pub estimated: Vec<(String, u64)>,
}

/// What an indirect call site may reach.
#[derive(Clone, Copy)]
enum Targets {
    WriteMethods,
    WriteMethodsAndFormatters,
}

fn indirect_targets(caller: &str) -> Option<Targets> {
    if caller == "core::fmt::write" {
        Some(Targets::WriteMethodsAndFormatters)
    } else if caller.starts_with("<core::fmt::Formatter>::") {
        Some(Targets::WriteMethods)
    } else {
        None
    }
}

/// `write_str` and `write_char`: what `fmt::write` and `Formatter` call on
/// their `dyn Write` (never `write_fmt`).
fn is_write_method(name: &str) -> bool {
    ["write_str", "write_char"].iter().any(|m| {
        name.ends_with(&format!("core::fmt::Write>::{m}"))
            || name == format!("core::fmt::Write::{m}")
    })
}

fn is_formatter(name: &str) -> bool {
    name.starts_with('<') && name.contains(" as core::fmt::") && name.ends_with(">::fmt")
}

/// An instruction's effect on control flow.
enum Flow {
    Call(u64),
    Branch(u64),
    IndirectCall,
    IndirectBranch,
}

const CONDITIONS: [&str; 16] = [
    "eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le",
];

/// The bytes a Thumb instruction takes from the stack: `push`, `vpush`,
/// `stmdb sp!`, `str rN, [sp, #-n]!`, `sub sp, #n`.
fn stack_growth(mnemonic: &str, operands: &str) -> u64 {
    let mnemonic = mnemonic.split('.').next().unwrap_or(mnemonic);
    let registers = || -> u64 {
        let list = operands.split(['{', '}']).nth(1).unwrap_or("");
        list.split(',')
            .map(|r| match r.trim().split_once('-') {
                Some((a, b)) => {
                    let n = |r: &str| r.trim_start_matches(['r', 'd', 's']).parse::<u64>().ok();
                    n(b).zip(n(a)).map_or(1, |(b, a)| b.saturating_sub(a) + 1)
                }
                None => 1,
            })
            .sum()
    };
    let immediate = || {
        let imm = operands.rsplit('#').next().unwrap_or("");
        let imm = imm.trim_end_matches([']', '!']).trim_start_matches('-');
        match imm.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).unwrap_or(0),
            None => imm.parse().unwrap_or(0),
        }
    };
    match mnemonic {
        "push" => 4 * registers(),
        "stmdb" if operands.starts_with("sp!") => 4 * registers(),
        "vpush" if operands.contains("{d") => 8 * registers(),
        "vpush" => 4 * registers(),
        "str" if operands.contains("[sp, #-") && operands.ends_with('!') => immediate(),
        "sub" | "subw" if operands.starts_with("sp,") => immediate(),
        _ => 0,
    }
}

/// Classify one disassembled Thumb instruction.
fn flow(mnemonic: &str, operands: &str) -> Option<Flow> {
    let mnemonic = mnemonic
        .strip_suffix(".w")
        .or_else(|| mnemonic.strip_suffix(".n"))
        .unwrap_or(mnemonic);
    let target = || {
        operands
            .split_whitespace()
            .find_map(|t| u64::from_str_radix(t.strip_prefix("0x")?, 16).ok())
    };
    let is_reg = operands.starts_with('r') || operands.starts_with("ip");
    match mnemonic {
        "bl" => target().map(Flow::Call),
        "blx" if is_reg => Some(Flow::IndirectCall),
        "blx" => target().map(Flow::Call),
        "bx" if operands.trim() == "lr" => None,
        "bx" => Some(Flow::IndirectBranch),
        "b" => target().map(Flow::Branch),
        m if m.len() == 3 && m.starts_with('b') && CONDITIONS.contains(&&m[1..]) => {
            target().map(Flow::Branch)
        }
        "ldr" | "mov" if operands.starts_with("pc,") => Some(Flow::IndirectBranch),
        _ => None,
    }
}

impl CallGraph {
    /// Build the graph from `llvm-objdump -d --no-show-raw-insn` output.
    /// `sizes` (function address to code size) bounds each function, so the
    /// padding after it is not read as code.
    pub fn new(
        disassembly: &str,
        sizes: &HashMap<u64, u64>,
        frames: &HashMap<u64, u64>,
    ) -> Result<CallGraph, String> {
        // Functions in address order, with their control-flow instructions.
        // Aliases (several labels at one address) keep the last label, which
        // is the one the instructions follow.
        let mut starts: Vec<(u64, String, Vec<Flow>, u64)> = Vec::new();
        for line in disassembly.lines() {
            if let Some(header) = line.strip_suffix(">:") {
                let Some((addr, name)) = header.split_once(" <") else {
                    continue;
                };
                let addr = u64::from_str_radix(addr, 16).map_err(|e| format!("{line}: {e}"))?;
                if starts.last().is_some_and(|s| s.0 == addr) {
                    starts.pop();
                }
                starts.push((addr, demangle(name), Vec::new(), 0));
            } else if let (Some((addr, insn)), Some(current)) =
                (line.split_once(':'), starts.last_mut())
            {
                let Ok(addr) = u64::from_str_radix(addr.trim(), 16) else {
                    continue;
                };
                if sizes
                    .get(&current.0)
                    .is_some_and(|&size| addr >= current.0 + size)
                {
                    continue;
                }
                let mut parts = insn.trim_start().splitn(2, '\t');
                let mnemonic = parts.next().unwrap_or("");
                let operands = parts.next().unwrap_or("");
                current.2.extend(flow(mnemonic, operands));
                current.3 += stack_growth(mnemonic, operands);
            }
        }
        let index_of = |addr: u64| match starts.binary_search_by_key(&addr, |s| s.0) {
            Ok(i) => Some(i),
            Err(0) => None,
            Err(i) => Some(i - 1),
        };
        let write_methods: Vec<usize> = (0..starts.len())
            .filter(|&i| is_write_method(&starts[i].1))
            .collect();
        let formatters: Vec<usize> = (0..starts.len())
            .filter(|&i| is_formatter(&starts[i].1))
            .collect();
        let mut funcs = Vec::with_capacity(starts.len());
        for (i, (addr, name, flows, pushed)) in starts.iter().enumerate() {
            let mut func = Func {
                name: name.clone(),
                frame: frames.get(addr).copied(),
                pushed: *pushed,
                calls: Vec::new(),
                tails: Vec::new(),
            };
            for f in flows {
                let indirect = |tail| {
                    let targets = indirect_targets(name).ok_or_else(|| {
                        format!("indirect {tail} in {name}: no rule says where it goes")
                    })?;
                    Ok::<_, String>(match targets {
                        Targets::WriteMethods => write_methods.clone(),
                        Targets::WriteMethodsAndFormatters => {
                            [&write_methods[..], &formatters[..]].concat()
                        }
                    })
                };
                match *f {
                    Flow::Call(to) => func.calls.extend(index_of(to)),
                    Flow::Branch(to) => func.tails.extend(index_of(to).filter(|&t| t != i)),
                    Flow::IndirectCall => func.calls.extend(indirect("call")?),
                    Flow::IndirectBranch => func.tails.extend(indirect("branch")?),
                }
            }
            funcs.push(func);
        }
        Ok(CallGraph { funcs })
    }

    /// Functions whose name starts with `prefix`.
    pub fn entries(&self, prefix: &str) -> Vec<&str> {
        self.funcs
            .iter()
            .map(|f| f.name.as_str())
            .filter(|n| n.starts_with(prefix))
            .collect()
    }

    /// The deepest stack from `entry`. `bounds` gives, for a name fragment,
    /// how many times a cycle through a function of that name can nest.
    pub fn worst(&self, entry: &str, bounds: &[(String, u64)]) -> Result<Usage, String> {
        let start = self
            .funcs
            .iter()
            .position(|f| f.name == entry)
            .ok_or_else(|| format!("no function {entry}"))?;
        let solver = Solver::new(self, bounds).run(start)?;
        let estimated = solver
            .index
            .keys()
            .map(|&i| &self.funcs[i])
            .filter(|f| f.frame.is_none())
            .map(|f| (f.name.clone(), f.pushed))
            .collect();
        let solved = solver.solved;
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(i) = at {
            let node = &solved[&i];
            path.push(Step {
                name: node.label.clone(),
                bytes: node.own,
            });
            at = node.next;
        }
        Ok(Usage {
            bytes: solved[&start].total,
            path,
            estimated,
        })
    }
}

/// The worst case of one function (or, for a cycle, of the whole cycle).
#[derive(Clone)]
struct Solved {
    total: u64,
    /// What this step adds on the path: its frame, or a cycle's total.
    own: u64,
    label: String,
    /// Where the deepest path goes on.
    next: Option<usize>,
}

/// Tarjan's strongly connected components, solving each component once all
/// it calls is solved.
struct Solver<'g> {
    graph: &'g CallGraph,
    bounds: &'g [(String, u64)],
    index: HashMap<usize, usize>,
    low: HashMap<usize, usize>,
    stack: Vec<usize>,
    solved: HashMap<usize, Solved>,
}

impl<'g> Solver<'g> {
    fn new(graph: &'g CallGraph, bounds: &'g [(String, u64)]) -> Self {
        Solver {
            graph,
            bounds,
            index: HashMap::new(),
            low: HashMap::new(),
            stack: Vec::new(),
            solved: HashMap::new(),
        }
    }

    fn run(mut self, start: usize) -> Result<Self, String> {
        self.visit(start)?;
        Ok(self)
    }

    fn edges(&self, v: usize) -> impl Iterator<Item = usize> + 'g {
        let f = &self.graph.funcs[v];
        f.calls.iter().chain(&f.tails).copied()
    }

    fn visit(&mut self, v: usize) -> Result<(), String> {
        let n = self.index.len();
        self.index.insert(v, n);
        self.low.insert(v, n);
        self.stack.push(v);
        for w in self.edges(v) {
            if !self.index.contains_key(&w) {
                self.visit(w)?;
                self.low.insert(v, self.low[&v].min(self.low[&w]));
            } else if self.stack.contains(&w) {
                self.low.insert(v, self.low[&v].min(self.index[&w]));
            }
        }
        if self.low[&v] == self.index[&v] {
            let at = self.stack.iter().rposition(|&x| x == v).expect("on stack");
            let members = self.stack.split_off(at);
            self.solve(&members)?;
        }
        Ok(())
    }

    fn frame(&self, v: usize) -> u64 {
        let f = &self.graph.funcs[v];
        f.frame.unwrap_or(f.pushed)
    }

    fn best(&self, targets: impl Iterator<Item = usize>) -> Option<(u64, usize)> {
        targets
            .map(|t| (self.solved[&t].total, t))
            .max_by_key(|&(total, _)| total)
    }

    fn solve(&mut self, members: &[usize]) -> Result<(), String> {
        let graph = self.graph;
        if let [v] = *members {
            let f = &graph.funcs[v];
            if !f.calls.contains(&v) && !f.tails.contains(&v) {
                let frame = self.frame(v);
                let call = self.best(f.calls.iter().copied());
                let tail = self.best(f.tails.iter().copied());
                let via_call = call.map_or(frame, |(c, _)| frame + c);
                // A tail call leaves with the frame already released.
                let (total, own, next) = match (call, tail) {
                    (_, Some((t, to))) if t > via_call => (t, 0, Some(to)),
                    _ => (via_call, frame, call.map(|(_, to)| to)),
                };
                let solved = Solved {
                    total,
                    own,
                    label: short_name(&f.name),
                    next,
                };
                self.solved.insert(v, solved);
                return Ok(());
            }
        }
        // A cycle: it nests at most `bound` times, each time through (at
        // most) every function in it, then leaves by its deepest exit.
        let names: Vec<&str> = members
            .iter()
            .map(|&m| graph.funcs[m].name.as_str())
            .collect();
        let bound = self
            .bounds
            .iter()
            .find(|(fragment, _)| names.iter().any(|n| n.contains(fragment.as_str())))
            .map(|&(_, b)| b)
            .ok_or_else(|| {
                let list: Vec<String> = names.iter().map(|n| short_name(n)).collect();
                format!("unbounded recursion through: {}", list.join(", "))
            })?;
        let frames: u64 = members.iter().map(|&m| self.frame(m)).sum();
        let exits = members
            .iter()
            .flat_map(|&m| self.edges(m))
            .filter(|t| !members.contains(t));
        let exit = self.best(exits);
        let own = bound * frames;
        let mut short: Vec<String> = names.iter().map(|n| short_name(n)).collect();
        short.sort();
        let solved = Solved {
            total: own + exit.map_or(0, |(t, _)| t),
            own,
            label: format!("recursion, {bound} × ({})", short.join(" + ")),
            next: exit.map(|(_, to)| to),
        };
        for &m in members {
            self.solved.insert(m, solved.clone());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISASSEMBLY: &str = "
08000100 <entry>:
 8000100:      \tpush\t{r7, lr}
 8000102:      \tbl\t0x8000200 <leaf> @ imm = #0xfa
 8000106:      \tbeq\t0x8000300 <rec> @ imm = #0x1f6
 800010a:      \tpop\t{r7, pc}
 800010c:      \tbmi\t0x8000500 <padding> @ imm = #0x3f0

08000200 <leaf>:
 8000200:      \tbx\tlr

08000300 <rec>:
 8000300:      \tbl\t0x8000300 <rec> @ imm = #-0x4
 8000304:      \tblo\t0x8000300 <rec> @ imm = #-0x8
 8000308:      \tbl\t0x8000200 <leaf> @ imm = #-0x10c
";

    fn graph() -> CallGraph {
        let frames = HashMap::from([(0x8000100, 8), (0x8000200, 0), (0x8000300, 16)]);
        CallGraph::new(DISASSEMBLY, &HashMap::from([(0x8000100, 12)]), &frames).unwrap()
    }

    #[test]
    fn calls_tail_calls_and_bounded_recursion() {
        let g = graph();
        let bounds = [("rec".to_string(), 3)];
        let usage = g.worst("entry", &bounds).unwrap();
        // The tail call to `rec` (3 × 16) beats the call to `leaf` (8 + 0).
        assert_eq!(usage.bytes, 48);
        assert_eq!(usage.path.len(), 3);
        assert!(g.worst("entry", &[]).is_err(), "recursion needs a bound");
    }

    #[test]
    fn assembly_frames() {
        assert_eq!(stack_growth("push", "{r4, r5, r7, lr}"), 16);
        assert_eq!(stack_growth("push.w", "{r4-r11, lr}"), 36);
        assert_eq!(stack_growth("vpush", "{d8, d9}"), 16);
        assert_eq!(stack_growth("sub", "sp, #0x20"), 32);
        assert_eq!(stack_growth("sub.w", "sp, sp, #264"), 264);
        assert_eq!(stack_growth("subw", "sp, sp, #0x464"), 0x464);
        assert_eq!(stack_growth("str", "r8, [sp, #-4]!"), 4);
        assert_eq!(stack_growth("sub", "r0, #4"), 0);
        assert_eq!(stack_growth("pop", "{r4, pc}"), 0);
    }

    #[test]
    fn indirect_calls_need_a_rule() {
        let dis = "08000100 <some::function>:\n 8000100:      \tblx\tr3\n";
        let err = CallGraph::new(dis, &HashMap::new(), &HashMap::new())
            .err()
            .unwrap();
        assert!(err.contains("some::function"));
    }
}
