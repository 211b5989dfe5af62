//! Flash by source file, read from the DWARF line table and inlining
//! records of an image built with `debug = "line-tables-only"` (which
//! changes no code; see the firmware's Cargo.toml).
//!
//! After LTO most agent code sits inside the application's functions, so
//! symbol sizes cannot say whose it is. Here every range of `.text` goes to
//! the innermost inlined function written in one of the given source trees,
//! the first tree taking precedence: an agent function inlined into the
//! application counts as agent code, core's `copy_from_slice` inlined into
//! an agent function counts for that agent function's file.

use addr2line::Context;
use gimli::{EndianSlice, LittleEndian};
use object::{Object, ObjectSection};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

/// Code not in any of the trees, by the innermost frame from one of these
/// (so core inlined into sha2 counts as sha2).
const OTHER: [(&str, &str); 3] = [
    ("compiler-builtins", "(compiler runtime)"),
    ("/sha2-", "(sha2)"),
    ("/rustc/", "(core)"),
];

/// Bytes of `.text` in the image at `path` by source file: a path relative
/// to the tree it is in, prefixed with that tree's label, or a group in
/// parentheses for code outside every tree.
pub fn text_by_source(
    path: &Path,
    trees: &[(&str, &Path)],
) -> Result<BTreeMap<String, u64>, String> {
    let err = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let bytes = std::fs::read(path).map_err(|e| err(&e))?;
    let file = object::File::parse(&*bytes).map_err(|e| err(&e))?;
    let text = file
        .section_by_name(".text")
        .ok_or_else(|| err(&"no .text"))?;
    let load = |id: gimli::SectionId| -> Result<Cow<[u8]>, gimli::Error> {
        Ok(file
            .section_by_name(id.name())
            .and_then(|s| s.uncompressed_data().ok())
            .unwrap_or_default())
    };
    let sections = gimli::DwarfSections::load(load).map_err(|e| err(&e))?;
    let dwarf = sections.borrow(|s| EndianSlice::new(s, LittleEndian));
    let context = Context::from_dwarf(dwarf).map_err(|e| err(&e))?;

    let mut by_file = BTreeMap::new();
    let mut covered = 0;
    let (start, end) = (text.address(), text.address() + text.size());
    let ranges = context
        .find_location_range(start, end)
        .map_err(|e| err(&e))?;
    for (address, len, _) in ranges {
        let len = len.min(end.saturating_sub(address));
        let mut files = Vec::new();
        let mut frames = context
            .find_frames(address)
            .skip_all_loads()
            .map_err(|e| err(&e))?;
        while let Some(frame) = frames.next().map_err(|e| err(&e))? {
            if let Some(f) = frame.location.and_then(|l| l.file) {
                files.push(f.to_string());
            }
        }
        *by_file.entry(owner(&files, trees)).or_default() += len;
        covered += len;
    }
    // Code the line table does not describe (assembly, padding).
    let rest = text.size().saturating_sub(covered);
    if rest > 0 {
        by_file.insert("(no line information)".into(), rest);
    }
    Ok(by_file)
}

/// Whose code a range is, given the files of its frames (innermost first).
fn owner(files: &[String], trees: &[(&str, &Path)]) -> String {
    for (label, root) in trees {
        for f in files {
            if let Ok(rel) = Path::new(f).strip_prefix(root) {
                return format!("{label}{}", rel.display());
            }
        }
    }
    OTHER
        .iter()
        .find(|(pattern, _)| files.iter().any(|f| f.contains(pattern)))
        .map_or("(other)", |(_, group)| group)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_tree_wins_and_the_innermost_frame_within_it() {
        let trees: [(&str, &Path); 2] = [
            ("src/", Path::new("/repo/src")),
            ("app/", Path::new("/repo/app")),
        ];
        let files = |f: &[&str]| f.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // core inlined into json.rs inlined into the application.
        let chain = files(&[
            "/rustc/x/core/slice.rs",
            "/repo/src/json.rs",
            "/repo/app/main.rs",
        ]);
        assert_eq!(owner(&chain, &trees), "src/json.rs");
        let chain = files(&["/repo/src/window.rs", "/repo/src/agent/mod.rs"]);
        assert_eq!(owner(&chain, &trees), "src/window.rs");
        assert_eq!(owner(&files(&["/repo/app/main.rs"]), &trees), "app/main.rs");
        let builtins = files(&["/rustc/x/core/ptr.rs", "/x/compiler-builtins/src/mem.rs"]);
        assert_eq!(owner(&builtins, &trees), "(compiler runtime)");
        let sha = files(&["/rustc/x/core/num.rs", "/x/sha2-0.11/src/soft.rs"]);
        assert_eq!(owner(&sha, &trees), "(sha2)");
        assert_eq!(owner(&files(&["/rustc/x/core/ptr.rs"]), &trees), "(core)");
        assert_eq!(owner(&[], &trees), "(other)");
    }
}
