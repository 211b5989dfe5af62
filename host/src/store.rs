//! The progress store: an append-only log over the first two pages of the
//! storage partition, on the same flash as the slots (so power cuts hit it
//! too).
//!
//! ```text
//! page:  [magic "OTAS" u32][generation u32][crc32 of the 8 bytes]  padded to W
//!        [entry][entry]...[erased]
//! entry: [len u16][tag u16][len bytes][crc32 of len, tag and bytes] padded to W
//! ```
//!
//! (`W` is the write unit, all integers little-endian.) A save appends a
//! record entry to the active page, the one with the newer generation; a
//! clear appends an empty tombstone entry. When an entry does not fit, the
//! other page is erased and started with the next generation, its header and
//! the entry written together. [`load`](ProgressStore::load) returns the
//! newest intact entry: the last one whose CRC checks in the active page, or
//! in the other page if the active one has none yet.
//!
//! Because the CRC is written last (writes program their units in order), an
//! entry cut short never checks, and the previous entry stays the newest: a
//! torn save reads back as the record before it, a torn clear as the record it
//! was clearing. A torn header that cannot be skipped closes the page: the
//! next save moves to the other page.
//!
//! Cost per save or clear: **one write** of `align_up(8 + len, W)` bytes
//! (108 bytes for a 99-byte record with 4-byte writes). Every
//! `floor((page - align_up(12, W)) / entry)` saves (37 such records on a
//! 4 KiB page) a save instead costs **one page erase and one write** of
//! header and entry; each of the two pages is thus erased once every 74 such
//! saves. Clearing an empty store writes nothing. [`FlashStore::entry_size`]
//! and [`FlashStore::entries_per_page`] give the figures for a geometry.

use ota_agent::{PortError, ProgressStore, RESUME_RECORD_MAX};

use crate::crc::crc32;
use crate::flash::FlashError;
use crate::partition::Area;
use crate::ConfigError;

/// "OTAS", little-endian.
const PAGE_MAGIC: u32 = u32::from_le_bytes(*b"OTAS");
/// Magic, generation, CRC.
const PAGE_HEADER_LEN: u32 = 12;
/// Length and tag before the record, CRC after it.
const ENTRY_OVERHEAD: u32 = 8;
/// The tag of a record entry.
const TAG_RECORD: u16 = 0xa55a;
/// The tag of a clear (tombstone) entry, whose length is 0.
const TAG_CLEAR: u16 = 0x5aa5;
/// `EINVAL`: a record longer than `RESUME_RECORD_MAX`.
const EINVAL: i32 = 22;

/// What the newest intact entry says.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Newest {
    /// A record.
    Record(Vec<u8>),
    /// Cleared, or nothing ever saved.
    Nothing,
}

/// One page as found by a scan.
#[derive(Clone, Debug)]
struct PageScan {
    generation: u32,
    /// The last intact entry, if any.
    newest: Option<Newest>,
    /// Where the erased tail starts; `None` if the page is full or has a
    /// header that cannot be skipped.
    free: Option<u32>,
}

/// The page being appended to.
#[derive(Clone, Copy, Debug)]
struct Active {
    page: u32,
    generation: u32,
    free: Option<u32>,
}

/// The log as scanned at first use (RAM state: lost at reset).
#[derive(Clone, Debug)]
struct Log {
    active: Option<Active>,
    newest: Newest,
}

/// A [`ProgressStore`] in flash; see the [module documentation](self).
#[derive(Clone, Debug)]
pub struct FlashStore {
    area: Area,
    page_size: u32,
    unit: u32,
    erased: u8,
    log: Option<Log>,
}

const fn align_up(v: u32, a: u32) -> u32 {
    v.div_ceil(a) * a
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl FlashStore {
    /// A store in the first two pages of `area` (the storage partition).
    /// Nothing is read or written until the first call.
    pub fn new(area: Area) -> Result<Self, ConfigError> {
        let geometry = area.geometry();
        let (page_size, unit) = (geometry.page_size(), geometry.write_size());
        if area.size() < 2 * page_size {
            return Err(ConfigError("the store needs two pages"));
        }
        let largest = align_up(PAGE_HEADER_LEN, unit)
            + align_up(ENTRY_OVERHEAD + RESUME_RECORD_MAX as u32, unit);
        if largest > page_size {
            return Err(ConfigError("a page cannot hold the largest record"));
        }
        Ok(FlashStore {
            area,
            page_size,
            unit,
            erased: geometry.erased(),
            log: None,
        })
    }

    /// Forget what was read from flash, as a reset does: the next call scans
    /// the pages again.
    pub fn forget(&mut self) {
        self.log = None;
    }

    /// Bytes an entry of `len` bytes of record takes in a page.
    pub fn entry_size(&self, len: usize) -> u32 {
        align_up(ENTRY_OVERHEAD + len as u32, self.unit)
    }

    /// How many saves of `len`-byte records fit in one page.
    pub fn entries_per_page(&self, len: usize) -> u32 {
        (self.page_size - align_up(PAGE_HEADER_LEN, self.unit)) / self.entry_size(len)
    }

    /// The log, scanned from flash at first use or after an error.
    fn log(&mut self) -> Result<&mut Log, FlashError> {
        let log = match self.log.take() {
            Some(log) => log,
            None => self.scan()?,
        };
        Ok(self.log.insert(log))
    }

    fn scan(&self) -> Result<Log, FlashError> {
        let mut pages = Vec::new();
        for page in 0..2 {
            if let Some(scan) = self.scan_page(page)? {
                pages.push((page, scan));
            }
        }
        // Newest generation first (serial-number order, so wrapping is fine).
        if let [(_, a), (_, b)] = &pages[..] {
            if (b.generation.wrapping_sub(a.generation) as i32) > 0 {
                pages.swap(0, 1);
            }
        }
        let active = pages.first().map(|(page, scan)| Active {
            page: *page,
            generation: scan.generation,
            free: scan.free,
        });
        let newest = pages
            .into_iter()
            .find_map(|(_, scan)| scan.newest)
            .unwrap_or(Newest::Nothing);
        Ok(Log { active, newest })
    }

    /// Parse one page; `None` if its header is not intact.
    fn scan_page(&self, page: u32) -> Result<Option<PageScan>, FlashError> {
        let mut bytes = vec![0; self.page_size as usize];
        self.area.read(page * self.page_size, &mut bytes)?;
        let header = &bytes[..PAGE_HEADER_LEN as usize];
        if le32(header) != PAGE_MAGIC || crc32(&header[..8]) != le32(&header[8..]) {
            return Ok(None);
        }
        let mut scan = PageScan {
            generation: le32(&header[4..]),
            newest: None,
            free: None,
        };
        let mut pos = align_up(PAGE_HEADER_LEN, self.unit) as usize;
        while pos + ENTRY_OVERHEAD as usize <= bytes.len() {
            let rest = &bytes[pos..];
            if rest[..4].iter().all(|&b| b == self.erased) {
                if rest.iter().all(|&b| b == self.erased) {
                    scan.free = Some(pos as u32);
                }
                break;
            }
            let (len, tag) = (le16(rest) as usize, le16(&rest[2..]));
            let known = match tag {
                TAG_RECORD => len <= RESUME_RECORD_MAX,
                TAG_CLEAR => len == 0,
                _ => false,
            };
            let size = self.entry_size(len) as usize;
            if !known || size > rest.len() {
                break;
            }
            let body = 4 + len;
            if crc32(&rest[..body]) == le32(&rest[body..]) {
                scan.newest = Some(match tag {
                    TAG_RECORD => Newest::Record(rest[4..body].to_vec()),
                    _ => Newest::Nothing,
                });
            }
            pos += size;
        }
        Ok(Some(scan))
    }

    fn encode(&self, tag: u16, record: &[u8]) -> Vec<u8> {
        let mut entry = Vec::with_capacity(self.entry_size(record.len()) as usize);
        entry.extend((record.len() as u16).to_le_bytes());
        entry.extend(tag.to_le_bytes());
        entry.extend(record);
        entry.extend(crc32(&entry).to_le_bytes());
        entry.resize(self.entry_size(record.len()) as usize, self.erased);
        entry
    }

    /// Append an entry; the scan is dropped on any error, so the next call
    /// looks at the flash again.
    fn append(&mut self, tag: u16, record: &[u8]) -> Result<(), FlashError> {
        let result = self.try_append(tag, record);
        if result.is_err() {
            self.log = None;
        }
        result
    }

    fn try_append(&mut self, tag: u16, record: &[u8]) -> Result<(), FlashError> {
        let entry = self.encode(tag, record);
        let page_size = self.page_size;
        let header_len = align_up(PAGE_HEADER_LEN, self.unit);
        let active = self.log()?.active;
        let fits = |at: u32| at + entry.len() as u32 <= page_size;
        let next = match active {
            Some(Active {
                page,
                free: Some(at),
                generation,
            }) if fits(at) => {
                self.area.write(page * page_size + at, &entry)?;
                Active {
                    page,
                    generation,
                    free: Some(at + entry.len() as u32),
                }
            }
            _ => {
                let (page, generation) = match active {
                    Some(a) => (1 - a.page, a.generation.wrapping_add(1)),
                    None => (0, 1),
                };
                let mut bytes = Vec::with_capacity((header_len as usize) + entry.len());
                bytes.extend(PAGE_MAGIC.to_le_bytes());
                bytes.extend(generation.to_le_bytes());
                bytes.extend(crc32(&bytes).to_le_bytes());
                bytes.resize(header_len as usize, self.erased);
                bytes.extend(&entry);
                self.area.erase(page * page_size, page_size)?;
                self.area.write(page * page_size, &bytes)?;
                Active {
                    page,
                    generation,
                    free: Some(bytes.len() as u32),
                }
            }
        };
        let log = self.log()?;
        log.active = Some(next);
        log.newest = match tag {
            TAG_RECORD => Newest::Record(record.to_vec()),
            _ => Newest::Nothing,
        };
        Ok(())
    }
}

impl ProgressStore for FlashStore {
    fn load(&mut self, buf: &mut [u8]) -> Option<usize> {
        match &self.log().ok()?.newest {
            Newest::Record(record) if record.len() <= buf.len() => {
                buf[..record.len()].copy_from_slice(record);
                Some(record.len())
            }
            _ => None,
        }
    }

    fn save(&mut self, record: &[u8]) -> Result<(), PortError> {
        if record.len() > RESUME_RECORD_MAX {
            return Err(PortError(-EINVAL));
        }
        self.append(TAG_RECORD, record)
            .map_err(|e| PortError(e.errno()))
    }

    fn clear(&mut self) -> Result<(), PortError> {
        let empty = matches!(
            self.log(),
            Ok(Log {
                newest: Newest::Nothing,
                ..
            })
        );
        if empty {
            return Ok(());
        }
        self.append(TAG_CLEAR, &[])
            .map_err(|e| PortError(e.errno()))
    }
}

#[cfg(test)]
mod tests;
