//! The CBOR messages of MQTT-based file delivery (PROTOCOL.md §5).
//!
//! The request is byte-identical to the C agent's: a 6-pair map in the order
//! `c f l o b n`, minimal integer heads, the bitmap as a byte string. A block
//! response is read in any key order with extra keys ignored; `f`, `i`, `l`
//! must be unsigned integers and `p` a definite-length byte string, each
//! present exactly once. Only these two shapes are needed, so the codec is
//! written here (RFC 8949, no allocation) rather than pulled in whole.

/// The client token the agent sends (the service echoes it back).
pub const CLIENT_TOKEN: &str = "rdy";

/// A GetStream request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamRequest<'a> {
    /// `c`: client token.
    pub client_token: &'a str,
    /// `f`: file id.
    pub file_id: u32,
    /// `l`: block size.
    pub block_size: u32,
    /// `o`: the block the bitmap starts at.
    pub offset: u32,
    /// `b`: bit k set = block `offset + k` wanted (LSB first).
    pub bitmap: &'a [u8],
    /// `n`: the most blocks to send.
    pub count: u32,
}

/// The request did not fit the output buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall;

const UINT: u8 = 0;
const BYTES: u8 = 2;
const TEXT: u8 = 3;
const MAP: u8 = 5;
/// Additional info 31: indefinite length (or, in major type 7, "break").
const INDEFINITE: u8 = 31;
const BREAK: u8 = 0xff;

/// Writes into `out` while the bytes fit and counts on past its end, so that
/// overflow is checked once, at the end.
struct Writer<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        let end = self.len + b.len();
        if let Some(dst) = self.out.get_mut(self.len..end) {
            dst.copy_from_slice(b);
        }
        self.len = end;
    }

    /// A head with the shortest argument encoding.
    fn head(&mut self, major: u8, value: u32) {
        let (info, n) = match value {
            0..=23 => (value as u8, 0),
            24..=0xff => (24, 1),
            0x100..=0xffff => (25, 2),
            _ => (26, 4),
        };
        self.bytes(&[major << 5 | info]);
        self.bytes(&value.to_be_bytes()[4 - n..]);
    }
}

/// Encode `req` into `out`; the number of bytes written.
pub fn encode_request(req: &StreamRequest<'_>, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
    let token = req.client_token.as_bytes();
    let bitmap = req.bitmap;
    let args = [
        token.len() as u32,
        req.file_id,
        req.block_size,
        req.offset,
        bitmap.len() as u32,
        req.count,
    ];
    let mut w = Writer { out, len: 0 };
    w.head(MAP, args.len() as u32);
    for (&key, arg) in b"cflobn".iter().zip(args) {
        w.bytes(&[TEXT << 5 | 1, key]);
        let (major, content) = match key {
            b'c' => (TEXT, token),
            b'b' => (BYTES, bitmap),
            _ => (UINT, &[][..]),
        };
        w.head(major, arg);
        w.bytes(content);
    }
    if w.len > w.out.len() {
        return Err(BufferTooSmall);
    }
    Ok(w.len)
}

/// One block of a file, borrowed from the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Block<'a> {
    /// `f`: file id.
    pub file_id: u32,
    /// `i`: block index.
    pub index: u32,
    /// `l`: the length the service claims.
    pub length: u32,
    /// `p`: the data.
    pub payload: &'a [u8],
}

/// Why a block message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockError {
    /// Not a CBOR map, or malformed CBOR.
    Malformed,
    /// A key is missing, repeated, or of the wrong type.
    BadField(&'static str),
}

/// How deeply nested a value the agent does not use may be.
const MAX_SKIP_DEPTH: usize = 8;

/// The keys the agent reads, in the order missing ones are reported.
const FIELDS: [&str; 4] = ["f", "i", "l", "p"];
/// The same keys as their one letter each (derived from [`FIELDS`], which
/// must hold one-letter keys: the build stops otherwise).
const KEYS: [u8; FIELDS.len()] = {
    let mut keys = [0; FIELDS.len()];
    let mut i = 0;
    while i < FIELDS.len() {
        assert!(FIELDS[i].len() == 1);
        keys[i] = FIELDS[i].as_bytes()[0];
        i += 1;
    }
    keys
};

/// A data item's head.
struct Head {
    major: u8,
    /// The argument; `u32::MAX` if it does not fit or the length is
    /// indefinite (as a length or count it then exceeds any message: 2³² and
    /// more items take 4 GiB).
    arg: u32,
    /// The argument did not fit `u32`.
    wide: bool,
    /// Indefinite length (`arg` is then `u32::MAX`).
    indefinite: bool,
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// The next `n` bytes: a string's content given its head's argument
    /// (which for an indefinite length, `u32::MAX`, is more than any message
    /// holds: malformed, as such a string is for the agent).
    fn take(&mut self, n: u32) -> Result<&'a [u8], BlockError> {
        match usize::try_from(n) {
            Ok(n) if n <= self.rest.len() => {
                let (taken, rest) = self.rest.split_at(n);
                self.rest = rest;
                Ok(taken)
            }
            _ => Err(BlockError::Malformed),
        }
    }

    /// Consume a break, if one is next.
    fn end_indefinite(&mut self) -> bool {
        let at_break = self.rest.first() == Some(&BREAK);
        if at_break {
            self.rest = &self.rest[1..];
        }
        at_break
    }

    fn head(&mut self) -> Result<Head, BlockError> {
        let (&b, rest) = self.rest.split_first().ok_or(BlockError::Malformed)?;
        self.rest = rest;
        let (major, info) = (b >> 5, b & 0x1f);
        let mut h = Head {
            major,
            arg: info as u32,
            wide: false,
            indefinite: false,
        };
        match info {
            0..=23 => {}
            24..=27 => {
                h.arg = 0;
                for &x in self.take(1 << (info - 24))? {
                    h.wide |= h.arg >> 24 != 0;
                    h.arg = h.arg << 8 | x as u32;
                }
                if h.wide {
                    h.arg = u32::MAX;
                }
            }
            INDEFINITE if matches!(major, 2..=5) => {
                h.arg = u32::MAX;
                h.indefinite = true;
            }
            _ => return Err(BlockError::Malformed),
        }
        Ok(h)
    }

    /// Skip one whole data item, without recursion: `open` holds, per open
    /// container, the items still to come (0: until a break).
    fn skip(&mut self) -> Result<(), BlockError> {
        let mut open = [0u32; MAX_SKIP_DEPTH];
        let mut depth = 0usize;
        loop {
            let innermost = depth.checked_sub(1).and_then(|p| open.get(p));
            if innermost == Some(&0) && self.end_indefinite() {
                depth -= 1;
            } else {
                let h = self.head()?;
                let items = match h.major {
                    // A tag's content is the next item.
                    6 => continue,
                    // Indefinite strings (chunks), arrays and maps: until a break.
                    2..=5 if h.indefinite => 0,
                    2 | 3 => self.take(h.arg).map(|_| 0)?,
                    4 => h.arg,
                    5 => h.arg.saturating_mul(2),
                    _ => 0,
                };
                if items > 0 || h.indefinite {
                    *open.get_mut(depth).ok_or(BlockError::Malformed)? = items;
                    depth += 1;
                    continue;
                }
            }
            // An item is complete: count it against the containers it closes.
            while let Some(n) = depth.checked_sub(1).and_then(|p| open.get_mut(p)) {
                if *n == 0 {
                    break;
                }
                *n -= 1;
                if *n > 0 {
                    break;
                }
                depth -= 1;
            }
            if depth == 0 {
                return Ok(());
            }
        }
    }
}

/// Decode a block message from `.../streams/{stream}/data/cbor`.
pub fn decode_block(msg: &[u8]) -> Result<Block<'_>, BlockError> {
    let mut r = Reader { rest: msg };
    let map = r.head()?;
    if map.major != MAP {
        return Err(BlockError::Malformed);
    }
    let mut pairs_left = map.arg;
    let mut values = [0u32; 3];
    let mut payload: &[u8] = &[];
    let mut seen = 0u8;
    loop {
        if map.indefinite {
            if r.end_indefinite() {
                break;
            }
        } else if pairs_left == 0 {
            break;
        } else {
            pairs_left -= 1;
        }
        let key = r.head()?;
        if key.major != TEXT {
            return Err(BlockError::Malformed);
        }
        // The keys read are one letter each: a byte compare, not a string one.
        let k = match r.take(key.arg)? {
            [c] => KEYS.iter().position(|f| f == c),
            _ => None,
        };
        let Some(k) = k else {
            r.skip()?;
            continue;
        };
        let name = FIELDS[k];
        let value = r.head()?;
        if k == 3 {
            if value.major != BYTES {
                return Err(BlockError::BadField(name));
            }
            payload = r.take(value.arg)?;
        } else if value.major == UINT && !value.wide {
            values[k] = value.arg;
        } else {
            return Err(BlockError::BadField(name));
        }
        if seen & 1 << k != 0 {
            return Err(BlockError::BadField(name));
        }
        seen |= 1 << k;
    }
    if !r.rest.is_empty() {
        return Err(BlockError::Malformed);
    }
    // The first key not seen, if any.
    if let Some(name) = FIELDS.get((!seen & 0xf).trailing_zeros() as usize) {
        return Err(BlockError::BadField(name));
    }
    Ok(Block {
        file_id: values[0],
        index: values[1],
        length: values[2],
        payload,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use minicbor::Encoder;
    use std::vec::Vec;

    fn hex(s: &str) -> Vec<u8> {
        let s: std::string::String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn encode(req: &StreamRequest) -> Vec<u8> {
        let mut buf = [0u8; 128];
        let n = encode_request(req, &mut buf).unwrap();
        buf[..n].to_vec()
    }

    /// Encode a block response the way the service does.
    pub(crate) fn block_message(f: u32, i: u32, l: u32, p: &[u8]) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        e.map(5).unwrap();
        e.str("c").unwrap().str("rdy").unwrap();
        e.str("f").unwrap().u32(f).unwrap();
        e.str("l").unwrap().u32(l).unwrap();
        e.str("i").unwrap().u32(i).unwrap();
        e.str("p").unwrap().bytes(p).unwrap();
        e.into_writer()
    }

    #[test]
    fn byte_exact_unit_test_request() {
        let req = StreamRequest {
            client_token: "ThisIsAClientToken",
            file_id: 1,
            block_size: 4096,
            offset: 0,
            bitmap: &[0xaa; 4],
            count: 4,
        };
        assert_eq!(
            encode(&req),
            hex("a6 61 63 72 5468697349734143 6c69656e74546f6b656e 61 66 01 61 6c 19 1000 61 6f 00 61 62 44 aaaaaaaa 61 6e 04")
        );
    }

    #[test]
    fn byte_exact_first_request_for_three_blocks() {
        let req = StreamRequest {
            client_token: CLIENT_TOKEN,
            file_id: 0,
            block_size: 4096,
            offset: 0,
            bitmap: &[0x07],
            count: 1,
        };
        assert_eq!(
            encode(&req),
            hex("a6 6163 63726479 6166 00 616c 191000 616f 00 6162 41 07 616e 01")
        );
    }

    #[test]
    fn too_small_a_buffer_is_an_error() {
        let req = StreamRequest {
            client_token: CLIENT_TOKEN,
            file_id: 0,
            block_size: 4096,
            offset: 0,
            bitmap: &[0xff; 32],
            count: 1,
        };
        let mut buf = [0u8; 20];
        assert_eq!(encode_request(&req, &mut buf), Err(BufferTooSmall));
    }

    #[test]
    fn decodes_any_key_order_and_ignores_extra_keys() {
        let msg = block_message(3, 7, 4, b"abcd");
        let b = decode_block(&msg).unwrap();
        assert_eq!(
            (b.file_id, b.index, b.length, b.payload),
            (3, 7, 4, &b"abcd"[..])
        );

        // p first, extra keys of several types, indefinite-length map.
        let mut e = Encoder::new(Vec::new());
        e.begin_map().unwrap();
        e.str("p").unwrap().bytes(b"xy").unwrap();
        e.str("zz")
            .unwrap()
            .array(2)
            .unwrap()
            .u8(1)
            .unwrap()
            .str("q")
            .unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("l").unwrap().u32(2).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.end().unwrap();
        let msg = e.into_writer();
        let b = decode_block(&msg).unwrap();
        assert_eq!((b.index, b.payload), (0, &b"xy"[..]));
    }

    #[test]
    fn skips_nested_and_indefinite_values_of_unknown_keys() {
        let mut e = Encoder::new(Vec::new());
        e.begin_map().unwrap();
        e.str("x").unwrap();
        e.begin_array().unwrap();
        e.map(1)
            .unwrap()
            .u8(1)
            .unwrap()
            .begin_bytes()
            .unwrap()
            .bytes(b"ab")
            .unwrap()
            .end()
            .unwrap();
        e.tag(minicbor::data::Tag::new(2))
            .unwrap()
            .array(0)
            .unwrap();
        e.begin_str().unwrap().str("s").unwrap().end().unwrap();
        e.end().unwrap();
        e.str("f").unwrap().u32(1).unwrap();
        e.str("i").unwrap().u32(2).unwrap();
        e.str("l").unwrap().u32(1).unwrap();
        e.str("p").unwrap().bytes(b"z").unwrap();
        e.end().unwrap();
        let msg = e.into_writer();
        let b = decode_block(&msg).unwrap();
        assert_eq!((b.file_id, b.index, b.payload), (1, 2, &b"z"[..]));
        // Nesting deeper than the limit is refused, not followed.
        let mut deep = std::vec![0xa1u8, 0x61, b'x'];
        deep.extend(std::iter::repeat_n(0x81, 20));
        deep.push(0);
        assert_eq!(decode_block(&deep), Err(BlockError::Malformed));
    }

    #[test]
    fn refuses_malformed_blocks() {
        let good = block_message(0, 1, 2, b"ab");
        assert!(decode_block(&good).is_ok());
        assert_eq!(
            decode_block(&good[..good.len() - 1]),
            Err(BlockError::Malformed)
        );
        assert_eq!(decode_block(b""), Err(BlockError::Malformed));
        assert_eq!(decode_block(&[0x80]), Err(BlockError::Malformed));

        let mut with_trailing = good.clone();
        with_trailing.push(0);
        assert_eq!(decode_block(&with_trailing), Err(BlockError::Malformed));

        // An indefinite-length payload, and key.
        let chunked = hex("a4 6166 00 6169 00 616c 01 6170 5f 41 61 ff");
        assert_eq!(decode_block(&chunked), Err(BlockError::Malformed));
        let chunked = hex("a4 7f 6166 ff 00 6169 00 616c 01 6170 41 61");
        assert_eq!(decode_block(&chunked), Err(BlockError::Malformed));

        // Negative index.
        let mut e = Encoder::new(Vec::new());
        e.map(4).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().i32(-1).unwrap();
        e.str("l").unwrap().u32(1).unwrap();
        e.str("p").unwrap().bytes(b"a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("i"))
        );

        // Payload as a text string.
        let mut e = Encoder::new(Vec::new());
        e.map(4).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("l").unwrap().u32(1).unwrap();
        e.str("p").unwrap().str("a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("p"))
        );

        // Missing and repeated keys.
        let mut e = Encoder::new(Vec::new());
        e.map(3).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("p").unwrap().bytes(b"a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("l"))
        );
        let mut e = Encoder::new(Vec::new());
        e.map(5).unwrap();
        e.str("f").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(0).unwrap();
        e.str("i").unwrap().u32(1).unwrap();
        e.str("l").unwrap().u32(1).unwrap();
        e.str("p").unwrap().bytes(b"a").unwrap();
        assert_eq!(
            decode_block(&e.into_writer()),
            Err(BlockError::BadField("i"))
        );
    }

    #[test]
    fn arguments_of_any_width() {
        // f, i, l, p with 8-byte heads: values that fit u32 are taken.
        let mut msg = hex("a4 6166 1b 00000000 ffffffff 6169 1a 00000001 616c 19 0001 6170");
        msg.extend(hex("5b 0000000000000001 61"));
        let b = decode_block(&msg).unwrap();
        assert_eq!(
            (b.file_id, b.index, b.length, b.payload),
            (u32::MAX, 1, 1, &b"a"[..])
        );
        // A value above u32::MAX is refused as a field, a length above it as
        // malformed, here and in a skipped value.
        let big = hex("a4 6166 1b 00000001 00000000 6169 00 616c 00 6170 40");
        assert_eq!(decode_block(&big), Err(BlockError::BadField("f")));
        let long = hex("a1 6170 5b 00000001 00000000");
        assert_eq!(decode_block(&long), Err(BlockError::Malformed));
        let skipped = hex("a1 6178 9b 00000001 00000000 00");
        assert_eq!(decode_block(&skipped), Err(BlockError::Malformed));
        // A map count beyond any message is read pair by pair like any other.
        let endless = hex("bb 00000001 00000000 6169 00 6169 00");
        assert_eq!(decode_block(&endless), Err(BlockError::BadField("i")));
        let endless = hex("bb 00000001 00000000 6169 00 6169");
        assert_eq!(decode_block(&endless), Err(BlockError::Malformed));
    }

    proptest::proptest! {
        #[test]
        fn block_round_trips(f in 0u32..256, i in proptest::num::u32::ANY, p in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let msg = block_message(f, i, p.len() as u32, &p);
            let b = decode_block(&msg).unwrap();
            proptest::prop_assert_eq!((b.file_id, b.index, b.length, b.payload), (f, i, p.len() as u32, &p[..]));
        }

        #[test]
        fn request_decodes_back(f in 0u32..256, l in 256u32..131073, o in proptest::num::u32::ANY, n in 1u32..99999,
                                b in proptest::collection::vec(proptest::num::u8::ANY, 1..33)) {
            let req = StreamRequest { client_token: CLIENT_TOKEN, file_id: f, block_size: l, offset: o, bitmap: &b, count: n };
            let msg = encode(&req);
            let mut d = minicbor::Decoder::new(&msg);
            proptest::prop_assert_eq!(d.map().unwrap(), Some(6));
            for (key, value) in [("c", None), ("f", Some(f)), ("l", Some(l)), ("o", Some(o)), ("b", None), ("n", Some(n))] {
                proptest::prop_assert_eq!(d.str().unwrap(), key);
                match (key, value) {
                    ("c", _) => proptest::prop_assert_eq!(d.str().unwrap(), CLIENT_TOKEN),
                    ("b", _) => proptest::prop_assert_eq!(d.bytes().unwrap(), &b[..]),
                    (_, Some(v)) => proptest::prop_assert_eq!(d.u32().unwrap(), v),
                    _ => unreachable!(),
                }
            }
            proptest::prop_assert_eq!(d.position(), msg.len());
        }

        #[test]
        fn decode_never_panics(input in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = decode_block(&input);
        }

        #[test]
        fn decode_never_panics_on_mutations(pos in 0usize..40, byte in proptest::num::u8::ANY) {
            let mut msg = block_message(1, 2, 8, b"abcdefgh");
            let at = pos % msg.len();
            msg[at] = byte;
            let _ = decode_block(&msg);
        }
    }
}
