//! Generates the C header from the sources with cbindgen.
//!
//! The header is written to `$OUT_DIR/gitfleet.h` on every build; a test
//! compares it with the committed `include/gitfleet.h` and fails when that
//! one is stale. `GITFLEET_WRITE_HEADER=1 cargo build` refreshes the
//! committed copy.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=GITFLEET_WRITE_HEADER");

    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets this"));
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets this"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");

    let header = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen can read the sources");
    header.write_to_file(out_dir.join("gitfleet.h"));

    if env::var_os("GITFLEET_WRITE_HEADER").is_some() {
        header.write_to_file(crate_dir.join("include").join("gitfleet.h"));
    }
}
