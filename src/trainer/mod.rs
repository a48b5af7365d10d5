//! Training: [`Session`] holds the whole single-threaded training state and advances it one
//! step at a time. The headless run drives it on the main thread; the dashboard's
//! [`worker`] drives it on a thread of its own, and talks to the UI only through the types
//! of [`protocol`].

pub mod budget;
pub mod compare;
mod density_cache;
mod field_cache;
pub mod figures;
pub mod flow;
pub mod losses;
pub mod path_cache;
pub mod protocol;
mod run;
pub mod session;
pub mod thread;
pub mod worker;

pub use session::{DivergedLoss, Divergence, History, Session, StepReport, TestPoint};
