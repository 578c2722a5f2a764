//! What every `cli_*` module uses: run the binary, read what it printed.

use std::process::{Command, Output};

pub(crate) fn satria(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_satria"))
        .args(args)
        .output()
        .expect("the binary runs")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
