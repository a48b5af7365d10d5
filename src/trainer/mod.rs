//! Training: [`Session`] holds the whole single-threaded training state and advances it one
//! step at a time. The headless run drives it on the main thread; the dashboard's
//! [`worker`] drives it on a thread of its own.

pub mod compare;
pub mod session;
pub mod worker;

pub use session::{Divergence, History, Session, StepReport, TestPoint};
