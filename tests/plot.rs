//! `--plot`: both formats render in memory and from the binary, with the right file
//! signature and something drawn; a loss that goes negative (ISM) and a run without training
//! still render; any other extension is exit 2 before any work.

mod common;

use common::TempDir;

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use dsm_tui::data::bounds_with_margin;
use dsm_tui::headless::plot::{Figure, PlotFormat, render};
use dsm_tui::trainer::losses::TrainLosses;
use dsm_tui::trainer::{History, TestPoint};
use ndarray::Array2;

const BIN: &str = env!("CARGO_BIN_EXE_dsm-tui");
const SMALL: &[&str] = &["--once", "--count", "400", "--epochs", "3", "--particles", "300", "--steps", "30"];
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Two small blobs as data and samples, and a loss history of `epochs` epochs of 10 steps
/// whose values come from `loss(step)`.
fn figure_parts(epochs: usize, loss: impl Fn(usize) -> f32) -> (Array2<f32>, Array2<f32>, History) {
    let data = Array2::from_shape_fn((200, 2), |(i, d)| ((i * 37 + d * 11) % 100) as f32 / 50.0 - 1.0);
    let samples = data.mapv(|v| v * 0.9 + 0.05);
    let mut train = TrainLosses::every(10 * epochs);
    (0..10 * epochs).for_each(|step| train.push(loss(step)));
    let test = (0..=epochs).map(|e| TestPoint { epoch: e, step: 10 * e as u64, loss: loss(10 * e) + 1.0 }).collect();
    (data, samples, History { train, test, fisher: Vec::new() })
}

fn png_size(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    (info.width, info.height, pixels)
}

#[test]
fn both_formats_render_with_their_signature_for_positive_negative_and_no_losses() {
    type Loss = fn(usize) -> f32;
    let cases: [(&str, usize, Loss); 3] = [
        ("DSM-like, log axis", 5, |s| 200.0 / (1.0 + s as f32)),
        ("ISM-like, negative", 5, |s| 10.0 - s as f32),
        ("no training", 0, |_| 150.0),
    ];
    for (what, epochs, loss) in cases {
        let (data, samples, history) = figure_parts(epochs, loss);
        let figure = Figure {
            title: format!("test figure: {what}"),
            data: data.view(),
            samples: samples.view(),
            bounds: bounds_with_margin(data.view(), 0.1),
            history: &history,
            steps_per_epoch: 10,
        };
        let png = render(&figure, PlotFormat::Png).expect("png");
        assert!(png.starts_with(PNG_SIGNATURE), "{what}");
        let (width, height, pixels) = png_size(&png);
        assert!(width >= 1200 && height >= 600, "{what}: {width}×{height}");
        // Something besides the white background: the points, lines and text.
        let inked = pixels.chunks(3).filter(|p| p.iter().any(|&c| c < 200)).count();
        assert!(inked > 5000, "{what}: only {inked} inked pixels");

        let svg = String::from_utf8(render(&figure, PlotFormat::Svg).expect("svg")).expect("utf8");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "{what}");
        assert!(svg.contains("Langevin samples over the data") && svg.contains("Loss"), "{what}");
    }
}

#[test]
fn the_format_follows_the_extension_in_any_case() {
    assert_eq!(PlotFormat::from_path(Path::new("a/fig.png")), Some(PlotFormat::Png));
    assert_eq!(PlotFormat::from_path(Path::new("fig.SVG")), Some(PlotFormat::Svg));
    for bad in ["fig.jpg", "fig", "png", "fig.png.txt", ".png"] {
        assert_eq!(PlotFormat::from_path(Path::new(bad)), None, "{bad}");
    }
}

fn run(extra: &[&str]) -> Output {
    Command::new(BIN).args(SMALL).args(extra).output().expect("run dsm-tui")
}

#[test]
fn once_writes_png_and_svg_and_refuses_other_extensions() {
    let dir = TempDir::new("cli");
    let (png, svg) = (dir.file("fig.png"), dir.file("fig.svg"));
    let out = run(&["--plot", &png]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(fs::read(&png).expect("png").starts_with(PNG_SIGNATURE));
    let out = run(&["--plot", &svg]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = fs::read_to_string(&svg).expect("svg");
    assert!(text.starts_with("<svg") && text.contains("</svg>"));
    assert_eq!(dir.entries(), ["fig.png", "fig.svg"], "no temporary file left behind");

    for bad in ["fig.jpg", "fig"] {
        let out = run(&["--plot", &dir.file(bad)]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{bad}: {stderr}");
        assert!(stderr.contains("--plot") && stderr.contains(bad) && stderr.contains(".png or .svg"), "{stderr}");
        assert!(out.stdout.is_empty());
    }
    let out = run(&["--plot", &dir.file("no-such-dir/fig.png")]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(dir.entries(), ["fig.png", "fig.svg"], "nothing written by the refused runs");
}
