//! The CSV files the headless run writes (staged and committed together by `crate::fs`).

use std::io::{self, Write};

use ndarray::ArrayView2;

use crate::data::Dataset;
use crate::trainer::History;
#[cfg(doc)]
use crate::trainer::losses::HEADLESS_VALUES;

/// `x,y` per sample.
pub fn write_samples(out: &mut dyn Write, samples: ArrayView2<f32>) -> io::Result<()> {
    writeln!(out, "x,y")?;
    for row in samples.rows() {
        writeln!(out, "{},{}", row[0], row[1])?;
    }
    Ok(())
}

/// `x,y,label,split` per point; label 0 is the upper moon, split `train` or `test`.
pub fn write_data(out: &mut dyn Write, data: &Dataset) -> io::Result<()> {
    writeln!(out, "x,y,label,split")?;
    let train_len = data.train().nrows();
    for (i, (row, label)) in data.points.rows().into_iter().zip(&data.labels).enumerate() {
        let split = if i < train_len { "train" } else { "test" };
        writeln!(out, "{},{},{label},{split}", row[0], row[1])?;
    }
    Ok(())
}

/// `series,step,epoch,loss`: one `train` row per step (its epoch counted from 1), one `test`
/// and one `fisher` (divergence readout) row per evaluation (epoch = epochs completed, 0
/// before training). Past [`HEADLESS_VALUES`] steps a `train` row is the mean of a run of
/// steps, at the last of them (see `TrainLosses`).
pub fn write_history(out: &mut dyn Write, history: &History, steps_per_epoch: usize) -> io::Result<()> {
    writeln!(out, "series,step,epoch,loss")?;
    for (step, loss) in history.train.points() {
        writeln!(out, "train,{step},{},{loss}", (step - 1) / steps_per_epoch as u64 + 1)?;
    }
    for (series, points) in [("test", &history.test), ("fisher", &history.fisher)] {
        for point in points {
            writeln!(out, "{series},{},{},{}", point.step, point.epoch, point.loss)?;
        }
    }
    Ok(())
}
