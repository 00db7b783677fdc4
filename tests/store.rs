//! Processes sharing one credential store: no entry may be lost.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use gitfleet::store::{CredentialStore, KdfParams};
use gitfleet::Provider;

const PASSWORD: &[u8] = b"shared password";
const PARAMS: KdfParams = KdfParams {
    memory_kib: 19 * 1024,
    iterations: 2,
    lanes: 1,
};
const WRITERS: usize = 4;
const SAVES_EACH: usize = 15;

/// Run as a child process (see below): saves `SAVES_EACH` tokens of its own.
#[test]
fn child_writer() {
    let (Ok(path), Ok(name)) = (std::env::var("GF_STORE_PATH"), std::env::var("GF_WRITER")) else {
        return; // Not a child: nothing to do.
    };
    let store = CredentialStore::open(&path, PASSWORD).expect("the child opens the store");
    for index in 0..SAVES_EACH {
        let token = format!("ghp_{name}_{index}");
        store
            .save(Provider::GitHub, &token, None, None)
            .expect("a save goes through");
    }
}

#[test]
fn processes_saving_at_once_lose_nothing() {
    let dir = std::env::temp_dir().join(format!("gitfleet-store-procs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join("shared.gfs");
    let _ = std::fs::remove_file(&path);
    CredentialStore::create(&path, PASSWORD, PARAMS).unwrap();

    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WRITERS)
        .map(|writer| {
            Command::new(&exe)
                .args(["--exact", "child_writer", "--test-threads", "1", "--quiet"])
                .env("GF_STORE_PATH", &path)
                .env("GF_WRITER", format!("w{writer}"))
                .stdout(Stdio::null())
                .spawn()
                .expect("the child starts")
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success(), "a writer failed");
    }

    let listed = CredentialStore::open(&path, PASSWORD)
        .unwrap()
        .list()
        .unwrap();
    assert_eq!(
        listed.len(),
        WRITERS * SAVES_EACH,
        "every save of every process is there"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
