use super::trailer::{Flag, Magic, SwapState};
use super::*;
use crate::flash::{Flash, FlashStats};
use crate::testutil::image;

const PAGE: usize = 4096;

/// 64 KiB slots (16 sectors): one trailer sector, 14 sectors of image.
fn small_layout() -> Layout {
    Layout::new(4096, 4, 4096, 16 * 4096, 2 * 4096).unwrap()
}

fn device(layout: Layout) -> BootSim {
    let flash = SharedFlash::new(Flash::in_memory(layout.geometry()));
    BootSim::new(flash, &layout, BootConfig::default()).unwrap()
}

/// The same device, powered up from a copy of its flash.
fn clone_device(sim: &BootSim, layout: Layout) -> BootSim {
    let contents = sim.primary.flash().lock().contents().to_vec();
    let flash = SharedFlash::new(Flash::from_contents(layout.geometry(), contents).unwrap());
    BootSim::new(flash, &layout, BootConfig::default()).unwrap()
}

/// What the agent does: erase the image area of the secondary slot and
/// write the image there.
fn download(sim: &BootSim, img: &[u8]) {
    let s = sim.secondary();
    s.erase(0, sim.max_image_size()).unwrap();
    let mut padded = img.to_vec();
    padded.resize(
        img.len()
            .next_multiple_of(s.geometry().write_size() as usize),
        0xff,
    );
    s.write(0, &padded).unwrap();
}

fn stats(sim: &BootSim) -> FlashStats {
    sim.primary.flash().lock().stats()
}

fn read(area: &Area, off: u32, len: usize) -> Vec<u8> {
    let mut buf = vec![0; len];
    area.read(off, &mut buf).unwrap();
    buf
}

/// Old image A (3 sectors and a bit), new image B (5 and a bit).
fn images() -> (Vec<u8>, Vec<u8>) {
    (image((1, 0, 0), 3 * PAGE, 1), image((2, 0, 0), 5 * PAGE, 2))
}

fn primary_is(sim: &BootSim, img: &[u8]) -> bool {
    read(sim.primary(), 0, img.len()) == img
}

fn secondary_is(sim: &BootSim, img: &[u8]) -> bool {
    read(sim.secondary(), 0, img.len()) == img
}

/// A with B downloaded and requested for a test.
fn pending_test(layout: Layout) -> (BootSim, Vec<u8>, Vec<u8>) {
    let (a, b) = images();
    let sim = device(layout);
    sim.install_primary(&a).unwrap();
    assert_eq!(sim.boot().unwrap().version(), Version::new(1, 0, 0));
    download(&sim, &b);
    sim.request_upgrade(false).unwrap();
    (sim, a, b)
}

#[test]
fn a_factory_image_boots_confirmed() {
    let (a, _) = images();
    let sim = device(small_layout());
    sim.install_primary(&a).unwrap();
    let report = sim.boot().unwrap();
    assert_eq!(report.version(), Version::new(1, 0, 0));
    assert_eq!(report.header.img_size, 3 * PAGE as u32);
    assert_eq!(report.swap, SwapType::None);
    assert_eq!(report.state, BootState::Confirmed);
    assert!(!report.resumed && !report.rejected_secondary);
    assert_eq!(sim.swap_type().unwrap(), SwapType::None);
}

#[test]
fn without_a_valid_primary_image_nothing_boots() {
    let sim = device(small_layout());
    assert_eq!(sim.boot(), Err(BootError::NoBootableImage));
    let (a, _) = images();
    let mut bad = a.clone();
    bad[100] ^= 1;
    sim.install_primary(&bad).unwrap();
    assert_eq!(sim.boot(), Err(BootError::NoBootableImage));
    // Without CONFIG_BOOT_VALIDATE_SLOT0 only the header is checked.
    let layout = small_layout();
    let lax = BootSim::new(
        sim.primary().flash().clone(),
        &layout,
        BootConfig {
            validate_primary: false,
            ..BootConfig::default()
        },
    )
    .unwrap();
    assert_eq!(lax.boot().unwrap().version(), Version::new(1, 0, 0));
    lax.install_primary(&[0xff; 64]).unwrap();
    assert_eq!(lax.boot(), Err(BootError::NoBootableImage));
}

#[test]
fn an_unchanged_primary_image_is_not_hashed_again() {
    let (a, _) = images();
    let sim = device(small_layout());
    sim.install_primary(&a).unwrap();
    sim.boot().unwrap();
    let before = stats(&sim).bytes_read;
    sim.boot().unwrap();
    let read = stats(&sim).bytes_read - before;
    assert!(read < 200, "a plain boot read {read} bytes");
    // Changing the image is noticed.
    sim.primary().erase(4096, 4096).unwrap();
    assert_eq!(sim.boot(), Err(BootError::NoBootableImage));
}

#[test]
fn install_refuses_what_a_slot_cannot_swap() {
    let sim = device(small_layout());
    assert_eq!(sim.max_image_size(), 14 * PAGE as u32);
    let too_big = vec![0; 14 * PAGE + 1];
    assert_eq!(sim.install_primary(&too_big), Err(BootError::ImageTooLarge));
}

#[test]
fn configurations_that_cannot_work_are_refused() {
    let layout = small_layout();
    let flash = SharedFlash::new(Flash::in_memory(layout.geometry()));
    let cfg = BootConfig {
        max_img_sectors: Some(8),
        ..BootConfig::default()
    };
    assert!(BootSim::new(flash.clone(), &layout, cfg).is_err());
    let other = Layout::nrf52840dk();
    assert!(BootSim::new(flash, &other, BootConfig::default()).is_err());
    let wide = Layout::new(4096, 64, 4096, 16 * 4096, 2 * 4096).unwrap();
    let flash = SharedFlash::new(Flash::in_memory(wide.geometry()));
    assert!(BootSim::new(flash, &wide, BootConfig::default()).is_err());
    let tiny = Layout::new(4096, 4, 4096, 2 * 4096, 2 * 4096).unwrap();
    let flash = SharedFlash::new(Flash::in_memory(tiny.geometry()));
    assert!(BootSim::new(flash, &tiny, BootConfig::default()).is_err());
}

#[test]
fn a_request_writes_what_boot_request_upgrade_writes() {
    let sim = device(small_layout());
    let t = sim.trailer;
    let size = 16 * PAGE as u32;
    sim.request_upgrade(false).unwrap();
    let s = sim.secondary();
    assert_eq!(read(s, size - 16, 16), t.magic().to_vec());
    assert_eq!(
        read(s, t.swap_info_off(), 8),
        [2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
    );
    assert_eq!(read(s, t.image_ok_off(), 8), [0xff; 8]);
    assert_eq!(sim.swap_type().unwrap(), SwapType::Test);
    // Already requested: nothing is written.
    let before = stats(&sim).writes;
    sim.request_upgrade(true).unwrap();
    assert_eq!(stats(&sim).writes, before);

    let sim = device(small_layout());
    sim.request_upgrade(true).unwrap();
    let s = sim.secondary();
    assert_eq!(read(s, t.image_ok_off(), 4), [1, 0xff, 0xff, 0xff]);
    assert_eq!(read(s, t.swap_info_off(), 1), [3]);
    assert_eq!(sim.swap_type().unwrap(), SwapType::Perm);
    assert_eq!(stats(&sim).writes, 3);
}

#[test]
fn a_bad_magic_is_refused_until_the_trailer_is_prepared() {
    let sim = device(small_layout());
    let t = sim.trailer;
    sim.secondary().write(t.magic_off(), &[0x12; 16]).unwrap();
    assert_eq!(sim.request_upgrade(false), Err(BootError::BadTrailer));
    sim.prepare_secondary_trailer().unwrap();
    sim.request_upgrade(false).unwrap();
    assert_eq!(sim.swap_type().unwrap(), SwapType::Test);
    // A requested swap is left alone.
    let erases = stats(&sim).erases;
    sim.prepare_secondary_trailer().unwrap();
    assert_eq!(stats(&sim).erases, erases);
}

#[test]
fn a_power_cut_while_requesting_never_breaks_the_device() {
    let layout = small_layout();
    let (a, b) = images();
    let start = device(layout);
    start.install_primary(&a).unwrap();
    download(&start, &b);
    let request = |sim: &BootSim, permanent| {
        sim.prepare_secondary_trailer()?;
        sim.request_upgrade(permanent)
    };
    for permanent in [false, true] {
        let sim = clone_device(&start, layout);
        let before = stats(&sim).operations();
        request(&sim, permanent).unwrap();
        let n = stats(&sim).operations() - before;
        assert_eq!(n, 2 + u64::from(permanent));
        for (k, seed) in cuts(n, 32) {
            let sim = clone_device(&start, layout);
            sim.primary.flash().lock().arm_power_cut(k, seed);
            assert_eq!(
                request(&sim, permanent),
                Err(BootError::Flash(FlashError::PowerCut))
            );
            sim.primary.flash().lock().power_cycle();
            // Either the request took or nothing happened; the image is intact.
            let report = sim.boot().unwrap();
            let img = if report.version().major == 2 { &b } else { &a };
            assert!(primary_is(&sim, img), "cut at {k}");
            if report.version().major == 1 {
                assert!(secondary_is(&sim, &b), "cut at {k}");
                request(&sim, permanent).unwrap();
                assert_eq!(sim.boot().unwrap().version().major, 2, "cut at {k}");
            }
        }
    }
}

#[test]
fn the_swap_table_is_bootutils() {
    use Flag::{Bad as FB, Set as S, Unset as U};
    use Magic::{Bad as MB, Good as G, Unset as MU};
    let st = |magic, image_ok, copy_done| SwapState {
        magic,
        image_ok,
        copy_done,
    };
    let none = st(MU, U, U);
    let cases = [
        (none, st(G, U, U), SwapType::Test),
        (st(G, U, S), st(G, U, U), SwapType::Test),
        (none, st(G, S, U), SwapType::Perm),
        (st(G, U, S), st(MU, U, U), SwapType::Revert),
        (st(G, U, S), st(MB, U, U), SwapType::Revert),
        (st(G, U, S), st(G, FB, U), SwapType::Revert),
        (st(G, S, S), none, SwapType::None),
        (st(G, FB, S), none, SwapType::None),
        (st(G, U, U), none, SwapType::None),
        (st(G, U, FB), none, SwapType::None),
        (st(MB, U, S), none, SwapType::None),
        (none, st(MB, U, U), SwapType::None),
        (none, none, SwapType::None),
    ];
    for (pri, sec, expected) in cases {
        assert_eq!(swap_table(&pri, &sec), expected, "{pri:?} {sec:?}");
    }
}

#[test]
fn a_test_swap_runs_the_new_image_and_the_next_reset_reverts_it() {
    let (sim, a, b) = pending_test(small_layout());
    let report = sim.boot().unwrap();
    assert_eq!(report.version(), Version::new(2, 0, 0));
    assert_eq!(report.swap, SwapType::Test);
    assert_eq!(report.state, BootState::PendingCommit);
    assert!(primary_is(&sim, &b) && secondary_is(&sim, &a));
    assert_eq!(sim.swap_type().unwrap(), SwapType::Revert);
    let t = sim.trailer;
    let pri = t.read_state(sim.primary()).unwrap();
    assert_eq!(
        (pri.magic, pri.copy_done, pri.image_ok),
        (Magic::Good, Flag::Set, Flag::Unset)
    );
    assert_eq!(t.read_state(sim.secondary()).unwrap().magic, Magic::Unset);

    let report = sim.boot().unwrap();
    assert_eq!(report.version(), Version::new(1, 0, 0));
    assert_eq!(report.swap, SwapType::Revert);
    assert_eq!(report.state, BootState::Confirmed);
    assert!(primary_is(&sim, &a) && secondary_is(&sim, &b));
    let pri = t.read_state(sim.primary()).unwrap();
    assert_eq!(
        (pri.magic, pri.copy_done, pri.image_ok),
        (Magic::Good, Flag::Set, Flag::Set)
    );

    let report = sim.boot().unwrap();
    assert_eq!(
        (report.version(), report.swap),
        (Version::new(1, 0, 0), SwapType::None)
    );
}

#[test]
fn the_swap_status_lands_where_bootutil_puts_it() {
    let (sim, _, b) = pending_test(small_layout());
    sim.boot().unwrap();
    // B takes 6 sectors (5 pages of payload plus header and TLVs).
    let n = b.len().div_ceil(PAGE);
    assert_eq!(n, 6);
    let t = sim.trailer;
    assert_eq!(
        read(sim.primary(), t.swap_size_off(), 4),
        (b.len() as u32).to_le_bytes()
    );
    assert_eq!(read(sim.primary(), t.swap_info_off(), 1), [2]);
    let status = t.read_status_bytes(sim.primary()).unwrap();
    let sectors = 16;
    let mut expected = vec![0xff; 3 * sectors];
    expected[..n].fill(1);
    for i in 0..n {
        expected[sectors + 2 * i] = 1;
        expected[sectors + 2 * i + 1] = 2;
    }
    assert_eq!(status, expected);
}

#[test]
fn a_confirmed_test_image_stays() {
    let (sim, _, b) = pending_test(small_layout());
    sim.boot().unwrap();
    sim.confirm().unwrap();
    assert_eq!(sim.image_state().unwrap(), BootState::Confirmed);
    let writes = stats(&sim).writes;
    sim.confirm().unwrap();
    assert_eq!(stats(&sim).writes, writes, "confirming twice writes once");
    for _ in 0..2 {
        let report = sim.boot().unwrap();
        assert_eq!(
            (report.version(), report.swap),
            (Version::new(2, 0, 0), SwapType::None)
        );
        assert_eq!(report.state, BootState::Confirmed);
        assert!(primary_is(&sim, &b));
    }
}

#[test]
fn a_permanent_upgrade_is_kept_without_confirmation() {
    let (a, b) = images();
    let sim = device(small_layout());
    sim.install_primary(&a).unwrap();
    download(&sim, &b);
    sim.request_upgrade(true).unwrap();
    let report = sim.boot().unwrap();
    assert_eq!(report.swap, SwapType::Perm);
    assert_eq!(report.state, BootState::Confirmed);
    let report = sim.boot().unwrap();
    assert_eq!(
        (report.version(), report.swap),
        (Version::new(2, 0, 0), SwapType::None)
    );
}

#[test]
fn confirming_a_factory_image_writes_nothing() {
    let (a, _) = images();
    let sim = device(small_layout());
    sim.install_primary(&a).unwrap();
    let writes = stats(&sim).writes;
    sim.confirm().unwrap();
    assert_eq!(stats(&sim).writes, writes);
}

#[test]
fn an_invalid_secondary_image_is_erased_and_not_swapped_in() {
    let (a, b) = images();
    let mut damaged = [b.clone(), b.clone(), b.clone()];
    damaged[0][3000] ^= 0x40; // payload: hash mismatch
    damaged[1][12..16].copy_from_slice(&(20 * PAGE as u32).to_le_bytes()); // larger than a slot
    let tlv = damaged[2].len() - 40;
    damaged[2][tlv] = 0; // TLV info magic
    for img in damaged {
        let sim = device(small_layout());
        sim.install_primary(&a).unwrap();
        download(&sim, &img);
        sim.request_upgrade(false).unwrap();
        let report = sim.boot().unwrap();
        assert!(report.rejected_secondary);
        assert_eq!(
            (report.version(), report.swap),
            (Version::new(1, 0, 0), SwapType::None)
        );
        assert!(primary_is(&sim, &a));
        assert!(sim.secondary().is_erased(0, 16 * PAGE as u32).unwrap());
        assert_eq!(sim.swap_type().unwrap(), SwapType::None);
        let report = sim.boot().unwrap();
        assert!(!report.rejected_secondary);
    }
}

#[test]
fn a_request_without_an_image_only_loses_its_trailer() {
    let (a, b) = images();
    let mut non_bootable = b.clone();
    non_bootable[16] |= 0x10; // IMAGE_F_NON_BOOTABLE
    for img in [&[0xffu8; 4][..], &non_bootable] {
        let sim = device(small_layout());
        sim.install_primary(&a).unwrap();
        download(&sim, img);
        sim.request_upgrade(false).unwrap();
        let report = sim.boot().unwrap();
        assert!(report.rejected_secondary);
        assert_eq!(report.version(), Version::new(1, 0, 0));
        assert!(sim.trailer.sectors_erased(sim.secondary()).unwrap());
        assert!(secondary_is(&sim, img), "the slot's contents stay");
    }
}

#[test]
fn a_revert_with_its_image_gone_keeps_the_running_image() {
    let (sim, _, b) = pending_test(small_layout());
    sim.boot().unwrap();
    // The old image is erased from the secondary slot before the reset.
    sim.secondary().erase(0, sim.max_image_size()).unwrap();
    let report = sim.boot().unwrap();
    assert!(report.rejected_secondary);
    assert_eq!(
        (report.version(), report.state),
        (Version::new(2, 0, 0), BootState::Confirmed)
    );
    assert!(primary_is(&sim, &b));
    assert_eq!(
        sim.trailer.read_state(sim.primary()).unwrap().magic,
        Magic::Unset
    );
}

#[test]
fn trailers_follow_a_32_byte_write_unit() {
    let layout = Layout::new(4096, 32, 4096, 16 * 4096, 2 * 4096).unwrap();
    let (sim, a, b) = pending_test(layout);
    let magic = read(sim.secondary(), 16 * PAGE as u32 - 16, 16);
    assert_eq!(magic[..2], [32, 0]);
    assert_eq!(read(sim.secondary(), 16 * PAGE as u32 - 128, 1), [2]);
    let report = sim.boot().unwrap();
    assert_eq!(
        (report.version(), report.state),
        (Version::new(2, 0, 0), BootState::PendingCommit)
    );
    assert!(primary_is(&sim, &b));
    let report = sim.boot().unwrap();
    assert_eq!(
        (report.version(), report.swap),
        (Version::new(1, 0, 0), SwapType::Revert)
    );
    assert!(primary_is(&sim, &a));
}

/// The operations (writes and page erases) one boot performs.
fn ops_of_boot(sim: &BootSim) -> u64 {
    let before = stats(sim).operations();
    sim.boot().unwrap();
    stats(sim).operations() - before
}

/// Every cut point of a run of `n` operations, each with `seeds` tear seeds.
fn cuts(n: u64, seeds: u64) -> impl Iterator<Item = (u64, u64)> {
    (0..n).flat_map(move |k| (0..seeds).map(move |s| (k, k * seeds + s)))
}

/// Cut power at operation `k` of the next boot, power up again, boot.
fn boot_with_cut(sim: &BootSim, k: u64, seed: u64) -> BootReport {
    sim.primary.flash().lock().arm_power_cut(k, seed);
    assert_eq!(
        sim.boot(),
        Err(BootError::Flash(FlashError::PowerCut)),
        "cut at {k}"
    );
    sim.primary.flash().lock().power_cycle();
    let report = sim.boot().unwrap_or_else(|e| panic!("cut at {k}: {e}"));
    assert!(
        matches!(
            validate::check_slot(sim.primary(), sim.max_image_size()),
            Ok(Verdict::Valid(_))
        ),
        "cut at {k}: the primary image is not intact"
    );
    report
}

#[test]
fn a_power_cut_at_any_operation_of_a_test_swap_is_recovered() {
    let layout = small_layout();
    let (start, a, b) = pending_test(layout);
    let n = ops_of_boot(&clone_device(&start, layout));
    // 2 trailer erases, 3 trailer writes, 6 moves and 6 * 2 swap steps of an
    // erase, 4 copy writes and a status write each, and copy_done.
    assert_eq!(n, 2 + 3 + 18 * 6 + 1);
    for (k, seed) in cuts(n, 3) {
        let sim = clone_device(&start, layout);
        let report = boot_with_cut(&sim, k, seed);
        let outcome = (report.version().major, report.state);
        if k + 1 < n {
            assert_eq!(outcome, (2, BootState::PendingCommit), "cut at {k}");
            assert!(primary_is(&sim, &b) && secondary_is(&sim, &a), "cut at {k}");
            let next = sim.boot().unwrap();
            assert_eq!(
                (next.version(), next.swap),
                (Version::new(1, 0, 0), SwapType::Revert)
            );
            assert!(primary_is(&sim, &a), "cut at {k}");
            continue;
        }
        // The last write, copy_done, torn: left erased, the swap is finished
        // again; fully written, the swap was done and this reset reverts the
        // unconfirmed image; partly written (neither set nor unset), bootutil's
        // table sees nothing to revert and the new image stays.
        match outcome {
            (2, BootState::PendingCommit) | (2, BootState::Confirmed) => {
                assert!(primary_is(&sim, &b))
            }
            (1, BootState::Confirmed) => assert!(primary_is(&sim, &a)),
            other => panic!("copy_done torn: {other:?}"),
        }
    }
}

#[test]
fn a_power_cut_at_any_operation_of_a_revert_is_recovered() {
    let layout = small_layout();
    let (start, a, b) = pending_test(layout);
    start.boot().unwrap();
    let n = ops_of_boot(&clone_device(&start, layout));
    // fixup_revert (an erase, 3 writes), then as a swap whose status init
    // also copies image_ok (the one write finish_swap then skips).
    assert_eq!(n, 4 + 2 + 4 + 18 * 6 + 1);
    for (k, seed) in cuts(n, 3) {
        let sim = clone_device(&start, layout);
        let report = boot_with_cut(&sim, k, seed);
        assert_eq!(report.version(), Version::new(1, 0, 0), "cut at {k}");
        assert_eq!(report.state, BootState::Confirmed, "cut at {k}");
        assert!(primary_is(&sim, &a) && secondary_is(&sim, &b), "cut at {k}");
        let next = sim.boot().unwrap();
        assert_eq!(
            (next.version(), next.swap),
            (Version::new(1, 0, 0), SwapType::None)
        );
    }
}

#[test]
fn a_power_cut_at_any_operation_of_a_permanent_swap_is_recovered() {
    let layout = small_layout();
    let (a, b) = images();
    let start = device(layout);
    start.install_primary(&a).unwrap();
    download(&start, &b);
    start.request_upgrade(true).unwrap();
    let n = ops_of_boot(&clone_device(&start, layout));
    for (k, seed) in cuts(n, 3) {
        let sim = clone_device(&start, layout);
        let report = boot_with_cut(&sim, k, seed);
        assert_eq!(
            (report.version(), report.state),
            (Version::new(2, 0, 0), BootState::Confirmed)
        );
        assert!(primary_is(&sim, &b), "cut at {k}");
        assert_eq!(sim.boot().unwrap().swap, SwapType::None);
    }
}

#[test]
fn repeated_power_cuts_during_recovery_still_end_on_a_valid_image() {
    let layout = small_layout();
    let (start, a, b) = pending_test(layout);
    let n = ops_of_boot(&clone_device(&start, layout));
    let mut seed = 0x1234_5678_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..200 {
        let sim = clone_device(&start, layout);
        // Up to four cuts, each somewhere in what a boot may do.
        for _ in 0..4 {
            sim.primary.flash().lock().arm_power_cut(next() % n, next());
            match sim.boot() {
                Ok(_) => break,
                Err(e) => assert_eq!(e, BootError::Flash(FlashError::PowerCut), "round {round}"),
            }
            sim.primary.flash().lock().power_cycle();
        }
        sim.primary.flash().lock().power_cycle();
        let report = sim.boot().unwrap_or_else(|e| panic!("round {round}: {e}"));
        let expected = if report.version() == Version::new(2, 0, 0) {
            &b
        } else {
            &a
        };
        assert!(primary_is(&sim, expected), "round {round}");
        // And the device keeps working: boots until stable stay valid.
        for _ in 0..2 {
            let report = sim.boot().unwrap();
            assert!(matches!(report.version().major, 1 | 2));
        }
    }
}

#[test]
fn a_one_mib_swap_costs_what_swap_move_costs() {
    // 1.5 MiB slots: a 1 MiB image spans 257 sectors, the trailer 2.
    let layout = Layout::nrf52840_with_slots(384 * 4096).unwrap();
    let old = image((1, 0, 0), 1 << 20, 3);
    let new = image((2, 0, 0), 1 << 20, 4);
    let sim = device(layout);
    sim.install_primary(&old).unwrap();
    download(&sim, &new);
    sim.request_upgrade(false).unwrap();
    let before = stats(&sim);
    let started = std::time::Instant::now();
    let report = sim.boot().unwrap();
    let elapsed = started.elapsed();
    let after = stats(&sim);
    assert_eq!(report.version(), Version::new(2, 0, 0));
    let n = 257;
    assert_eq!(after.erases - before.erases, 3 * n + 2 * 2);
    assert_eq!(after.writes - before.writes, 15 * n + 4);
    eprintln!(
        "1 MiB test swap: {elapsed:?}, {} erases, {} writes, {} bytes written",
        after.erases - before.erases,
        after.writes - before.writes,
        after.bytes_written - before.bytes_written
    );
    assert!(primary_is(&sim, &new) && secondary_is(&sim, &old));
}
