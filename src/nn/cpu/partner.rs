//! A second thread for a training step's two shards, kept awake between steps.
//!
//! A batch of two shards (128 × 128, say) is a short step. Handed to rayon, the second shard
//! waits for a sleeping worker to be woken (a futex wake and a reschedule) on every step,
//! and that wake-up is a sizeable part of so short a step: a partner that spins between
//! jobs does the same fork-join markedly faster (the figures are in `docs/performance.md`,
//! "Measured figures moved from module docs"). [`Partner`] is that spinning partner: after
//! each job it spins for [`SPIN`] (longer than the serial part of a step) and only then
//! parks, so back-to-back steps find it awake and an idle trainer costs nothing. Batches of
//! more shards stay on rayon, where the wake-up is a small part of a long step and every
//! core of a larger machine helps.

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How long the partner spins for the next job before it parks.
pub const SPIN: Duration = Duration::from_micros(200);

const IDLE: u8 = 0;
const PARKED: u8 = 1;
const JOB: u8 = 2;
/// The partner has taken the job and runs it.
const TAKEN: u8 = 3;
const DONE: u8 = 4;
const QUIT: u8 = 5;
/// Spawned, not yet in its loop.
const STARTING: u8 = 6;

/// The job in flight: a closure on the caller's stack, its lifetime erased. Sound because
/// [`Partner::join`] does not return (or unwind) before the partner has finished with it.
type Job = *mut (dyn FnMut() + Send + 'static);

struct Shared {
    state: AtomicU8,
    job: UnsafeCell<Option<Job>>,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `job` is written by the caller only while the state is IDLE or PARKED (the
// partner does not read it then) and read by the partner only after it has moved the state
// from JOB to TAKEN (Acquire, paired with the caller's Release swap), until it stores DONE.
unsafe impl Sync for Shared {}
unsafe impl Send for Shared {}

/// A thread that runs one closure at a time beside the caller; see the module docs.
pub struct Partner {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Partner {
    pub fn spawn() -> std::io::Result<Self> {
        let shared =
            Arc::new(Shared { state: AtomicU8::new(STARTING), job: UnsafeCell::new(None), panic: Mutex::new(None) });
        let theirs = Arc::clone(&shared);
        let thread = thread::Builder::new().name("trainer-partner".into()).spawn(move || serve(&theirs))?;
        // Wait until it runs: whatever a new thread allocates as it starts is then done, not
        // left to happen during the steps that follow (which allocate nothing).
        while shared.state.load(Ordering::Acquire) == STARTING {
            thread::yield_now();
        }
        Ok(Self { shared, thread: Some(thread) })
    }

    /// Runs `theirs` on the partner and `ours` on this thread, and returns when both have
    /// finished. If the partner has not started `theirs` by the time `ours` is done (it lost
    /// its core to another process, say), this thread takes it back and runs it itself, as
    /// a rayon worker would steal it back: a busy machine makes a step serial, not stalled.
    /// A panic in either is resumed here, after both have stopped.
    pub fn join<R>(&self, ours: impl FnOnce() -> R, theirs: impl FnOnce() + Send) -> R {
        let mut theirs = Some(theirs);
        let mut call = move || {
            if let Some(f) = theirs.take() {
                f();
            }
        };
        let job: &mut (dyn FnMut() + Send + '_) = &mut call;
        // SAFETY: only the lifetime is erased; `Settle` below keeps this frame alive until
        // the job is taken back or the partner has stored DONE, on return and on unwind.
        let job: Job = unsafe { std::mem::transmute::<&mut (dyn FnMut() + Send + '_), Job>(job) };
        // SAFETY: the partner is not reading `job`: the state is IDLE or PARKED here.
        unsafe { *self.shared.job.get() = Some(job) };
        if self.shared.state.swap(JOB, Ordering::AcqRel) == PARKED {
            self.thread.as_ref().expect("the partner runs until drop").thread().unpark();
        }
        let settle = Settle(&self.shared);
        let result = ours();
        let taken_back = settle.now();
        std::mem::forget(settle);
        if taken_back {
            // SAFETY: taken back from JOB: the partner never started it, and never will.
            unsafe { (*job)() };
        } else if let Some(payload) = self.shared.panic.lock().unwrap_or_else(|e| e.into_inner()).take() {
            panic::resume_unwind(payload);
        }
        result
    }
}

/// Ends the job in flight: takes it back if the partner has not started it, or else waits
/// until the partner has finished it. Dropped on unwind, it does the same (and a job taken
/// back is then not run).
struct Settle<'a>(&'a Shared);

impl Settle<'_> {
    /// Whether the job was taken back (and is now the caller's to run).
    fn now(&self) -> bool {
        let state = &self.0.state;
        let taken_back = state.compare_exchange(JOB, IDLE, Ordering::AcqRel, Ordering::Acquire).is_ok();
        if !taken_back {
            let mut spins = 0u32;
            while state.load(Ordering::Acquire) != DONE {
                spins = spins.saturating_add(1);
                relax(spins);
            }
        }
        // SAFETY: the partner is not using the job: never started (taken back) or DONE.
        unsafe { *self.0.job.get() = None };
        if !taken_back {
            state.store(IDLE, Ordering::Release);
        }
        taken_back
    }
}

impl Drop for Settle<'_> {
    fn drop(&mut self) {
        self.now();
        // Unwinding from our half: a panic of theirs in the same job is dropped here, not left
        // for the next `join` to resume.
        drop(self.0.panic.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
}

impl Drop for Partner {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.state.store(QUIT, Ordering::Release);
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

/// One round of waiting: a pause instruction for the first rounds (a few µs: the common
/// wait, for the other half of a step), then `sched_yield`, which returns at once on an idle
/// core but hands a busy one to whoever needs it — on a shared machine, spinning in place
/// starved the thread being waited for (two-thread steps fell below one thread's speed).
fn relax(rounds: u32) {
    if rounds < 1 << 10 {
        std::hint::spin_loop();
    } else {
        thread::yield_now();
    }
}

/// The partner's loop: wait for a job (spinning for [`SPIN`], then parked), run it, repeat.
fn serve(shared: &Shared) {
    shared.state.store(IDLE, Ordering::Release);
    loop {
        let mut since = Instant::now();
        let mut spins = 0u32;
        loop {
            match shared.state.load(Ordering::Acquire) {
                JOB if shared.state.compare_exchange(JOB, TAKEN, Ordering::AcqRel, Ordering::Acquire).is_ok() => {
                    break;
                }
                QUIT => return,
                _ => {}
            }
            spins = spins.saturating_add(1);
            // Reading the clock costs ~20 ns: every 64 rounds is often enough.
            if spins.is_multiple_of(64) && since.elapsed() > SPIN {
                if shared.state.compare_exchange(IDLE, PARKED, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                    while shared.state.load(Ordering::Acquire) == PARKED {
                        thread::park();
                    }
                }
                since = Instant::now();
                spins = 0;
            }
            relax(spins);
        }
        // SAFETY: we moved the state from JOB to TAKEN: the caller wrote `job` before its
        // Release swap and will not touch it (or its closure's frame) until we store DONE.
        let job = unsafe { (*shared.job.get()).expect("a job comes with JOB") };
        // SAFETY: as above; the closure is alive and ours alone until DONE.
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| unsafe { (*job)() }));
        if let Err(payload) = outcome {
            *shared.panic.lock().unwrap_or_else(|e| e.into_inner()) = Some(payload);
        }
        shared.state.store(DONE, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_and_the_caller_gets_its_result() {
        let partner = Partner::spawn().expect("spawn");
        let mut total = 0u64;
        for i in 0..10_000u64 {
            let mut theirs = 0u64;
            let ours = partner.join(|| i * 2, || theirs = i * 3);
            total += ours + theirs;
        }
        assert_eq!(total, 5 * (0..10_000u64).sum::<u64>());
    }

    /// Dropping the partner ends its thread, spinning or parked: the thread holds the shared
    /// state until it returns, so once the drop is over nothing holds it.
    #[test]
    fn dropping_the_partner_ends_its_thread() {
        for parked in [false, true] {
            let partner = Partner::spawn().expect("spawn");
            if parked {
                until_parked(&partner);
            }
            let shared = Arc::downgrade(&partner.shared);
            drop(partner);
            assert!(shared.upgrade().is_none(), "the thread outlived its partner (parked first: {parked})");
        }
    }

    /// Generous: the tests wait for states, and a shared machine may take a while to give
    /// the partner a core. Only a broken partner makes a wait last this long.
    const WATCHDOG: Duration = Duration::from_secs(20);

    /// Waits in our half until their half has run: our half holds the job, so the caller
    /// cannot take it back, and only the partner can have run it.
    fn run_by_the_partner(partner: &Partner) -> bool {
        let ran = std::sync::atomic::AtomicBool::new(false);
        partner.join(
            || {
                let start = Instant::now();
                while !ran.load(Ordering::SeqCst) {
                    assert!(start.elapsed() < WATCHDOG, "watchdog: the partner never ran the job");
                    thread::yield_now();
                }
                true
            },
            || ran.store(true, Ordering::SeqCst),
        )
    }

    /// Waits until the partner has parked (its spin over, no job in flight).
    fn until_parked(partner: &Partner) {
        let start = Instant::now();
        while partner.shared.state.load(Ordering::Acquire) != PARKED {
            assert!(start.elapsed() < WATCHDOG, "watchdog: the idle partner never parked");
            thread::yield_now();
        }
    }

    #[test]
    fn a_parked_partner_wakes_for_the_next_job() {
        let partner = Partner::spawn().expect("spawn");
        for _ in 0..3 {
            until_parked(&partner);
            assert!(run_by_the_partner(&partner), "the parked partner was woken and ran the job");
        }
    }

    #[test]
    fn a_panic_in_their_half_reaches_the_caller_and_the_partner_survives() {
        let partner = Partner::spawn().expect("spawn");
        let caught = panic::catch_unwind(AssertUnwindSafe(|| partner.join(|| (), || panic!("shard failed"))));
        let payload = caught.expect_err("the partner's panic is resumed");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"shard failed"));
        assert!(run_by_the_partner(&partner), "the partner serves the next job");
    }

    #[test]
    fn a_job_the_partner_has_not_started_is_run_by_the_caller() {
        let partner = Partner::spawn().expect("spawn");
        until_parked(&partner);
        // The partner is parked; the caller's half is long enough for it to wake, or not:
        // either way the job runs exactly once.
        for _ in 0..1000 {
            let mut runs = 0;
            partner.join(|| (), || runs += 1);
            assert_eq!(runs, 1);
        }
    }

    #[test]
    fn a_panic_in_our_half_unwinds_only_once_their_half_has_finished_or_never_started() {
        let partner = Partner::spawn().expect("spawn");
        for _ in 0..20 {
            let (started, finished) =
                (std::sync::atomic::AtomicBool::new(false), std::sync::atomic::AtomicBool::new(false));
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                partner.join(
                    || panic!("ours failed"),
                    || {
                        started.store(true, Ordering::SeqCst);
                        thread::sleep(Duration::from_millis(5));
                        finished.store(true, Ordering::SeqCst);
                    },
                )
            }));
            assert!(caught.is_err());
            assert_eq!(started.load(Ordering::SeqCst), finished.load(Ordering::SeqCst), "their half still running");
        }
    }

    #[test]
    fn when_both_halves_panic_the_next_join_is_clean() {
        let partner = Partner::spawn().expect("spawn");
        for _ in 0..20 {
            let caught = panic::catch_unwind(AssertUnwindSafe(|| {
                partner.join(
                    || {
                        thread::sleep(Duration::from_millis(2));
                        panic!("ours failed")
                    },
                    || panic!("theirs failed"),
                )
            }));
            assert!(caught.is_err());
            // Run by the partner, so that the join looks for a panic of theirs.
            assert!(run_by_the_partner(&partner), "no panic left over from the last job");
        }
    }
}
