use super::*;
use crate::flash::Flash;
use crate::testutil::image;
use ota_agent::{CustomJobStatus, ProgressStore, SignatureError};

/// Accepts everything: tests plug it in instead of P-256.
#[derive(Debug)]
struct AcceptAll;

impl SignatureVerifier for AcceptAll {
    fn verify(&mut self, _: &[u8; 32], _: &[u8]) -> Result<(), SignatureError> {
        Ok(())
    }
}

fn small_layout() -> Layout {
    Layout::new(4096, 4, 4096, 16 * 4096, 2 * 4096).unwrap()
}

/// A device with image 1.0.0 flashed at the factory.
fn factory_flash(layout: Layout) -> SharedFlash {
    let flash = SharedFlash::new(Flash::in_memory(layout.geometry()));
    let sim = BootSim::new(flash.clone(), &layout, BootConfig::default()).unwrap();
    sim.install_primary(&image((1, 0, 0), 10_000, 1)).unwrap();
    flash
}

fn power_on(flash: SharedFlash) -> HostPlatform<AcceptAll> {
    HostPlatform::power_on(flash, small_layout(), BootConfig::default(), AcceptAll).unwrap()
}

/// Download `img` through the agent's slot interface.
fn download(p: &mut HostPlatform<AcceptAll>, img: &[u8]) {
    let slot = p.slot();
    let cap = slot.capacity();
    slot.erase(0, cap).unwrap();
    let mut padded = img.to_vec();
    padded.resize(
        img.len().next_multiple_of(slot.write_align() as usize),
        0xff,
    );
    for (i, chunk) in padded.chunks(1024).enumerate() {
        slot.write(i as u32 * 1024, chunk).unwrap();
    }
    let mut back = vec![0; img.len()];
    slot.read(0, &mut back).unwrap();
    assert_eq!(back, img);
}

#[test]
fn a_platform_can_move_to_a_device_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<HostPlatform<AcceptAll>>();
    assert_send::<HostPlatform>();
}

#[test]
fn a_device_without_an_image_does_not_power_on() {
    let layout = small_layout();
    let flash = SharedFlash::new(Flash::in_memory(layout.geometry()));
    let err = HostPlatform::power_on(flash, layout, BootConfig::default(), AcceptAll).unwrap_err();
    assert_eq!(err, HostError::Boot(BootError::NoBootableImage));
    let flash = SharedFlash::new(Flash::in_memory(Layout::nrf52840dk().geometry()));
    let err = HostPlatform::power_on(flash, layout, BootConfig::default(), AcceptAll).unwrap_err();
    assert!(matches!(err, HostError::Config(_)));
}

#[test]
fn the_factory_image_runs_confirmed() {
    let mut p = power_on(factory_flash(small_layout()));
    assert_eq!(p.boot().running_version(), Version::new(1, 0, 0));
    assert_eq!(p.boot().state(), BootState::Confirmed);
    assert_eq!(p.boot_report().swap, crate::SwapType::None);
    assert!(!p.reboot_requested());
    // Rejecting a permanent image asks for the secondary slot to be swapped
    // back in; with nothing valid there the bootloader refuses it and the
    // factory image stays.
    p.boot().reject().unwrap();
    let report = *p.restart().unwrap();
    assert!(report.rejected_secondary);
    assert_eq!(report.version(), Version::new(1, 0, 0));
}

#[test]
fn rejecting_a_permanent_update_swaps_the_old_image_back() {
    // What MCUboot leaves after a power cut tears copy_done: the new image
    // runs permanently without having been confirmed.
    let mut p = power_on(factory_flash(small_layout()));
    download(&mut p, &image((2, 0, 0), 20_000, 2));
    p.boot().request_test_upgrade().unwrap();
    p.restart().unwrap();
    p.boot().confirm().unwrap();
    assert_eq!(p.boot().state(), BootState::Confirmed);
    p.boot().reject().unwrap();
    let report = *p.restart().unwrap();
    assert_eq!(report.version(), Version::new(1, 0, 0));
    assert_eq!(p.boot().state(), BootState::Confirmed);
}

#[test]
fn the_slot_is_the_secondary_image_area_and_is_bounded() {
    let mut p = power_on(factory_flash(small_layout()));
    let max = p.boot().sim().max_image_size();
    let slot = p.slot();
    assert_eq!(slot.capacity(), max);
    assert_eq!(slot.capacity(), 14 * 4096);
    assert_eq!((slot.erase_size(), slot.write_align()), (4096, 4));
    assert_eq!(slot.write(max, &[0; 4]), Err(PortError(-22)));
    assert_eq!(slot.write(u32::MAX - 1, &[0; 4]), Err(PortError(-22)));
    assert_eq!(slot.erase(max, 4096), Err(PortError(-22)));
    assert_eq!(slot.read(max - 2, &mut [0; 4]), Err(PortError(-22)));
    assert_eq!(slot.write(2, &[0; 4]), Err(PortError(-22)));
    slot.erase(0, 4096).unwrap();
    slot.write(0, &[1; 4]).unwrap();
    assert_eq!(slot.write(0, &[1; 4]), Err(PortError(-5)), "not erased");
    assert!(HostSlot::new(p.boot().sim().secondary().clone(), 100).is_err());
}

#[test]
fn a_test_update_reverts_unless_confirmed() {
    let mut p = power_on(factory_flash(small_layout()));
    download(&mut p, &image((2, 1, 7), 20_000, 2));
    p.boot().request_test_upgrade().unwrap();
    p.boot().reboot();
    assert!(p.reboot_requested());
    let report = *p.restart().unwrap();
    assert!(!p.reboot_requested());
    assert_eq!(report.version(), Version::new(2, 1, 7));
    assert_eq!(p.boot().running_version(), Version::new(2, 1, 7));
    assert_eq!(p.boot().state(), BootState::PendingCommit);
    p.boot().reject().unwrap();
    p.boot().reboot();
    p.restart().unwrap();
    assert_eq!(p.boot().running_version(), Version::new(1, 0, 0));
    assert_eq!(p.boot().state(), BootState::Confirmed);
}

#[test]
fn a_confirmed_update_stays() {
    let mut p = power_on(factory_flash(small_layout()));
    download(&mut p, &image((2, 0, 0), 20_000, 2));
    p.boot().request_test_upgrade().unwrap();
    p.restart().unwrap();
    p.boot().confirm().unwrap();
    assert_eq!(p.boot().state(), BootState::Confirmed);
    p.restart().unwrap();
    assert_eq!(p.boot().running_version(), Version::new(2, 0, 0));
    assert_eq!(p.boot().state(), BootState::Confirmed);
}

#[test]
fn a_torn_request_does_not_block_the_next_one() {
    let layout = small_layout();
    let mut p = power_on(factory_flash(layout));
    download(&mut p, &image((2, 0, 0), 20_000, 2));
    // Cut power in the middle of writing the trailer magic.
    p.flash().lock().arm_power_cut(0, 3);
    assert_eq!(p.boot().request_test_upgrade(), Err(PortError(-5)));
    assert_eq!(p.boot().request_test_upgrade(), Err(PortError(-19)));
    p.flash().lock().power_cycle();
    p.restart().unwrap();
    assert_eq!(p.boot().running_version(), Version::new(1, 0, 0));
    p.boot().request_test_upgrade().unwrap();
    p.restart().unwrap();
    assert_eq!(p.boot().running_version(), Version::new(2, 0, 0));
}

#[test]
fn progress_survives_a_restart_and_ram_state_does_not() {
    let mut p = power_on(factory_flash(small_layout()));
    p.store().save(b"block 42").unwrap();
    p.boot().reboot();
    p.restart().unwrap();
    let mut buf = [0; 32];
    assert_eq!(p.store().load(&mut buf), Some(8));
    assert_eq!(&buf[..8], b"block 42");
    // Another device powered on from the same flash sees it too.
    let mut q = power_on(p.flash().clone());
    assert_eq!(q.store().load(&mut buf), Some(8));
}

#[test]
fn custom_jobs_are_declined_unless_the_application_claims_them() {
    let mut p = power_on(factory_flash(small_layout()));
    let job = CustomJob {
        job_id: "job-1",
        document: br#"{"op":"reboot"}"#,
    };
    assert_eq!(p.custom_job(&job), CustomJobReply::Decline);
    p.set_custom_job_handler(Box::new(|job| {
        if job.document.starts_with(br#"{"op""#) {
            CustomJobReply::Claim(CustomJobStatus::Succeeded)
        } else {
            CustomJobReply::Decline
        }
    }));
    assert_eq!(
        p.custom_job(&job),
        CustomJobReply::Claim(CustomJobStatus::Succeeded)
    );
    let other = CustomJob {
        job_id: "job-2",
        document: b"{}",
    };
    assert_eq!(p.custom_job(&other), CustomJobReply::Decline);
}

#[test]
fn the_default_verifier_is_p256() {
    // The P-256 generator point, uncompressed: a valid public key.
    let mut key = vec![0x04];
    key.extend([
        0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
        0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98,
        0xc2, 0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c,
        0x0f, 0x9e, 0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68,
        0x37, 0xbf, 0x51, 0xf5,
    ]);
    let verifier = P256Verifier::from_sec1(&key).unwrap();
    let mut p: HostPlatform = HostPlatform::power_on(
        factory_flash(small_layout()),
        small_layout(),
        BootConfig::default(),
        verifier,
    )
    .unwrap();
    assert_eq!(
        p.verifier().verify(&[0; 32], b"junk"),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn a_power_cut_while_downloading_is_survived() {
    let mut p = power_on(factory_flash(small_layout()));
    p.slot().erase(0, 4096).unwrap();
    p.flash().lock().arm_power_cut(1, 11);
    p.slot().write(0, &[0; 64]).unwrap();
    assert_eq!(p.slot().write(64, &[0; 64]), Err(PortError(-5)));
    assert_eq!(p.store().save(b"x"), Err(PortError(-19)));
    assert!(p.restart().is_err());
    p.flash().lock().power_cycle();
    let report = p.restart().unwrap();
    assert_eq!(report.version(), Version::new(1, 0, 0));
    assert!(p.flash().lock().is_powered());
}
