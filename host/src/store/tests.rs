use super::*;
use crate::flash::{Flash, Geometry, SharedFlash};
use crate::partition::Partition;

const PAGE: u32 = 4096;

fn flash() -> SharedFlash {
    SharedFlash::new(Flash::in_memory(
        Geometry::new(4 * PAGE, PAGE, 4, 0xff).unwrap(),
    ))
}

/// The store in pages 1 and 2 of the device (page 3 is left alone).
fn store_on(flash: &SharedFlash) -> FlashStore {
    FlashStore::new(Area::new(flash.clone(), Partition::new(PAGE, 3 * PAGE)).unwrap()).unwrap()
}

fn record(i: u32, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i as usize * 7 + j) as u8).collect()
}

fn load(store: &mut FlashStore) -> Option<Vec<u8>> {
    let mut buf = [0; RESUME_RECORD_MAX];
    store.load(&mut buf).map(|n| buf[..n].to_vec())
}

#[test]
fn an_empty_store_has_no_record_and_clearing_it_writes_nothing() {
    let f = flash();
    let mut s = store_on(&f);
    assert_eq!(load(&mut s), None);
    s.clear().unwrap();
    assert_eq!(f.lock().stats().operations(), 0);
}

#[test]
fn the_newest_record_is_loaded_also_by_a_new_instance() {
    let f = flash();
    let mut s = store_on(&f);
    s.save(b"first").unwrap();
    s.save(b"second record").unwrap();
    assert_eq!(load(&mut s).as_deref(), Some(&b"second record"[..]));
    let mut again = store_on(&f);
    assert_eq!(load(&mut again).as_deref(), Some(&b"second record"[..]));
    s.save(&[]).unwrap();
    assert_eq!(load(&mut store_on(&f)), Some(vec![]));
    // Nothing outside the two pages was touched.
    let c = f.lock().contents().to_vec();
    assert!(c[..PAGE as usize]
        .iter()
        .chain(&c[3 * PAGE as usize..])
        .all(|&b| b == 0xff));
}

#[test]
fn clear_forgets_the_record_durably() {
    let f = flash();
    let mut s = store_on(&f);
    s.save(b"resume here").unwrap();
    s.clear().unwrap();
    assert_eq!(load(&mut s), None);
    assert_eq!(load(&mut store_on(&f)), None);
    let writes = f.lock().stats().writes;
    s.clear().unwrap();
    assert_eq!(
        f.lock().stats().writes,
        writes,
        "a second clear writes nothing"
    );
    s.save(b"again").unwrap();
    assert_eq!(load(&mut store_on(&f)).as_deref(), Some(&b"again"[..]));
}

#[test]
fn sizes_are_checked() {
    let f = flash();
    let mut s = store_on(&f);
    assert_eq!(s.save(&[0; RESUME_RECORD_MAX + 1]), Err(PortError(-22)));
    s.save(&[7; RESUME_RECORD_MAX]).unwrap();
    let mut small = [0; RESUME_RECORD_MAX - 1];
    assert_eq!(s.load(&mut small), None);
    let mut exact = [0; RESUME_RECORD_MAX];
    assert_eq!(s.load(&mut exact), Some(RESUME_RECORD_MAX));
    assert!(FlashStore::new(Area::new(f.clone(), Partition::new(0, PAGE)).unwrap()).is_err());
    let tiny = SharedFlash::new(Flash::in_memory(Geometry::new(256, 64, 4, 0xff).unwrap()));
    assert!(FlashStore::new(Area::new(tiny, Partition::new(0, 256)).unwrap()).is_err());
}

#[test]
fn a_save_costs_one_write_and_a_page_erase_every_few_dozen_saves() {
    let f = flash();
    let mut s = store_on(&f);
    assert_eq!(s.entry_size(99), 108);
    assert_eq!(s.entries_per_page(99), 37);
    assert_eq!(s.entry_size(128), 136);
    assert_eq!(s.entries_per_page(128), 30);
    let len = RESUME_RECORD_MAX;
    let per_page = s.entries_per_page(len) as u64;
    let saves = 3 * per_page + 1;
    for i in 0..saves {
        s.save(&record(i as u32, len)).unwrap();
    }
    let stats = f.lock().stats();
    assert_eq!(stats.writes, saves);
    // The first save and every per_page-th one after it start a page.
    assert_eq!(stats.erases, 4);
    assert_eq!(f.lock().page_erase_counts(), &[0, 2, 2, 0]);
    assert_eq!(load(&mut store_on(&f)), Some(record(saves as u32 - 1, len)));
}

#[test]
fn generations_compare_across_wrapping() {
    let f = flash();
    let mut s = store_on(&f);
    s.save(b"old").unwrap();
    // Rewrite page 0 (device page 1) with generation u32::MAX, then let the
    // next page switch wrap to 0.
    let full = s.entries_per_page(3);
    f.lock().erase(PAGE, PAGE).unwrap();
    let mut header = PAGE_MAGIC.to_le_bytes().to_vec();
    header.extend(u32::MAX.to_le_bytes());
    header.extend(crc32(&header).to_le_bytes());
    f.lock().write(PAGE, &header).unwrap();
    let mut s = store_on(&f);
    for i in 0..=full {
        s.save(&[i as u8; 3]).unwrap();
    }
    assert_eq!(load(&mut store_on(&f)), Some(vec![full as u8; 3]));
    // Page 1 (device page 2) now holds generation 0, and is the newer one.
    assert_eq!(&f.lock().contents()[2 * PAGE as usize + 4..][..4], &[0; 4]);
}

#[test]
fn garbage_where_free_space_should_be_moves_the_log_on() {
    let f = flash();
    let mut s = store_on(&f);
    s.save(b"one").unwrap();
    // Something non-erased near the end of the active page (page 1).
    f.lock().write(2 * PAGE - 8, &[0; 4]).unwrap();
    let mut s2 = store_on(&f);
    assert_eq!(load(&mut s2).as_deref(), Some(&b"one"[..]));
    s2.save(b"two").unwrap();
    assert_eq!(load(&mut store_on(&f)).as_deref(), Some(&b"two"[..]));
    // A header that makes no sense closes the page too.
    let mut s3 = store_on(&f);
    let at = PAGE + PAGE + 12 + 12; // page 2: header, "two", then this
    f.lock().write(at, &[0x34, 0x12, 0x00, 0x00]).unwrap();
    s3.save(b"three").unwrap();
    assert_eq!(load(&mut store_on(&f)).as_deref(), Some(&b"three"[..]));
    drop(s);
}

/// The operations of a workload: saves across two page switches, a clear, a
/// save. `Some(record)` / `None` is the state after each.
fn workload() -> Vec<Option<Vec<u8>>> {
    let mut states: Vec<Option<Vec<u8>>> = (0..90)
        .map(|i| Some(record(i, 40 + i as usize % (RESUME_RECORD_MAX - 39))))
        .collect();
    states.push(None);
    states.push(Some(record(99, 5)));
    states
}

fn apply(store: &mut FlashStore, state: &Option<Vec<u8>>) -> Result<(), PortError> {
    match state {
        Some(r) => store.save(r),
        None => store.clear(),
    }
}

#[test]
fn a_power_cut_at_any_operation_loses_at_most_the_interrupted_save() {
    let steps = workload();
    let total = {
        let f = flash();
        let mut s = store_on(&f);
        for step in &steps {
            apply(&mut s, step).unwrap();
        }
        let ops = f.lock().stats().operations();
        ops
    };
    assert!(total > 72, "page switches add erases");
    for k in 0..total {
        let f = flash();
        let mut s = store_on(&f);
        f.lock().arm_power_cut(k, k * 31 + 7);
        let cut_at = steps
            .iter()
            .position(|step| apply(&mut s, step).is_err())
            .unwrap_or_else(|| panic!("op {k} was never reached"));
        f.lock().power_cycle();
        let mut after = store_on(&f);
        let found = load(&mut after);
        let before = if cut_at == 0 {
            None
        } else {
            steps[cut_at - 1].clone()
        };
        assert!(
            found == before || found == steps[cut_at],
            "cut at op {k} (step {cut_at}): loaded {found:?}"
        );
        // The store goes on working.
        after.save(b"after the cut").unwrap();
        assert_eq!(
            load(&mut store_on(&f)).as_deref(),
            Some(&b"after the cut"[..]),
            "cut at op {k}"
        );
    }
}
