//! What the report needs from a firmware ELF file: output section sizes,
//! sized symbols, and the per-function frame sizes of `-Z emit-stack-sizes`.

use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use std::collections::HashMap;
use std::path::Path;

/// The output sections that occupy flash or RAM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sections {
    pub text: u64,
    pub rodata: u64,
    pub data: u64,
    pub bss: u64,
}

impl Sections {
    /// `.text + .rodata + .data`: `.data` has its initial values in flash.
    pub fn flash(&self) -> u64 {
        self.text + self.rodata + self.data
    }

    /// `.data + .bss`.
    pub fn ram(&self) -> u64 {
        self.data + self.bss
    }
}

/// A symbol with a size, named without its hash.
#[derive(Clone, Debug)]
pub struct Symbol {
    pub name: String,
    pub size: u64,
    /// In `.bss` or `.data` (RAM) rather than `.text` or `.rodata` (flash).
    pub in_ram: bool,
}

/// A linked firmware image.
pub struct Image {
    pub sections: Sections,
    pub symbols: Vec<Symbol>,
    /// Function address (Thumb bit cleared) to code size.
    pub functions: HashMap<u64, u64>,
    /// Function address to static frame size, when the image was built with
    /// `-Z emit-stack-sizes`.
    pub frames: HashMap<u64, u64>,
}

impl Image {
    pub fn load(path: &Path) -> Result<Image, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = object::File::parse(&*bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let size_of = |name| file.section_by_name(name).map_or(0, |s| s.size());
        let sections = Sections {
            text: size_of(".text"),
            rodata: size_of(".rodata"),
            data: size_of(".data"),
            bss: size_of(".bss"),
        };
        let ram_sections: Vec<_> = [".data", ".bss"]
            .iter()
            .filter_map(|name| file.section_by_name(name).map(|s| s.index()))
            .collect();
        let symbols = file
            .symbols()
            .filter(|s| s.size() > 0 && matches!(s.kind(), SymbolKind::Text | SymbolKind::Data))
            .filter_map(|s| {
                Some(Symbol {
                    name: demangle(s.name().ok()?),
                    size: s.size(),
                    in_ram: s.section_index().is_some_and(|i| ram_sections.contains(&i)),
                })
            })
            .collect();
        let functions = file
            .symbols()
            .filter(|s| s.kind() == SymbolKind::Text && s.size() > 0)
            .map(|s| (s.address() & !1, s.size()))
            .collect();
        let frames = match file.section_by_name(".stack_sizes") {
            Some(section) => {
                let data = section.data().map_err(|e| e.to_string())?;
                parse_stack_sizes(data)
                    .ok_or_else(|| format!("{}: malformed .stack_sizes section", path.display()))?
            }
            None => HashMap::new(),
        };
        Ok(Image {
            sections,
            symbols,
            functions,
            frames,
        })
    }

    /// The size of the symbol called `name`, if there is one.
    pub fn symbol_size(&self, name: &str) -> Option<u64> {
        self.symbols.iter().find(|s| s.name == name).map(|s| s.size)
    }
}

/// `.stack_sizes` (32-bit target): entries of a little-endian function
/// address and a ULEB128 frame size. Entries of functions the linker dropped
/// point at address 0 and are skipped.
fn parse_stack_sizes(mut data: &[u8]) -> Option<HashMap<u64, u64>> {
    let mut frames = HashMap::new();
    while !data.is_empty() {
        let (addr, rest) = data.split_first_chunk::<4>()?;
        let addr = u64::from(u32::from_le_bytes(*addr)) & !1;
        let (mut size, mut shift) = (0u64, 0);
        let mut rest = rest.iter();
        loop {
            let byte = *rest.next()?;
            size |= u64::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
        data = rest.as_slice();
        if addr != 0 {
            frames.insert(addr, size);
        }
    }
    Some(frames)
}

/// A Rust symbol demangled without its hash; other symbols as they are.
pub fn demangle(name: &str) -> String {
    format!("{:#}", rustc_demangle::demangle(name))
}

/// A name without generic arguments, for display:
/// `<ota_agent::agent::Agent<firmware::port::Port<..>, 0>>::start` becomes
/// `<ota_agent::agent::Agent>::start`.
pub fn short_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut skipping = 0;
    let mut prev = ' ';
    for c in name.chars() {
        match c {
            '<' if skipping > 0 => skipping += 1,
            '<' if prev.is_alphanumeric() || prev == '_' => skipping = 1,
            '>' if skipping > 0 => skipping -= 1,
            _ if skipping > 0 => {}
            _ => out.push(c),
        }
        prev = c;
    }
    out
}

/// What a symbol is attributed to: the crate, and for `core`, the agent and
/// the firmware also the module (`core::fmt`, `ota_agent::json`). An impl belongs to its
/// self type, or for a primitive self type (`<u32 as core::fmt::Display>`)
/// to its trait. Symbols that are not Rust paths get a descriptive group.
pub fn component(name: &str) -> String {
    let c_runtime = ["memcpy", "memmove", "memset", "memcmp", "bcmp"];
    if name.starts_with("__aeabi_") || name.starts_with("__udiv") || c_runtime.contains(&name) {
        return "compiler_builtins".into();
    }
    if name.starts_with(".L") {
        return "(anonymous constants)".into();
    }
    let short = short_name(name);
    let path = match short.strip_prefix('<') {
        Some(qualified) => {
            let inner = &qualified[..closing(qualified)];
            let (self_ty, trait_path) = match inner.split_once(" as ") {
                Some((s, t)) => (s, Some(t)),
                None => (inner, None),
            };
            let self_ty = self_ty.trim_start_matches(['&', '*', '[', '(']);
            let self_ty = ["mut ", "const ", "dyn "]
                .iter()
                .find_map(|p| self_ty.strip_prefix(p))
                .unwrap_or(self_ty);
            match trait_path {
                _ if self_ty.contains("::") => self_ty,
                Some(t) => t,
                // An inherent method of a primitive type.
                None => "core::primitive",
            }
        }
        None => &short,
    };
    let mut segments = path.split("::");
    match (segments.next(), segments.next()) {
        (Some(krate @ ("core" | "ota_agent" | "firmware")), Some(module)) => {
            format!("{krate}::{module}")
        }
        (Some(krate), Some(_)) if krate != "__rustc" => krate.into(),
        _ => "(port and runtime)".into(),
    }
}

/// The crate of [`component`].
pub fn crate_of(name: &str) -> String {
    let c = component(name);
    match c.split_once("::") {
        Some((krate, _)) => krate.into(),
        None => c,
    }
}

/// The index of the `>` closing a `<` that `s` follows.
fn closing(s: &str) -> usize {
    let mut depth = 1;
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            '>' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
    }
    s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_sizes_entries() {
        let data = [0x01, 0x10, 0x00, 0x08, 0x90, 0x01, 0, 0, 0, 0, 0x08];
        let frames = parse_stack_sizes(&data).unwrap();
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[&0x0800_1000], 0x90);
        assert!(parse_stack_sizes(&data[..5]).is_none());
    }

    #[test]
    fn names() {
        assert_eq!(
            short_name("<ota_agent::agent::Agent<firmware::port::Port<a::B, c::D>, 0>>::start"),
            "<ota_agent::agent::Agent>::start"
        );
        assert_eq!(component("<u32 as core::fmt::Display>::fmt"), "core::fmt");
        assert_eq!(component("<char>::encode_utf8"), "core::primitive");
        assert_eq!(
            component("<&mut ota_agent::json::Cursor<'_> as core::fmt::Debug>::fmt"),
            "ota_agent::json"
        );
        assert_eq!(
            component("ota_agent::agent::transfer::<impl ota_agent::agent::Agent<P, _>>::f"),
            "ota_agent::agent"
        );
        assert_eq!(component("sha2::sha256::compress256"), "sha2");
        assert_eq!(crate_of("<core::fmt::Formatter>::pad"), "core");
        assert_eq!(component("__aeabi_memcpy4"), "compiler_builtins");
        assert_eq!(
            component("__rustc::rust_begin_unwind"),
            "(port and runtime)"
        );
        assert_eq!(component("port_slot_write"), "(port and runtime)");
    }
}
