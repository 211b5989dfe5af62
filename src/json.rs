//! A JSON reader that allocates nothing: it validates a document once
//! (RFC 8259, nesting at most [`MAX_DEPTH`]) and then looks values up by key,
//! handing out slices of the input.
//!
//! The validator is iterative: the open containers are kept as a bit stack,
//! so validating takes the same stack at any depth. A [`Value`] is only its
//! text; its kind is read from its first byte.
//!
//! Strings are returned raw (between the quotes, escapes not decoded);
//! [`Value::decode_str`] decodes them into a caller buffer when needed. Keys
//! are compared raw, as coreJSON (the C agent's reader) compares them: an
//! escaped key such as `"job\u0049d"` does not match `jobId`. The service
//! never escapes its keys, and decoding them cost 428 bytes of flash.

use core::fmt;

/// Deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 16;

/// Why a document was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonError {
    /// Not valid JSON (syntax, control character, bad escape, trailing data).
    Syntax,
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
}

/// The type of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{...}`
    Object,
    /// `[...]`
    Array,
    /// `"..."`
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

/// A value inside a validated document: its exact text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Value<'a> {
    text: &'a [u8],
}

/// Validate `src` as one JSON value (surrounding whitespace allowed).
pub fn parse(src: &[u8]) -> Result<Value<'_>, JsonError> {
    let mut c = Cursor { src, pos: 0 };
    let v = c.value()?;
    c.skip_ws();
    if c.pos != src.len() {
        return Err(JsonError::Syntax);
    }
    Ok(v)
}

impl<'a> Value<'a> {
    /// A `null`, for readers that treat an absent member like JSON `null`.
    pub(crate) const NULL: Value<'static> = Value { text: b"null" };

    /// The value's type.
    pub fn kind(&self) -> Kind {
        match self.text.first() {
            Some(b'{') => Kind::Object,
            Some(b'[') => Kind::Array,
            Some(b'"') => Kind::String,
            Some(b't' | b'f') => Kind::Bool,
            Some(b'n') => Kind::Null,
            _ => Kind::Number,
        }
    }

    /// The value's exact source text.
    pub fn text(&self) -> &'a [u8] {
        self.text
    }

    /// True for `null`.
    pub fn is_null(&self) -> bool {
        self.text.first() == Some(&b'n')
    }

    /// The member `key` of an object (the first, if repeated), its raw key
    /// compared byte for byte; `None` if this is not an object or has no such
    /// member.
    pub fn get(&self, key: &str) -> Option<Value<'a>> {
        for (k, v) in self.members() {
            if k == key.as_bytes() {
                return Some(v);
            }
        }
        None
    }

    /// The member at a path of keys.
    pub fn path(&self, keys: &[&str]) -> Option<Value<'a>> {
        let mut v = *self;
        for key in keys {
            v = v.get(key)?;
        }
        Some(v)
    }

    /// The `index`-th element of an array.
    pub fn at(&self, index: usize) -> Option<Value<'a>> {
        self.elements().nth(index)
    }

    /// The elements of an array (empty for other kinds).
    pub fn elements(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        self.children(b'[').map(|(_, v)| v)
    }

    /// The members of an object as (raw key, value) (empty for other kinds).
    pub fn members(&self) -> impl Iterator<Item = (&'a [u8], Value<'a>)> + 'a {
        self.children(b'{')
    }

    /// The children of a container opened by `open`.
    fn children(&self, open: u8) -> Children<'a> {
        let body = match self.text {
            [first, body @ .., _] if *first == open => body,
            _ => &[],
        };
        Children {
            c: Cursor { src: body, pos: 0 },
            object: open == b'{',
        }
    }

    /// The raw contents of a string (between the quotes, escapes intact).
    // Out of line: its slice pattern repeats at every caller otherwise.
    #[inline(never)]
    pub fn raw_str(&self) -> Option<&'a [u8]> {
        match self.text {
            [b'"', body @ .., _] => Some(body),
            _ => None,
        }
    }

    /// Decode a string's escapes into `out`: the decoded bytes (UTF-8 when
    /// the document is), or `None` if this is not a string, it does not fit,
    /// or an escape is invalid (a lone surrogate).
    pub fn decode_str<'o>(&self, out: &'o mut [u8]) -> Option<&'o [u8]> {
        let raw = self.raw_str()?;
        let (mut pos, mut n, mut buf) = (0, 0, [0; 4]);
        loop {
            let bytes = next_char(raw, &mut pos, &mut buf)?;
            if bytes.is_empty() {
                break;
            }
            out.get_mut(n..n + bytes.len())?.copy_from_slice(bytes);
            n += bytes.len();
        }
        out.get(..n)
    }

    /// A strict u32: a JSON number, or a string, holding decimal digits (no
    /// sign, fraction, exponent or leading zero) or `0x`/`0X` and hex digits,
    /// not above `u32::MAX`.
    // Out of line: measured smaller on thumbv7em (bench/footprint).
    #[inline(never)]
    pub fn as_u32(&self) -> Option<u32> {
        // A string's digits are between its quotes, a number's are its
        // text; the text of any other kind starts with a bracket or a
        // letter, which `parse_u32` refuses.
        parse_u32(self.raw_str().unwrap_or(self.text))
    }
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Value")
            .field("kind", &self.kind())
            .field("text", &self.text)
            .finish()
    }
}

/// Parse a strict u32 (see [`Value::as_u32`]).
pub fn parse_u32(text: &[u8]) -> Option<u32> {
    match text {
        [b'0', b'x' | b'X', hex @ ..] => digits_u32(hex, 16),
        [b'0', _, ..] => None,
        _ => digits_u32(text, 10),
    }
}

/// One or more digits of `radix` as a u32; `None` on any other byte or overflow.
// Out of line: measured smaller on thumbv7em (bench/footprint).
#[inline(never)]
fn digits_u32(digits: &[u8], radix: u32) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    let mut acc = 0u32;
    for &d in digits {
        let v = (d as char).to_digit(radix)?;
        acc = acc.checked_mul(radix)?.checked_add(v)?;
    }
    Some(acc)
}

/// The children of a validated container (its text without the brackets).
struct Children<'a> {
    c: Cursor<'a>,
    object: bool,
}

impl<'a> Iterator for Children<'a> {
    type Item = (&'a [u8], Value<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        let c = &mut self.c;
        c.skip_ws();
        c.eat(b',');
        // The container was validated, so these fail only at its end: a
        // child nests less than its container.
        let key = if self.object { c.key()? } else { &[] };
        let v = c.value().ok()?;
        Some((key, v))
    }
}

struct Cursor<'a> {
    src: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    /// The next byte, consumed.
    fn bump(&mut self) -> Result<u8, JsonError> {
        let b = self.peek().ok_or(JsonError::Syntax)?;
        self.pos += 1;
        Ok(b)
    }

    #[inline(never)]
    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Skip whitespace, then validate one value and return it.
    fn value(&mut self) -> Result<Value<'a>, JsonError> {
        self.skip_ws();
        let start = self.pos;
        // The open containers, innermost in bit 0 (1: object, 0: array),
        // above a marker bit: 1 alone when none is open.
        let mut open = 1u32;
        loop {
            // A value starts here.
            match self.bump()? {
                b @ (b'{' | b'[') => {
                    if open >> MAX_DEPTH != 0 {
                        return Err(JsonError::TooDeep);
                    }
                    let object = b == b'{';
                    open = open << 1 | u32::from(object);
                    self.skip_ws();
                    // `}` and `]` follow `{` and `[` two code points on.
                    if !self.eat(b + 2) {
                        if object {
                            self.key().ok_or(JsonError::Syntax)?;
                        }
                        continue;
                    }
                    open >>= 1;
                }
                b'"' => {
                    self.string().ok_or(JsonError::Syntax)?;
                }
                b't' => self.literal(b"rue")?,
                b'f' => self.literal(b"alse")?,
                b'n' => self.literal(b"ull")?,
                b'-' | b'0'..=b'9' => {
                    self.pos -= 1;
                    self.number()?;
                }
                _ => return Err(JsonError::Syntax),
            }
            // A value ends here: close containers until one has a next item.
            loop {
                if open == 1 {
                    return Ok(Value {
                        text: &self.src[start..self.pos],
                    });
                }
                let object = open & 1 == 1;
                self.skip_ws();
                match self.bump()? {
                    b',' => {
                        self.skip_ws();
                        if object {
                            self.key().ok_or(JsonError::Syntax)?;
                        }
                        break;
                    }
                    b'}' if object => open >>= 1,
                    b']' if !object => open >>= 1,
                    _ => return Err(JsonError::Syntax),
                }
            }
        }
    }

    /// An object key, its colon and the whitespace around them; the raw key,
    /// or `None` on a syntax error.
    // `Option`, not `Result`: it comes back in registers, which measured
    // smaller on thumbv7em; a syntax error is the only way to fail. The same
    // for `string`.
    fn key(&mut self) -> Option<&'a [u8]> {
        self.skip_ws();
        if !self.eat(b'"') {
            return None;
        }
        let key = self.string()?;
        self.skip_ws();
        if !self.eat(b':') {
            return None;
        }
        self.skip_ws();
        Some(key)
    }

    /// The rest of a string after its opening quote; its raw contents, or
    /// `None` on a syntax error.
    fn string(&mut self) -> Option<&'a [u8]> {
        // Reads what is left through a local index and moves the cursor
        // once, at the end: measured smaller on thumbv7em (bench/footprint).
        let rest = &self.src[self.pos..];
        let mut at = 0;
        let mut next = || {
            let b = rest.get(at).copied();
            at += 1;
            b
        };
        loop {
            match next()? {
                b'"' => break,
                b'\\' => match next()? {
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                    b'u' => {
                        for _ in 0..4 {
                            if !next()?.is_ascii_hexdigit() {
                                return None;
                            }
                        }
                    }
                    _ => return None,
                },
                0x00..=0x1f => return None,
                _ => {}
            }
        }
        self.pos += at;
        Some(&rest[..at - 1])
    }

    /// The rest of a literal after its first letter.
    fn literal(&mut self, rest: &[u8]) -> Result<(), JsonError> {
        if self.src.get(self.pos..self.pos + rest.len()) == Some(rest) {
            self.pos += rest.len();
            Ok(())
        } else {
            Err(JsonError::Syntax)
        }
    }

    /// Consume `b` if it comes next.
    fn eat(&mut self, b: u8) -> bool {
        let next = self.peek() == Some(b);
        if next {
            self.pos += 1;
        }
        next
    }

    /// One or more decimal digits.
    fn digits(&mut self) -> Result<(), JsonError> {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(JsonError::Syntax);
        }
        Ok(())
    }

    fn number(&mut self) -> Result<(), JsonError> {
        self.eat(b'-');
        // `0` alone, or digits that do not start with one.
        if !self.eat(b'0') {
            self.digits()?;
        }
        if self.eat(b'.') {
            self.digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            // An optional sign.
            let _ = self.eat(b'+') || self.eat(b'-');
            self.digits()?;
        }
        Ok(())
    }
}

/// Decode the next character of a validated raw JSON string, at
/// `raw[*pos..]`, into `buf` and consume it: its UTF-8 bytes, empty at the
/// end; `None` for an escape that does not decode (a lone surrogate).
fn next_char<'b>(raw: &[u8], pos: &mut usize, buf: &'b mut [u8; 4]) -> Option<&'b [u8]> {
    let Some(&b) = raw.get(*pos) else {
        return Some(&[]);
    };
    *pos += 1;
    if b != b'\\' {
        buf[0] = b;
        return Some(&buf[..1]);
    }
    Some(escape(raw, pos)?.encode_utf8(buf).as_bytes())
}

/// The character of the escape at `raw[*pos..]` (after its backslash),
/// consumed; `None` for a lone surrogate.
// Out of line: measured smaller on thumbv7em (bench/footprint).
#[inline(never)]
fn escape(raw: &[u8], pos: &mut usize) -> Option<char> {
    let e = *raw.get(*pos)?;
    *pos += 1;
    let code = match e {
        b'b' => 0x08,
        b'f' => 0x0c,
        b'n' => 0x0a,
        b'r' => 0x0d,
        b't' => 0x09,
        b'u' => {
            let hi = hex4(raw, *pos)?;
            *pos += 4;
            if !(0xd800..0xdc00).contains(&hi) {
                hi
            } else {
                if raw.get(*pos..*pos + 2) != Some(b"\\u") {
                    return None;
                }
                let lo = hex4(raw, *pos + 2)?;
                if !(0xdc00..0xe000).contains(&lo) {
                    return None;
                }
                *pos += 6;
                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
            }
        }
        // `"`, `\` or `/`: the string was validated.
        other => u32::from(other),
    };
    char::from_u32(code)
}

/// The four hex digits at `raw[at..]`.
fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    digits_u32(raw.get(at..at + 4)?, 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Value<'_>, JsonError> {
        parse(s.as_bytes())
    }

    #[test]
    fn validates() {
        for ok in [
            "{}",
            "[]",
            " {\"a\" : [1, -2.5e3, true, false, null, \"x\\n\\u00e9\"]} ",
            "0",
            "\"\\ud83d\\ude00\"",
        ] {
            assert!(p(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "\"\u{1}\"",
            "\"\\x\"",
            "\"\\u12\"",
            "{} {}",
            "not a json",
            "{a:1}",
        ] {
            assert_eq!(p(bad).map(|_| ()), Err(JsonError::Syntax), "{bad:?}");
        }
    }

    #[test]
    fn depth_is_bounded() {
        let deep: std::string::String = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(p(&deep).is_ok());
        let deeper = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert_eq!(p(&deeper).map(|_| ()), Err(JsonError::TooDeep));
    }

    #[test]
    fn looks_up_paths_and_elements() {
        let doc =
            p(r#"{"execution":{"jobId":"j1","jobDocument":{"files":[{"filesize":10},{"x":1}]}}}"#)
                .unwrap();
        let id = doc.path(&["execution", "jobId"]).unwrap();
        assert_eq!(id.raw_str(), Some(&b"j1"[..]));
        let files = doc.path(&["execution", "jobDocument", "files"]).unwrap();
        assert_eq!(files.kind(), Kind::Array);
        assert_eq!(files.elements().count(), 2);
        assert_eq!(
            files.at(0).unwrap().get("filesize").unwrap().as_u32(),
            Some(10)
        );
        assert!(files.at(2).is_none());
        assert!(
            doc.get("jobId").is_none(),
            "lookups do not search nested objects"
        );
        assert!(id.get("x").is_none());
    }

    #[test]
    fn keys_compare_raw() {
        let doc = p(r#"{"job\u0049d":"a","x\"y":2,"jobIdd":3}"#).unwrap();
        assert!(
            doc.get("jobId").is_none(),
            "escapes in keys are not decoded"
        );
        assert!(doc.get(r"job\u0049d").is_some());
        assert!(doc.get(r#"x\"y"#).is_some());
        assert!(doc.get("job").is_none());
        assert_eq!(doc.get("jobIdd").map(|v| v.text()), Some(&b"3"[..]));
    }

    #[test]
    fn decodes_strings() {
        let v = p(r#""a\/b\u00e9\ud83d\ude00\n""#).unwrap();
        let mut buf = [0u8; 32];
        assert_eq!(v.decode_str(&mut buf), Some("a/bé😀\n".as_bytes()));
        let mut small = [0u8; 3];
        assert_eq!(v.decode_str(&mut small), None);
        let lone = p(r#""\ud83d""#).unwrap();
        assert_eq!(lone.decode_str(&mut buf), None);
    }

    #[test]
    fn strict_u32() {
        let n = |s: &str| p(s).unwrap().as_u32();
        assert_eq!(n("1024"), Some(1024));
        assert_eq!(n("\"1024\""), Some(1024));
        assert_eq!(n("\"0x1000000\""), Some(0x0100_0000));
        assert_eq!(n("\"0x01000000\""), Some(0x0100_0000));
        assert_eq!(n("\"0X10\""), Some(16));
        assert_eq!(n("4294967295"), Some(u32::MAX));
        assert_eq!(n("0"), Some(0));
        for bad in [
            "4294967296",
            "19223372036854775808",
            "-1",
            "\"-1\"",
            "12.5",
            "1e3",
            "\"NaN\"",
            "\"0123\"",
            "\"0x\"",
            "\"0x100000000\"",
            "\"+5\"",
            "\" 5\"",
            "\"\"",
            "true",
            "null",
        ] {
            assert_eq!(n(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            if let Ok(v) = parse(&input) {
                let _ = v.path(&["a", "b"]);
                let _ = v.elements().count();
                let mut buf = [0u8; 64];
                let _ = v.decode_str(&mut buf);
                let _ = v.as_u32();
            }
        }

        #[test]
        fn u32_text_round_trips(x in proptest::num::u32::ANY) {
            let dec = std::format!("{x}");
            let hex = std::format!("0x{x:08x}");
            proptest::prop_assert_eq!(parse_u32(dec.as_bytes()), Some(x));
            proptest::prop_assert_eq!(parse_u32(hex.as_bytes()), Some(x));
        }

        #[test]
        fn finds_every_member(keys in proptest::collection::btree_set("[a-z]{1,6}", 1..8)) {
            let body: std::vec::Vec<std::string::String> = keys
                .iter()
                .enumerate()
                .map(|(i, k)| std::format!("\"{k}\": [{i}, {{\"n\": {i}}}]"))
                .collect();
            let text = std::format!("{{{}}}", body.join(" , "));
            let doc = parse(text.as_bytes()).unwrap();
            for (i, k) in keys.iter().enumerate() {
                let v = doc.get(k).unwrap();
                proptest::prop_assert_eq!(v.at(1).unwrap().get("n").unwrap().as_u32(), Some(i as u32));
            }
        }
    }
}
