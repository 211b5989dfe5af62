//! Running `otactl` and external tools in a scratch directory.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// How to install openssl where it is missing.
pub const OPENSSL_INSTALL: &str = "apt-get install -y openssl";
/// How to install MCUboot's imgtool where it is missing.
pub const IMGTOOL_INSTALL: &str = "pip install imgtool";

/// A scratch directory; commands run inside it with relative file names.
pub struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    /// A new empty directory.
    pub fn new() -> Self {
        Scratch {
            dir: tempfile::tempdir().expect("create a temporary directory"),
        }
    }

    /// The absolute path of `name` inside the directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Write a file.
    pub fn write(&self, name: &str, bytes: &[u8]) {
        std::fs::write(self.path(name), bytes).expect("write a scratch file");
    }

    /// Read a file.
    pub fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
    }

    /// Run otactl.
    pub fn otactl(&self, args: &[&str]) -> Output {
        run(
            Command::new(env!("CARGO_BIN_EXE_otactl")),
            self.dir.path(),
            args,
            None,
        )
    }

    /// Run otactl, insist that it succeeds, and return its standard output.
    pub fn otactl_ok(&self, args: &[&str]) -> String {
        stdout_of_success("otactl", args, self.otactl(args))
    }

    /// Run otactl, insist that it fails with `code`, and return its standard error.
    pub fn otactl_fails(&self, args: &[&str], code: i32) -> String {
        let out = self.otactl(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(code), "otactl {args:?}: {stderr}");
        stderr
    }

    /// Run openssl.
    pub fn openssl(&self, args: &[&str]) -> Output {
        run(
            Command::new("openssl"),
            self.dir.path(),
            args,
            Some(OPENSSL_INSTALL),
        )
    }

    /// Run openssl, insist that it succeeds, and return its standard output.
    pub fn openssl_ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.openssl(args);
        assert!(
            out.status.success(),
            "openssl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Run imgtool.
    pub fn imgtool(&self, args: &[&str]) -> Output {
        run(
            Command::new("imgtool"),
            self.dir.path(),
            args,
            Some(IMGTOOL_INSTALL),
        )
    }

    /// Run imgtool, insist that it succeeds, and return its standard output.
    pub fn imgtool_ok(&self, args: &[&str]) -> String {
        stdout_of_success("imgtool", args, self.imgtool(args))
    }
}

fn run(mut command: Command, dir: &Path, args: &[&str], install: Option<&str>) -> Output {
    let program = command.get_program().to_string_lossy().into_owned();
    match command.args(args).current_dir(dir).output() {
        Ok(out) => out,
        Err(e) if e.kind() == ErrorKind::NotFound => match install {
            Some(install) => panic!(
                "`{program}` is not installed, and these tests need it: install it with \
                 `{install}` (and make sure it is on PATH)"
            ),
            None => panic!("cannot run {program}: {e}"),
        },
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

fn stdout_of_success(program: &str, args: &[&str], out: Output) -> String {
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Decode lowercase or uppercase hex.
pub fn from_hex(text: &str) -> Vec<u8> {
    text.trim()
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("ASCII hex");
            assert_eq!(pair.len(), 2, "odd-length hex {text:?}");
            u8::from_str_radix(pair, 16).expect("hex digit")
        })
        .collect()
}

/// Some deterministic, non-trivial bytes.
pub fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
}
