//! How far the particles move in a frame, so that frames keep coming 20 a second at any
//! particle count: the user asks for steps per frame, and a frame takes as many of them as
//! fit in [`SAMPLING_TIME`] at the speed the last frames measured; when not even one step
//! fits (100 000 particles on a busy machine), a part of a step, a few chunks of particles
//! at a time, round robin ([`crate::sampling::langevin::Particles::drift_diffuse_part`]): every particle's update stays
//! the exact Langevin step, only fewer of them happen a second.

use std::time::Duration;

/// Of a frame's 50 ms, what the particles' steps may take: the rest goes to the snapshot of
/// every particle, the figures (a reading once a second) and the UI's drawing, which share
/// the two cores with them.
pub const SAMPLING_TIME: Duration = Duration::from_millis(30);

/// Chunks in the first piece, before anything is measured.
const FIRST_CHUNKS: usize = 4;

/// A frame's move: whole steps, or one part of a step of this many chunks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Piece {
    Steps(usize),
    Chunks(usize),
}

/// The measured cost of a chunk-step (one chunk of particles taking one step).
#[derive(Clone, Copy, Debug, Default)]
pub struct Flow {
    /// Seconds, a moving average over frames: one slow frame (a reading, another process)
    /// does not halve the next one's steps.
    per_chunk_step: Option<f64>,
}

impl Flow {
    /// The piece to take now: up to `wanted` steps of `chunks` chunks each, in `time`. Before
    /// any measurement, a part of a step small enough to be quick at any count.
    pub fn piece(&self, wanted: usize, chunks: usize, time: Duration) -> Piece {
        if wanted == 0 {
            return Piece::Steps(0);
        }
        let Some(cost) = self.per_chunk_step else { return Piece::Chunks(FIRST_CHUNKS) };
        let affordable = (time.as_secs_f64() / cost).floor() as usize;
        let chunks = chunks.max(1);
        match affordable / chunks {
            0 => Piece::Chunks(affordable.clamp(1, chunks)),
            steps => Piece::Steps(steps.min(wanted)),
        }
    }

    /// `chunk_steps` were taken in `took`.
    pub fn observe(&mut self, chunk_steps: u64, took: Duration) {
        if chunk_steps == 0 {
            return;
        }
        let cost = took.as_secs_f64() / chunk_steps as f64;
        self.per_chunk_step = Some(self.per_chunk_step.map_or(cost, |old| 0.7 * old + 0.3 * cost));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn a_frame_takes_the_steps_that_fit_and_a_part_of_one_when_none_does() {
        let mut flow = Flow::default();
        assert_eq!(flow.piece(10, 20, MS(30)), Piece::Chunks(4), "unmeasured: a small part");
        // 20 chunks in 10 ms: 0.5 ms a chunk-step.
        flow.observe(20, MS(10));
        assert_eq!(flow.piece(10, 20, MS(30)), Piece::Steps(3));
        assert_eq!(flow.piece(2, 20, MS(30)), Piece::Steps(2), "no more than asked");
        assert_eq!(flow.piece(10, 400, MS(30)), Piece::Chunks(60), "400 chunks: 60 of them fit");
        assert_eq!(flow.piece(10, 400, Duration::ZERO), Piece::Chunks(1), "always some progress");
        assert_eq!(flow.piece(0, 20, MS(30)), Piece::Steps(0), "stopped");
    }

    #[test]
    fn one_slow_frame_moves_the_estimate_only_part_of_the_way() {
        let mut flow = Flow::default();
        flow.observe(10, MS(10));
        flow.observe(10, MS(110));
        assert_eq!(flow.piece(100, 10, MS(40)), Piece::Steps(1), "4 ms a chunk-step on average: one step fits");
        flow.observe(0, MS(500));
        assert_eq!(flow.piece(100, 10, MS(40)), Piece::Steps(1), "no work, no measurement");
    }
}
