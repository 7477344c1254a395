//! The incident config loader on hostile files: load or refuse with a cause, never
//! panic; what loads passes validation.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use recovery_deck::config::IncidentConfig;

fn path() -> &'static PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
            .path()
            .join("incident.toml")
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).expect("write the input");
    match IncidentConfig::load(path) {
        Ok(cfg) => {
            assert!(cfg.validate().is_ok());
            let _ = cfg.to_toml();
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
