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

struct Writer<'a> {
    out: &'a mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) -> Result<(), BufferTooSmall> {
        let end = self.len + b.len();
        self.out
            .get_mut(self.len..end)
            .ok_or(BufferTooSmall)?
            .copy_from_slice(b);
        self.len = end;
        Ok(())
    }

    /// A head with the shortest argument encoding.
    fn head(&mut self, major: u8, value: u32) -> Result<(), BufferTooSmall> {
        let m = major << 5;
        let v = value.to_be_bytes();
        match value {
            0..=23 => self.bytes(&[m | value as u8]),
            24..=0xff => self.bytes(&[m | 24, v[3]]),
            0x100..=0xffff => self.bytes(&[m | 25, v[2], v[3]]),
            _ => self.bytes(&[m | 26, v[0], v[1], v[2], v[3]]),
        }
    }

    fn text(&mut self, s: &str) -> Result<(), BufferTooSmall> {
        self.head(TEXT, s.len() as u32)?;
        self.bytes(s.as_bytes())
    }

    fn key_uint(&mut self, key: &str, value: u32) -> Result<(), BufferTooSmall> {
        self.text(key)?;
        self.head(UINT, value)
    }
}

/// Encode `req` into `out`; the number of bytes written.
pub fn encode_request(req: &StreamRequest<'_>, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
    let mut w = Writer { out, len: 0 };
    w.head(MAP, 6)?;
    w.text("c")?;
    w.text(req.client_token)?;
    w.key_uint("f", req.file_id)?;
    w.key_uint("l", req.block_size)?;
    w.key_uint("o", req.offset)?;
    w.text("b")?;
    w.head(BYTES, req.bitmap.len() as u32)?;
    w.bytes(req.bitmap)?;
    w.key_uint("n", req.count)?;
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

/// A data item's head: major type and argument (or `None`: indefinite).
struct Head {
    major: u8,
    arg: Option<u64>,
}

struct Reader<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BlockError> {
        let end = self.pos.checked_add(n).ok_or(BlockError::Malformed)?;
        let s = self.msg.get(self.pos..end).ok_or(BlockError::Malformed)?;
        self.pos = end;
        Ok(s)
    }

    fn peek_break(&self) -> bool {
        self.msg.get(self.pos) == Some(&BREAK)
    }

    fn head(&mut self) -> Result<Head, BlockError> {
        let b = self.take(1)?[0];
        let (major, info) = (b >> 5, b & 0x1f);
        let arg = match info {
            0..=23 => Some(info as u64),
            24..=27 => {
                let n = 1usize << (info - 24);
                Some(self.take(n)?.iter().fold(0u64, |a, &x| a << 8 | x as u64))
            }
            INDEFINITE if matches!(major, 2..=5) => None,
            _ => return Err(BlockError::Malformed),
        };
        Ok(Head { major, arg })
    }

    /// A definite-length string of major type `major`.
    fn string(&mut self, major: u8) -> Result<Option<&'a [u8]>, BlockError> {
        let h = self.head()?;
        if h.major != major {
            return Ok(None);
        }
        let len = h.arg.ok_or(BlockError::Malformed)?;
        self.take(usize::try_from(len).map_err(|_| BlockError::Malformed)?)
            .map(Some)
    }

    fn uint(&mut self, field: &'static str) -> Result<u32, BlockError> {
        match self.head()? {
            Head {
                major: UINT,
                arg: Some(v),
            } => u32::try_from(v).map_err(|_| BlockError::BadField(field)),
            _ => Err(BlockError::BadField(field)),
        }
    }

    /// Skip one whole data item, without recursion: `open` holds, per open
    /// container, the items still to come (`None`: until a break).
    fn skip(&mut self) -> Result<(), BlockError> {
        let mut open: [Option<u64>; MAX_SKIP_DEPTH] = [None; MAX_SKIP_DEPTH];
        let mut depth = 0usize;
        loop {
            let closes_indefinite = depth > 0 && open[depth - 1].is_none() && self.peek_break();
            if closes_indefinite {
                self.pos += 1;
                depth -= 1;
            } else {
                let h = self.head()?;
                let children = match (h.major, h.arg) {
                    (0 | 1 | 7, _) => None,
                    // A tag's content is the next item.
                    (6, _) => continue,
                    (2 | 3, Some(len)) => {
                        self.take(usize::try_from(len).map_err(|_| BlockError::Malformed)?)?;
                        None
                    }
                    (4, Some(0)) | (5, Some(0)) => None,
                    (4, Some(n)) => Some(Some(n)),
                    (5, Some(n)) => Some(Some(n.checked_mul(2).ok_or(BlockError::Malformed)?)),
                    // Indefinite strings (chunks), arrays and maps: until a break.
                    (2..=5, None) => Some(None),
                    _ => return Err(BlockError::Malformed),
                };
                if let Some(items) = children {
                    *open.get_mut(depth).ok_or(BlockError::Malformed)? = items;
                    depth += 1;
                    continue;
                }
            }
            // An item is complete: count it against the containers it closes.
            loop {
                let Some(parent) = depth.checked_sub(1) else {
                    return Ok(());
                };
                match &mut open[parent] {
                    Some(n) => {
                        *n -= 1;
                        if *n > 0 {
                            break;
                        }
                        depth = parent;
                    }
                    None => break,
                }
            }
        }
    }
}

/// Decode a block message from `.../streams/{stream}/data/cbor`.
pub fn decode_block(msg: &[u8]) -> Result<Block<'_>, BlockError> {
    let mut r = Reader { msg, pos: 0 };
    let map = r.head()?;
    if map.major != MAP {
        return Err(BlockError::Malformed);
    }
    let (mut f, mut i, mut l, mut p) = (None, None, None, None);
    let mut seen = 0u64;
    loop {
        match map.arg {
            Some(n) if seen == n => break,
            None if r.peek_break() => {
                r.pos += 1;
                break;
            }
            _ => seen += 1,
        }
        let key = r.string(TEXT)?.ok_or(BlockError::Malformed)?;
        let (slot, name) = match key {
            b"f" => (&mut f, "f"),
            b"i" => (&mut i, "i"),
            b"l" => (&mut l, "l"),
            b"p" => {
                let bytes = r.string(BYTES)?.ok_or(BlockError::BadField("p"))?;
                if p.replace(bytes).is_some() {
                    return Err(BlockError::BadField("p"));
                }
                continue;
            }
            _ => {
                r.skip()?;
                continue;
            }
        };
        if slot.replace(r.uint(name)?).is_some() {
            return Err(BlockError::BadField(name));
        }
    }
    if r.pos != msg.len() {
        return Err(BlockError::Malformed);
    }
    Ok(Block {
        file_id: f.ok_or(BlockError::BadField("f"))?,
        index: i.ok_or(BlockError::BadField("i"))?,
        length: l.ok_or(BlockError::BadField("l"))?,
        payload: p.ok_or(BlockError::BadField("p"))?,
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
