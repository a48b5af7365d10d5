//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

/// Central finite differences of `f` at every coordinate of `x`, in f64.
///
/// Compares against `analytic` and names the first mismatch: `what[index]`, both values.
/// Tolerance: |a − n| ≤ rtol·max(1, |a|, |n|) (central differences with h = 1e-6 in f64 are
/// accurate to ~1e-9 on these smooth functions).
pub fn assert_gradient(what: &str, x: &mut [f64], analytic: &[f64], rtol: f64, mut f: impl FnMut(&[f64]) -> f64) {
    assert_eq!(x.len(), analytic.len(), "{what}: gradient has the wrong length");
    const H: f64 = 1e-6;
    for i in 0..x.len() {
        let saved = x[i];
        x[i] = saved + H;
        let up = f(x);
        x[i] = saved - H;
        let down = f(x);
        x[i] = saved;
        let numeric = (up - down) / (2.0 * H);
        let a = analytic[i];
        let scale = 1f64.max(a.abs()).max(numeric.abs());
        assert!(
            (a - numeric).abs() <= rtol * scale,
            "{what}[{i}]: analytic {a:.12e} vs finite difference {numeric:.12e} (diff {:.3e})",
            (a - numeric).abs()
        );
    }
}

/// Mean and unbiased variance.
pub fn mean_var(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = values.collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// A fresh directory per test, removed on drop.
pub struct TempDir(std::path::PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("dsm-tui-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Self(dir)
    }

    /// The path of `name` in the directory, as a command-line argument.
    pub fn path(&self) -> &std::path::Path {
        &self.0
    }

    pub fn file(&self, name: &str) -> String {
        self.0.join(name).to_str().expect("utf8 temp path").to_string()
    }

    /// The names of the files in the directory, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read temp dir")
            .map(|e| e.expect("entry").file_name().into_string().expect("utf8"))
            .collect();
        names.sort();
        names
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The network's training pass (`Mlp::forward_backward`) on the first `c.nrows()` inputs
/// already in `ws`, for the loss Σᵢ⟨cᵢ, s(xᵢ)⟩: ∂L/∂s is `c` itself. Returns the scores;
/// `grads` gets ∂L/∂θ and `ws.input_grad()` ∂L/∂x.
pub fn forward_backward_of_dot<F: dsm_tui::nn::Real>(
    model: &dsm_tui::nn::Mlp<F>,
    ws: &mut dsm_tui::nn::Workspace<F>,
    c: ndarray::ArrayView2<F>,
    grads: &mut [dsm_tui::nn::Linear<F>],
) -> ndarray::Array2<F> {
    let rows = c.nrows();
    let c = c.as_standard_layout();
    let c = c.as_slice().expect("standard layout");
    let mut out_grad = vec![F::zero(); 2 * rows];
    model.forward_backward(ws, rows, &mut out_grad, grads, |range, scores, out_grad| {
        out_grad.copy_from_slice(&c[2 * range.start..2 * range.end]);
        scores.iter().zip(&*out_grad).fold(F::zero(), |total, (&s, &g)| total + s * g)
    });
    ws.output().to_owned()
}
