//! The committed C header must be what cbindgen makes of the sources now.

#[test]
fn committed_header_is_up_to_date() {
    let generated = include_str!(concat!(env!("OUT_DIR"), "/gitfleet.h"));
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/gitfleet.h");
    let committed = std::fs::read_to_string(committed_path).expect("include/gitfleet.h exists");
    assert!(
        committed == generated,
        "include/gitfleet.h is stale: run `GITFLEET_WRITE_HEADER=1 cargo build` and commit it"
    );
}
