//! An honest NOR flash model.
//!
//! - Bytes are erased (to [`Geometry::erased`]) a whole page at a time.
//! - Writes must be aligned to the write unit in offset and length, and every
//!   byte they cover must be erased: writing over a programmed byte is an
//!   error, even with the same value.
//! - Anything outside the device is an error.
//! - A power-cut injector tears the k-th write or page erase (deterministically
//!   from a seed) and leaves the device off until [`Flash::power_cycle`].
//!
//! The contents live in RAM and, for a file-backed device, are written through
//! to the file after every operation (torn ones included), so a device
//! re-opened from the same file, in this process or another, sees exactly what
//! the previous one left. Nothing is `fsync`ed: the model survives process
//! restarts, not host crashes.

mod tear;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::ConfigError;

/// The shape of a flash device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    size: u32,
    page_size: u32,
    write_size: u32,
    erased: u8,
}

impl Geometry {
    /// A device of `size` bytes with `page_size`-byte erase pages and a
    /// `write_size`-byte write unit, whose erased bytes read `erased`.
    ///
    /// The write unit must be a power of two dividing the page size, and the
    /// size a non-zero multiple of the page size.
    pub fn new(
        size: u32,
        page_size: u32,
        write_size: u32,
        erased: u8,
    ) -> Result<Self, ConfigError> {
        if !write_size.is_power_of_two() {
            return Err(ConfigError("the write unit must be a power of two"));
        }
        if page_size == 0 || !page_size.is_multiple_of(write_size) {
            return Err(ConfigError(
                "the page size must be a multiple of the write unit",
            ));
        }
        if size == 0 || !size.is_multiple_of(page_size) {
            return Err(ConfigError(
                "the size must be a non-zero multiple of the page size",
            ));
        }
        Ok(Geometry {
            size,
            page_size,
            write_size,
            erased,
        })
    }

    /// nRF52840 internal flash: 1 MiB, 4 KiB pages, 4-byte writes, erased 0xFF.
    pub const fn nrf52840() -> Self {
        Geometry {
            size: 1024 * 1024,
            page_size: 4096,
            write_size: 4,
            erased: 0xff,
        }
    }

    /// The same geometry with another total size (a multiple of the page size).
    pub fn with_size(self, size: u32) -> Result<Self, ConfigError> {
        Geometry::new(size, self.page_size, self.write_size, self.erased)
    }

    /// Total bytes.
    pub const fn size(&self) -> u32 {
        self.size
    }

    /// Erase page size in bytes.
    pub const fn page_size(&self) -> u32 {
        self.page_size
    }

    /// Write unit in bytes.
    pub const fn write_size(&self) -> u32 {
        self.write_size
    }

    /// The value of an erased byte.
    pub const fn erased(&self) -> u8 {
        self.erased
    }
}

impl Default for Geometry {
    fn default() -> Self {
        Geometry::nrf52840()
    }
}

/// Why a flash operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlashError {
    /// The range is not inside the device (or partition).
    OutOfRange {
        /// Start of the refused range.
        offset: u32,
        /// Its length.
        len: u32,
    },
    /// A write not aligned to the write unit, or an erase not aligned to pages.
    Misaligned {
        /// Start of the refused range.
        offset: u32,
        /// Its length.
        len: u32,
    },
    /// A write covers a byte that is not erased.
    NotErased {
        /// Address of the first such byte.
        offset: u32,
    },
    /// Power was cut during this operation: it was performed torn.
    PowerCut,
    /// The device is off since a power cut; see [`Flash::power_cycle`].
    PoweredOff,
    /// The backing file failed; the file may now lag behind the RAM copy.
    Io(io::ErrorKind),
}

impl FlashError {
    /// The negative errno a Zephyr flash driver would return for this.
    pub fn errno(&self) -> i32 {
        const EIO: i32 = 5;
        const ENODEV: i32 = 19;
        const EINVAL: i32 = 22;
        match self {
            FlashError::OutOfRange { .. } | FlashError::Misaligned { .. } => -EINVAL,
            FlashError::PoweredOff => -ENODEV,
            FlashError::NotErased { .. } | FlashError::PowerCut | FlashError::Io(_) => -EIO,
        }
    }

    /// Whether this error means the device lost power (now or earlier).
    pub fn is_power_loss(&self) -> bool {
        matches!(self, FlashError::PowerCut | FlashError::PoweredOff)
    }
}

impl fmt::Display for FlashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FlashError::OutOfRange { offset, len } => {
                write!(f, "{len} bytes at {offset:#x} are out of range")
            }
            FlashError::Misaligned { offset, len } => {
                write!(f, "{len} bytes at {offset:#x} are misaligned")
            }
            FlashError::NotErased { offset } => write!(f, "byte at {offset:#x} is not erased"),
            FlashError::PowerCut => f.write_str("power cut during the operation"),
            FlashError::PoweredOff => f.write_str("the device is powered off"),
            FlashError::Io(kind) => write!(f, "backing file: {kind}"),
        }
    }
}

impl std::error::Error for FlashError {}

/// Operation counters since the device was created (or opened).
///
/// Every write call counts once; an erase counts once per page. Rejected
/// operations (misaligned, out of range, not erased, powered off) do not
/// count; a torn operation does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlashStats {
    /// Write operations.
    pub writes: u64,
    /// Bytes those writes covered.
    pub bytes_written: u64,
    /// Pages erased.
    pub erases: u64,
    /// Read operations.
    pub reads: u64,
    /// Bytes read.
    pub bytes_read: u64,
}

impl FlashStats {
    /// Writes plus page erases: the operations a power cut can hit.
    pub fn operations(&self) -> u64 {
        self.writes + self.erases
    }
}

/// Identifies what a range of a device held: equal stamps (from the same
/// [`Flash`] instance) mean no write or erase touched the range in between,
/// so its contents are unchanged. Lets a reader skip re-checking them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    device: u64,
    epoch: u64,
}

/// Tells `Flash` instances apart in a [`Stamp`].
static NEXT_DEVICE: AtomicU64 = AtomicU64::new(0);

/// A pending power cut: the operation after `remaining` more is torn.
#[derive(Clone, Copy, Debug)]
struct Cut {
    remaining: u64,
    seed: u64,
}

/// A NOR flash device; see the [module documentation](self).
pub struct Flash {
    geometry: Geometry,
    data: Vec<u8>,
    file: Option<File>,
    stats: FlashStats,
    page_erases: Vec<u32>,
    /// Per page, the operation count when a write or erase last touched it.
    page_epochs: Vec<u64>,
    id: u64,
    cut: Option<Cut>,
    powered: bool,
}

impl fmt::Debug for Flash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flash")
            .field("geometry", &self.geometry)
            .field("file_backed", &self.file.is_some())
            .field("stats", &self.stats)
            .field("powered", &self.powered)
            .finish_non_exhaustive()
    }
}

impl Flash {
    /// A fully erased device that lives only in memory.
    pub fn in_memory(geometry: Geometry) -> Self {
        Self::with_data(
            geometry,
            vec![geometry.erased; geometry.size as usize],
            None,
        )
    }

    /// A memory device holding `contents` (for instance what
    /// [`contents`](Flash::contents) returned): a device powered up again.
    pub fn from_contents(geometry: Geometry, contents: Vec<u8>) -> Result<Self, ConfigError> {
        if contents.len() != geometry.size as usize {
            return Err(ConfigError("the contents do not match the geometry's size"));
        }
        Ok(Self::with_data(geometry, contents, None))
    }

    /// A device backed by the file at `path`, created fully erased if it does
    /// not exist. An existing file must be exactly `geometry.size()` bytes.
    pub fn open_file(path: &Path, geometry: Geometry) -> io::Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)?;
        let len = file.metadata()?.len();
        let data = if len == 0 {
            let data = vec![geometry.erased; geometry.size as usize];
            file.write_all_at(&data, 0)?;
            data
        } else if len == u64::from(geometry.size) {
            let mut data = vec![0; geometry.size as usize];
            file.read_exact_at(&mut data, 0)?;
            data
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is {len} bytes, the flash geometry needs {}",
                    path.display(),
                    geometry.size
                ),
            ));
        };
        Ok(Self::with_data(geometry, data, Some(file)))
    }

    fn with_data(geometry: Geometry, data: Vec<u8>, file: Option<File>) -> Self {
        let pages = (geometry.size / geometry.page_size) as usize;
        Flash {
            geometry,
            data,
            file,
            stats: FlashStats::default(),
            page_erases: vec![0; pages],
            page_epochs: vec![0; pages],
            id: NEXT_DEVICE.fetch_add(1, Ordering::Relaxed),
            cut: None,
            powered: true,
        }
    }

    /// The device's geometry.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The whole contents (readable even while powered off, like a probe).
    pub fn contents(&self) -> &[u8] {
        &self.data
    }

    /// Counters since creation.
    pub fn stats(&self) -> FlashStats {
        self.stats
    }

    /// How many times each page was erased since creation (torn erases count).
    pub fn page_erase_counts(&self) -> &[u32] {
        &self.page_erases
    }

    /// The [`Stamp`] of `offset..offset + len` now.
    pub fn stamp(&self, offset: u32, len: u32) -> Stamp {
        let page = self.geometry.page_size;
        let first = (offset / page) as usize;
        let end = (offset.saturating_add(len).div_ceil(page) as usize).min(self.page_epochs.len());
        Stamp {
            device: self.id,
            epoch: self.page_epochs[first.min(end)..end]
                .iter()
                .copied()
                .max()
                .unwrap_or(0),
        }
    }

    /// Whether the device is powered (no power cut since the last power-up).
    pub fn is_powered(&self) -> bool {
        self.powered
    }

    /// Arm the power-cut injector: of the writes and page erases from now on
    /// (all partitions together), the one with index `at` (0 = the next one)
    /// is performed torn, as drawn from `seed`, and fails with
    /// [`FlashError::PowerCut`]; every operation after it fails with
    /// [`FlashError::PoweredOff`] until [`power_cycle`](Flash::power_cycle).
    /// Replaces any cut armed before.
    pub fn arm_power_cut(&mut self, at: u64, seed: u64) {
        self.cut = Some(Cut {
            remaining: at,
            seed,
        });
    }

    /// Whether a power cut is armed and has not happened yet.
    pub fn power_cut_armed(&self) -> bool {
        self.cut.is_some()
    }

    /// Restore power: the device works again with whatever the cut left, and
    /// a cut still armed is dropped. (Re-opening the backing file, or
    /// [`from_contents`](Flash::from_contents), is the same thing.)
    pub fn power_cycle(&mut self) {
        self.powered = true;
        self.cut = None;
    }

    /// Read `buf.len()` bytes at `offset`.
    pub fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), FlashError> {
        self.check_powered()?;
        let range = self.range(offset, buf.len())?;
        buf.copy_from_slice(&self.data[range]);
        self.stats.reads += 1;
        self.stats.bytes_read += buf.len() as u64;
        Ok(())
    }

    /// Program `data` at `offset`: aligned to the write unit, over erased bytes.
    pub fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), FlashError> {
        self.check_powered()?;
        let range = self.range(offset, data.len())?;
        let unit = self.geometry.write_size;
        if !offset.is_multiple_of(unit) || !(data.len() as u32).is_multiple_of(unit) {
            return Err(FlashError::Misaligned {
                offset,
                len: data.len() as u32,
            });
        }
        if data.is_empty() {
            return Ok(());
        }
        let erased = self.geometry.erased;
        if let Some(i) = self.data[range.clone()].iter().position(|&b| b != erased) {
            return Err(FlashError::NotErased {
                offset: offset + i as u32,
            });
        }
        self.stats.writes += 1;
        self.stats.bytes_written += data.len() as u64;
        self.touch(offset, data.len() as u32);
        let torn = self.take_cut();
        match &mut torn.map(tear::Rng::new) {
            Some(rng) => tear::tear_write(
                &mut self.data[range.clone()],
                data,
                unit as usize,
                erased,
                rng,
            ),
            None => self.data[range.clone()].copy_from_slice(data),
        }
        self.write_through(range)?;
        self.after(torn)
    }

    /// Erase the pages in `offset..offset + len` (both page-aligned), lowest
    /// first. Each page is one operation for the power-cut injector; an empty
    /// range, like an empty write, is no operation at all.
    pub fn erase(&mut self, offset: u32, len: u32) -> Result<(), FlashError> {
        self.check_powered()?;
        self.range(offset, len as usize)?;
        let page = self.geometry.page_size;
        if !offset.is_multiple_of(page) || !len.is_multiple_of(page) {
            return Err(FlashError::Misaligned { offset, len });
        }
        for start in (offset..offset + len).step_by(page as usize) {
            let range = start as usize..(start + page) as usize;
            self.stats.erases += 1;
            self.page_erases[(start / page) as usize] += 1;
            self.touch(start, page);
            let torn = self.take_cut();
            let erased = self.geometry.erased;
            match &mut torn.map(tear::Rng::new) {
                Some(rng) => tear::tear_erase(&mut self.data[range.clone()], erased, rng),
                None => self.data[range.clone()].fill(erased),
            }
            self.write_through(range)?;
            self.after(torn)?;
        }
        Ok(())
    }

    fn check_powered(&self) -> Result<(), FlashError> {
        if self.powered {
            Ok(())
        } else {
            Err(FlashError::PoweredOff)
        }
    }

    fn range(&self, offset: u32, len: usize) -> Result<std::ops::Range<usize>, FlashError> {
        let start = offset as usize;
        match start.checked_add(len) {
            Some(end) if end <= self.data.len() => Ok(start..end),
            _ => Err(FlashError::OutOfRange {
                offset,
                len: u32::try_from(len).unwrap_or(u32::MAX),
            }),
        }
    }

    /// Record that the current operation modifies `offset..offset + len`.
    fn touch(&mut self, offset: u32, len: u32) {
        let page = self.geometry.page_size;
        let epoch = self.stats.operations();
        let pages = (offset / page) as usize..(offset + len).div_ceil(page) as usize;
        self.page_epochs[pages].fill(epoch);
    }

    /// Count one operation against an armed cut; the seed if this one is torn.
    fn take_cut(&mut self) -> Option<u64> {
        let cut = self.cut.as_mut()?;
        if cut.remaining > 0 {
            cut.remaining -= 1;
            return None;
        }
        let seed = cut.seed;
        self.cut = None;
        Some(seed)
    }

    /// Finish an operation: if it was torn, the power is now gone.
    fn after(&mut self, torn: Option<u64>) -> Result<(), FlashError> {
        if torn.is_some() {
            self.powered = false;
            return Err(FlashError::PowerCut);
        }
        Ok(())
    }

    fn write_through(&mut self, range: std::ops::Range<usize>) -> Result<(), FlashError> {
        if let Some(file) = &self.file {
            file.write_all_at(&self.data[range.clone()], range.start as u64)
                .map_err(|e| FlashError::Io(e.kind()))?;
        }
        Ok(())
    }
}

/// A flash device shared by the partitions that live on it (slots, storage)
/// and by whoever injects power cuts. Cloning shares the same device.
#[derive(Clone, Debug)]
pub struct SharedFlash(Arc<Mutex<Flash>>);

impl SharedFlash {
    /// Share `flash`.
    pub fn new(flash: Flash) -> Self {
        SharedFlash(Arc::new(Mutex::new(flash)))
    }

    /// Exclusive access to the device, for one or a few operations.
    ///
    /// A panic while the lock was held does not make the device unusable
    /// (the flash state is consistent after every operation).
    pub fn lock(&self) -> MutexGuard<'_, Flash> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The device's geometry.
    pub fn geometry(&self) -> Geometry {
        self.lock().geometry()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Geometry {
        Geometry::new(4 * 256, 256, 4, 0xff).unwrap()
    }

    /// A temporary file path, removed on drop.
    struct TempPath(std::path::PathBuf);

    impl TempPath {
        fn new(name: &str) -> Self {
            let path = std::env::temp_dir()
                .join(format!("ota-agent-host-{}-{name}.bin", std::process::id()));
            let _ = std::fs::remove_file(&path);
            TempPath(path)
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    #[test]
    fn geometry_is_checked() {
        assert!(Geometry::new(4096, 4096, 3, 0xff).is_err());
        assert!(Geometry::new(4096, 4098, 4, 0xff).is_err());
        assert!(Geometry::new(4096 * 3 + 1, 4096, 4, 0xff).is_err());
        assert!(Geometry::new(0, 4096, 4, 0xff).is_err());
        let g = Geometry::default();
        assert_eq!(
            (g.size(), g.page_size(), g.write_size(), g.erased()),
            (1 << 20, 4096, 4, 0xff)
        );
        assert_eq!(g.with_size(8192).unwrap().size(), 8192);
    }

    #[test]
    fn a_new_device_is_erased_and_reads_back_writes() {
        let mut f = Flash::in_memory(small());
        assert!(f.contents().iter().all(|&b| b == 0xff));
        f.write(8, &[1, 2, 3, 4, 5, 6, 7, 8]).unwrap();
        let mut buf = [0; 10];
        f.read(7, &mut buf).unwrap();
        assert_eq!(buf, [0xff, 1, 2, 3, 4, 5, 6, 7, 8, 0xff]);
    }

    #[test]
    fn writes_must_be_aligned_and_in_range() {
        let mut f = Flash::in_memory(small());
        assert_eq!(
            f.write(2, &[0; 4]),
            Err(FlashError::Misaligned { offset: 2, len: 4 })
        );
        assert_eq!(
            f.write(4, &[0; 6]),
            Err(FlashError::Misaligned { offset: 4, len: 6 })
        );
        assert_eq!(
            f.write(1020, &[0; 8]),
            Err(FlashError::OutOfRange {
                offset: 1020,
                len: 8
            })
        );
        assert_eq!(
            f.read(1020, &mut [0; 8]),
            Err(FlashError::OutOfRange {
                offset: 1020,
                len: 8
            })
        );
        assert_eq!(
            f.write(u32::MAX - 3, &[0; 4]),
            Err(FlashError::OutOfRange {
                offset: u32::MAX - 3,
                len: 4
            })
        );
        assert_eq!(f.stats(), FlashStats::default());
        assert!(f.contents().iter().all(|&b| b == 0xff));
    }

    #[test]
    fn programmed_bytes_cannot_be_written_again_until_erased() {
        let mut f = Flash::in_memory(small());
        f.write(256, &[0xff, 0xff, 0x7f, 0xff]).unwrap();
        // Even writing 0xff over the programmed byte, or clearing more bits.
        assert_eq!(
            f.write(256, &[0xff; 4]),
            Err(FlashError::NotErased { offset: 258 })
        );
        assert_eq!(
            f.write(252, &[0; 8]),
            Err(FlashError::NotErased { offset: 258 })
        );
        assert_eq!(
            f.erase(256, 100),
            Err(FlashError::Misaligned {
                offset: 256,
                len: 100
            })
        );
        assert_eq!(
            f.erase(128, 256),
            Err(FlashError::Misaligned {
                offset: 128,
                len: 256
            })
        );
        assert_eq!(
            f.erase(768, 512),
            Err(FlashError::OutOfRange {
                offset: 768,
                len: 512
            })
        );
        f.erase(256, 256).unwrap();
        f.write(256, &[0; 4]).unwrap();
        assert_eq!(&f.contents()[256..260], &[0; 4]);
    }

    #[test]
    fn counters_count_writes_pages_and_bytes() {
        let mut f = Flash::in_memory(small());
        f.write(0, &[0; 8]).unwrap();
        f.write(512, &[0; 4]).unwrap();
        f.erase(0, 768).unwrap();
        f.read(0, &mut [0; 3]).unwrap();
        let _ = f.write(2, &[0; 4]);
        f.write(16, &[]).unwrap();
        f.erase(256, 0).unwrap();
        assert_eq!(
            f.stats(),
            FlashStats {
                writes: 2,
                bytes_written: 12,
                erases: 3,
                reads: 1,
                bytes_read: 3,
            }
        );
        assert_eq!(f.stats().operations(), 5);
        assert_eq!(f.page_erase_counts(), &[1, 1, 1, 0]);
    }

    #[test]
    fn a_power_cut_tears_the_chosen_operation_then_everything_fails() {
        let mut f = Flash::in_memory(small());
        f.write(0, &[0x11; 4]).unwrap();
        f.arm_power_cut(2, 42);
        f.write(4, &[0x22; 4]).unwrap(); // op 0
        f.erase(256, 256).unwrap(); // op 1
        assert!(f.power_cut_armed());
        assert_eq!(f.write(8, &[0; 64]), Err(FlashError::PowerCut)); // op 2
        assert!(!f.is_powered());
        assert!(!f.power_cut_armed());
        assert_eq!(f.read(0, &mut [0; 4]), Err(FlashError::PoweredOff));
        assert_eq!(f.write(128, &[0; 4]), Err(FlashError::PoweredOff));
        assert_eq!(f.erase(512, 256), Err(FlashError::PoweredOff));
        assert_eq!(FlashError::PoweredOff.errno(), -19);
        let torn = f.contents()[8..72].to_vec();
        f.power_cycle();
        let mut buf = [0; 64];
        f.read(8, &mut buf).unwrap();
        assert_eq!(buf.to_vec(), torn);
        assert_eq!(
            &f.contents()[..8],
            &[0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22]
        );
        // The cut operation counted; the refused ones did not.
        assert_eq!(f.stats().operations(), 4);
    }

    #[test]
    fn torn_operations_are_deterministic_per_seed() {
        let run = |seed| {
            let mut f = Flash::in_memory(small());
            f.write(0, &[0x5a; 256]).unwrap();
            f.arm_power_cut(0, seed);
            assert_eq!(f.erase(0, 256), Err(FlashError::PowerCut));
            f.power_cycle();
            f.arm_power_cut(0, seed);
            assert_eq!(f.write(256, &[0; 256]), Err(FlashError::PowerCut));
            f.contents().to_vec()
        };
        assert_eq!(run(1), run(1));
        let distinct: std::collections::BTreeSet<Vec<u8>> = (0..20).map(run).collect();
        assert!(distinct.len() > 10, "seeds give different tears");
    }

    #[test]
    fn a_cut_in_a_multi_page_erase_tears_one_page_and_skips_the_rest() {
        let mut f = Flash::in_memory(small());
        for page in 0..4 {
            f.write(page * 256, &[0; 256]).unwrap();
        }
        f.arm_power_cut(1, 3);
        assert_eq!(f.erase(0, 1024), Err(FlashError::PowerCut));
        let c = f.contents();
        assert!(c[..256].iter().all(|&b| b == 0xff), "page 0 erased");
        assert!(c[512..].iter().all(|&b| b == 0), "pages 2 and 3 untouched");
        assert_eq!(f.page_erase_counts(), &[1, 1, 0, 0]);
    }

    #[test]
    fn a_file_backed_device_survives_reopening_torn_state_included() {
        let path = TempPath::new("reopen");
        let mut f = Flash::open_file(&path.0, small()).unwrap();
        f.write(16, &[1, 2, 3, 4]).unwrap();
        f.write(256, &[7; 256]).unwrap();
        f.arm_power_cut(0, 9);
        assert_eq!(f.erase(256, 256), Err(FlashError::PowerCut));
        let expected = f.contents().to_vec();
        drop(f);
        let mut g = Flash::open_file(&path.0, small()).unwrap();
        assert_eq!(g.contents(), &expected[..]);
        assert!(g.is_powered());
        g.write(20, &[5; 4]).unwrap();
        drop(g);
        let on_disk = std::fs::read(&path.0).unwrap();
        assert_eq!(&on_disk[16..24], &[1, 2, 3, 4, 5, 5, 5, 5]);
    }

    #[test]
    fn a_file_of_the_wrong_size_is_refused() {
        let path = TempPath::new("size");
        std::fs::write(&path.0, [0u8; 100]).unwrap();
        let err = Flash::open_file(&path.0, small()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn contents_can_be_powered_up_again_in_memory() {
        let mut f = Flash::in_memory(small());
        f.write(0, &[9; 4]).unwrap();
        let mut g = Flash::from_contents(small(), f.contents().to_vec()).unwrap();
        assert_eq!(
            g.write(0, &[9; 4]),
            Err(FlashError::NotErased { offset: 0 })
        );
        assert!(Flash::from_contents(small(), vec![0; 3]).is_err());
    }

    #[test]
    fn stamps_change_exactly_when_a_range_is_touched() {
        let mut f = Flash::in_memory(small());
        let (low, high) = (f.stamp(0, 512), f.stamp(512, 512));
        f.write(600, &[0; 4]).unwrap();
        assert_eq!(f.stamp(0, 512), low);
        assert_ne!(f.stamp(512, 512), high);
        let high = f.stamp(512, 512);
        f.read(512, &mut [0; 8]).unwrap();
        let _ = f.write(600, &[0; 4]); // refused: nothing changed
        assert_eq!(f.stamp(512, 512), high);
        f.erase(256, 256).unwrap();
        assert_ne!(f.stamp(0, 512), low);
        assert_eq!(f.stamp(512, 512), high);
        f.arm_power_cut(0, 1);
        let _ = f.erase(768, 256);
        assert_ne!(f.stamp(512, 512), high, "a torn erase counts");
        let other = Flash::from_contents(small(), f.contents().to_vec()).unwrap();
        assert_ne!(
            other.stamp(0, 1024),
            Flash::in_memory(small()).stamp(0, 1024)
        );
    }

    #[test]
    fn shared_handles_see_the_same_device() {
        let a = SharedFlash::new(Flash::in_memory(small()));
        let b = a.clone();
        a.lock().write(0, &[1; 4]).unwrap();
        assert_eq!(&b.lock().contents()[..4], &[1; 4]);
        assert_eq!(b.geometry(), small());
    }
}
