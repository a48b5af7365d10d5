//! The dashboard's panic hook, alone in this test binary: the hook is global to the process,
//! so in the library's test binary another test's panic on another thread (the partner's
//! tests panic on purpose) could be the one kept, and the test failed now and then.

use std::{panic, thread};

use dsm_tui::dashboard::keep_background_panics;

#[test]
fn a_background_panic_is_kept_with_its_thread_and_location() {
    let kept = keep_background_panics();
    let joined = thread::Builder::new().name("trainer".into()).spawn(|| panic!("boom")).unwrap().join();
    // Restore the default hook before asserting, so a failure here reports normally.
    let _ = panic::take_hook();
    assert!(joined.is_err());
    let message = kept.lock().unwrap().take().expect("the panic was kept");
    let here = format!("the trainer thread panicked at {}:", file!());
    assert!(message.starts_with(&here), "{message}");
    assert!(message.ends_with("boom"), "{message}");
    assert!(!message.contains('\n'));
}
