//! The ceilings file of `--check`: the most agent logic each configuration
//! may take, so that CI catches a change that makes the agent larger.
//!
//! One ceiling per line, `TARGET CONFIG MEASURE BYTES`, where MEASURE is
//! `flash`, `ram` or `stack` (the peak over every API handler, with the
//! stub verifier); `#` starts a comment. Every figure measured needs a
//! ceiling; ceilings for targets not measured are ignored.

/// One line of the file.
#[derive(Debug, PartialEq, Eq)]
pub struct Ceiling {
    pub target: String,
    pub config: String,
    pub measure: Measure,
    pub bytes: u64,
}

/// What a ceiling limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Flash,
    Ram,
    Stack,
}

impl Measure {
    fn name(self) -> &'static str {
        match self {
            Measure::Flash => "flash",
            Measure::Ram => "ram",
            Measure::Stack => "stack",
        }
    }
}

/// The agent logic of one configuration of one target.
pub struct Measured {
    pub target: String,
    pub config: &'static str,
    pub flash: u64,
    pub ram: u64,
    pub stack: u64,
}

/// What [`compare`] found: a line per figure, and how many exceeded (or
/// had no) ceiling.
pub struct Report {
    pub lines: Vec<String>,
    pub exceeded: usize,
}

/// Read a ceilings file.
pub fn parse(text: &str) -> Result<Vec<Ceiling>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        let bad = || {
            format!(
                "line {}: expected TARGET CONFIG flash|ram|stack BYTES",
                n + 1
            )
        };
        let [target, config, measure, bytes] = line.split_whitespace().collect::<Vec<_>>()[..]
        else {
            return Err(bad());
        };
        let measure = match measure {
            "flash" => Measure::Flash,
            "ram" => Measure::Ram,
            "stack" => Measure::Stack,
            _ => return Err(bad()),
        };
        out.push(Ceiling {
            target: target.to_string(),
            config: config.to_string(),
            measure,
            bytes: bytes.parse().map_err(|_| bad())?,
        });
    }
    Ok(out)
}

/// Each measured figure against its ceiling.
pub fn compare(ceilings: &[Ceiling], measured: &[Measured]) -> Report {
    let mut report = Report {
        lines: Vec::new(),
        exceeded: 0,
    };
    for m in measured {
        let figures = [
            (Measure::Flash, m.flash),
            (Measure::Ram, m.ram),
            (Measure::Stack, m.stack),
        ];
        for (measure, value) in figures {
            let ceiling = ceilings
                .iter()
                .find(|c| c.target == m.target && c.config == m.config && c.measure == measure);
            let label = format!("{} {} {}", m.target, m.config, measure.name());
            let verdict = match ceiling {
                None => {
                    report.exceeded += 1;
                    "no ceiling: add one".to_string()
                }
                Some(c) if value > c.bytes => {
                    report.exceeded += 1;
                    format!("ABOVE the ceiling of {} by {}", c.bytes, value - c.bytes)
                }
                Some(c) => format!(
                    "within the ceiling of {} ({} to spare)",
                    c.bytes,
                    c.bytes - value
                ),
            };
            report
                .lines
                .push(format!("{label:<36} {value:>7}  {verdict}"));
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(flash: u64, ram: u64, stack: u64) -> Measured {
        Measured {
            target: "t".into(),
            config: "mqtt",
            flash,
            ram,
            stack,
        }
    }

    #[test]
    fn reads_lines_and_comments() {
        let c =
            parse("# a comment\n\n t mqtt flash 100 # why\nt mqtt ram 20\nt mqtt stack 9").unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].bytes, 100);
        assert_eq!(c[1].measure, Measure::Ram);
        assert_eq!(c[2].measure, Measure::Stack);
        assert!(parse("t mqtt flash").is_err());
        assert!(parse("t mqtt rom 1").is_err());
        assert!(parse("t mqtt flash 1k").is_err());
    }

    #[test]
    fn a_figure_above_or_without_its_ceiling_fails() {
        let c = parse("t mqtt flash 100\nt mqtt ram 20\nt mqtt stack 500\n").unwrap();
        assert_eq!(compare(&c, &[measured(100, 20, 500)]).exceeded, 0);
        assert_eq!(compare(&c, &[measured(101, 20, 500)]).exceeded, 1);
        assert_eq!(compare(&c, &[measured(101, 21, 500)]).exceeded, 2);
        assert_eq!(compare(&c, &[measured(100, 20, 508)]).exceeded, 1);
        let flash_only = parse("t mqtt flash 100").unwrap();
        let r = compare(&flash_only, &[measured(1, 1, 1)]);
        assert_eq!(r.exceeded, 2);
        assert!(r.lines[1].contains("no ceiling"));
        assert!(r.lines[2].contains("no ceiling"));
    }
}
