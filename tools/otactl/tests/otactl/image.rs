//! MCUboot images: `otactl image` against MCUboot's imgtool, both ways.

use ota_agent::mcuboot::{check_image, ImageVersion};
use ota_agent::ImageError;

use crate::common::{payload, Scratch};

/// imgtool's `sign` with the flags Zephyr uses, plus `extra`.
fn imgtool_sign(s: &Scratch, extra: &[&str], input: &str, output: &str) {
    let mut args = vec![
        "sign",
        "--version",
        "1.2.3+4",
        "--header-size",
        "0x200",
        "--align",
        "4",
        "--slot-size",
        "0x76000",
    ];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[input, output]);
    s.imgtool_ok(&args);
}

/// Whether `imgtool verify` accepts the image (with a key file or hash only).
fn imgtool_verifies(s: &Scratch, image: &str, key: Option<&str>) -> bool {
    let mut args = vec!["verify"];
    if let Some(key) = key {
        args.extend_from_slice(&["-k", key]);
    }
    args.push(image);
    let out = s.imgtool(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = out.status.success() && stdout.contains("Image was correctly validated");
    if ok {
        assert!(stdout.contains("Image version: 1.2.3+4"), "{stdout}");
    }
    ok
}

/// The (type, data) TLVs of the unprotected TLV area.
fn tlvs(image: &[u8]) -> Vec<(u16, Vec<u8>)> {
    let layout = check_image(image).expect("a valid image");
    let mut rest = &image[layout.tlv_offset as usize + 4..];
    let mut out = Vec::new();
    while !rest.is_empty() {
        let kind = u16::from_le_bytes([rest[0], rest[1]]);
        let len = u16::from_le_bytes([rest[2], rest[3]]) as usize;
        out.push((kind, rest[4..4 + len].to_vec()));
        rest = &rest[4 + len..];
    }
    out
}

const VERSION: ImageVersion = ImageVersion {
    major: 1,
    minor: 2,
    revision: 3,
    build_num: 4,
};

#[test]
fn unsigned_images_are_byte_identical_to_imgtool_and_verified_by_it() {
    let s = Scratch::new();
    for len in [1, 4096, 70_001] {
        s.write("app.bin", &payload(len));
        s.otactl_ok(&[
            "image",
            "--version",
            "1.2.3+4",
            "--pad-header",
            "app.bin",
            "-o",
            "ours.bin",
        ]);
        imgtool_sign(&s, &["--pad-header"], "app.bin", "theirs.bin");
        assert_eq!(
            s.read("ours.bin"),
            s.read("theirs.bin"),
            "payload of {len} bytes"
        );
        assert!(imgtool_verifies(&s, "ours.bin", None));
    }
}

#[test]
fn a_zephyr_style_payload_gets_the_header_written_over_its_blank_start() {
    let s = Scratch::new();
    let mut zephyr_bin = vec![0u8; 0x200];
    zephyr_bin.extend(payload(5000));
    s.write("zephyr.bin", &zephyr_bin);
    s.otactl_ok(&[
        "image",
        "--version",
        "1.2.3+4",
        "zephyr.bin",
        "-o",
        "ours.bin",
    ]);
    imgtool_sign(&s, &[], "zephyr.bin", "theirs.bin");
    assert_eq!(s.read("ours.bin"), s.read("theirs.bin"));
    assert!(imgtool_verifies(&s, "ours.bin", None));

    // Without blank space for the header both tools refuse.
    s.write("app.bin", &payload(5000));
    let err = s.otactl_fails(
        &["image", "--version", "1.2.3+4", "app.bin", "-o", "x.bin"],
        1,
    );
    assert!(err.contains("pad-header"), "{err}");
    assert!(!s
        .imgtool(&[
            "sign",
            "--version",
            "1.2.3",
            "--header-size",
            "0x200",
            "--slot-size",
            "0x76000",
            "app.bin",
            "y.bin"
        ])
        .status
        .success());
}

#[test]
fn load_address_matches_imgtool() {
    let s = Scratch::new();
    s.write("app.bin", &payload(1000));
    s.otactl_ok(&[
        "image",
        "--version",
        "1.2.3+4",
        "--pad-header",
        "--load-addr",
        "0x20008000",
        "app.bin",
        "-o",
        "ours.bin",
    ]);
    imgtool_sign(
        &s,
        &["--pad-header", "--load-addr", "0x20008000"],
        "app.bin",
        "theirs.bin",
    );
    assert_eq!(s.read("ours.bin"), s.read("theirs.bin"));
    let layout = check_image(&s.read("ours.bin")).unwrap();
    assert_eq!(layout.header.load_addr, 0x2000_8000);
}

#[test]
fn the_core_accepts_imgtool_images() {
    let s = Scratch::new();
    s.write("in.bin", &payload(12_345));
    s.imgtool_ok(&[
        "sign",
        "--version",
        "1.1.0",
        "--header-size",
        "0x200",
        "--align",
        "4",
        "--slot-size",
        "0x76000",
        "--pad-header",
        "in.bin",
        "out.bin",
    ]);
    let image = s.read("out.bin");
    let layout = check_image(&image).expect("the core accepts imgtool's hash-only image");
    assert_eq!(
        layout.header.version,
        ImageVersion {
            major: 1,
            minor: 1,
            revision: 0,
            build_num: 0
        }
    );
    assert_eq!(layout.header.hdr_size, 0x200);
    assert_eq!(layout.header.img_size, 12_345);

    // A signed imgtool image too: the core walks past the key hash and signature TLVs.
    s.otactl_ok(&["keygen", "--out", "k.pem"]);
    imgtool_sign(&s, &["--pad-header", "-k", "k.pem"], "in.bin", "signed.bin");
    let signed = s.read("signed.bin");
    assert_eq!(check_image(&signed).unwrap().header.version, VERSION);

    let mut bad = image.clone();
    bad[0x200 + 100] ^= 1;
    assert_eq!(check_image(&bad), Err(ImageError::HashMismatch));
}

#[test]
fn signed_images_verify_with_imgtool_and_carry_its_key_hash() {
    let s = Scratch::new();
    s.write("app.bin", &payload(20_000));
    s.otactl_ok(&["keygen", "--out", "k.pem", "--public", "p.pem"]);
    s.otactl_ok(&["keygen", "--out", "other.pem", "--public", "other_pub.pem"]);
    let out = s.otactl_ok(&[
        "image",
        "--version",
        "1.2.3+4",
        "--pad-header",
        "--key",
        "k.pem",
        "app.bin",
        "-o",
        "ours.bin",
    ]);
    assert!(out.contains("signed; key hash"), "{out}");
    assert!(imgtool_verifies(&s, "ours.bin", Some("p.pem")));
    assert!(imgtool_verifies(&s, "ours.bin", Some("k.pem")));
    assert!(!imgtool_verifies(&s, "ours.bin", Some("other_pub.pem")));

    // Same layout as imgtool's signed image: SHA-256, key hash, signature;
    // equal hash and key hash (the signatures differ: ECDSA is randomised).
    imgtool_sign(
        &s,
        &["--pad-header", "-k", "k.pem"],
        "app.bin",
        "theirs.bin",
    );
    let ours = tlvs(&s.read("ours.bin"));
    let theirs = tlvs(&s.read("theirs.bin"));
    let kinds = |t: &[(u16, Vec<u8>)]| t.iter().map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(kinds(&ours), [0x10, 0x01, 0x22]);
    assert_eq!(kinds(&ours), kinds(&theirs));
    assert_eq!(ours[0], theirs[0], "image hash");
    assert_eq!(ours[1], theirs[1], "key hash");

    // A changed payload byte breaks both the hash and the signature.
    let mut bad = s.read("ours.bin");
    bad[0x200 + 10_000] ^= 0x40;
    s.write("bad.bin", &bad);
    assert!(!imgtool_verifies(&s, "bad.bin", Some("p.pem")));
    assert!(!imgtool_verifies(&s, "bad.bin", None));
    assert_eq!(check_image(&bad), Err(ImageError::HashMismatch));

    // A changed signature byte (inside s) fails only the signature check.
    let mut bad_sig = s.read("ours.bin");
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    s.write("bad_sig.bin", &bad_sig);
    assert!(imgtool_verifies(&s, "bad_sig.bin", None));
    assert!(!imgtool_verifies(&s, "bad_sig.bin", Some("p.pem")));
}

#[test]
fn bad_arguments_are_refused() {
    let s = Scratch::new();
    s.write("app.bin", b"x");
    let err = s.otactl_fails(
        &[
            "image",
            "--version",
            "1.2.300000",
            "--pad-header",
            "app.bin",
            "-o",
            "o.bin",
        ],
        2,
    );
    assert!(err.contains("invalid image version"), "{err}");
    let err = s.otactl_fails(
        &[
            "image",
            "--version",
            "1",
            "--header-size",
            "16",
            "--pad-header",
            "app.bin",
            "-o",
            "o.bin",
        ],
        1,
    );
    assert!(
        err.contains("smaller than the 32-byte MCUboot header"),
        "{err}"
    );
    assert!(!s.path("o.bin").exists());
}
