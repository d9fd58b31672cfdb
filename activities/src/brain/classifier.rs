//! A multinomial logistic-regression classifier over sparse text features, trained at startup.
//!
//! Training is deterministic (a fixed shuffling seed, a fixed number of epochs), so the same
//! training files always give the same model. Scores become probabilities through a softmax with
//! a temperature fitted on a held-out split of the project's own examples (see [`Calibration`]).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// Training hyper-parameters.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Passes over the training set.
    pub epochs: usize,
    /// Initial learning rate (decays as `lr / (1 + decay * epoch)`).
    pub learning_rate: f32,
    /// Learning-rate decay per epoch.
    pub decay: f32,
    /// L2 penalty, applied to the rows an example touches.
    pub l2: f32,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            epochs: 14,
            learning_rate: 0.8,
            decay: 0.3,
            l2: 1e-5,
        }
    }
}

/// One example as feature strings and a class index.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Feature strings (see `features::extract`).
    pub features: Vec<String>,
    /// Class index.
    pub class: usize,
}

/// A trained linear classifier.
#[derive(Debug, Clone)]
pub struct Classifier {
    vocab: HashMap<String, u32>,
    /// Row-major: `weights[feature * classes + class]`; the last row is the bias.
    weights: Vec<f32>,
    classes: usize,
    temperature: f32,
}

/// A sparse, L2-normalised feature vector.
type Vector = Vec<(u32, f32)>;

impl Classifier {
    /// Trains on `samples` with `classes` classes.
    pub fn train(samples: &[Sample], classes: usize, params: Params) -> Classifier {
        let mut vocab: HashMap<String, u32> = HashMap::new();
        for sample in samples {
            for f in &sample.features {
                let next = u32::try_from(vocab.len()).unwrap_or(u32::MAX);
                vocab.entry(f.clone()).or_insert(next);
            }
        }
        let mut model = Classifier {
            weights: vec![0.0; (vocab.len() + 1) * classes],
            vocab,
            classes,
            temperature: 1.0,
        };
        let vectors: Vec<(Vector, usize)> = samples
            .iter()
            .map(|s| (model.vectorize(&s.features), s.class))
            .collect();
        let mut order: Vec<usize> = (0..vectors.len()).collect();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let mut probs = vec![0.0f32; classes];
        for epoch in 0..params.epochs {
            rng.shuffle(&mut order);
            let lr = params.learning_rate / (1.0 + params.decay * epoch as f32);
            for &i in &order {
                let (vector, class) = &vectors[i];
                model.raw_scores_into(vector, &mut probs);
                softmax_in_place(&mut probs, 1.0);
                for (k, p) in probs.iter().enumerate() {
                    let target = if k == *class { 1.0 } else { 0.0 };
                    let grad = p - target;
                    for &(f, v) in vector {
                        let w = &mut model.weights[f as usize * classes + k];
                        *w -= lr * (grad * v + params.l2 * *w);
                    }
                }
            }
        }
        model
    }

    /// Sets the softmax temperature used by [`Classifier::probabilities`].
    pub fn set_temperature(&mut self, temperature: f32) {
        self.temperature = temperature;
    }

    /// The softmax temperature.
    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// Class probabilities for the given features, calibrated by the temperature.
    pub fn probabilities(&self, features: &[String]) -> Vec<f32> {
        let mut scores = self.scores(features);
        softmax_in_place(&mut scores, self.temperature);
        scores
    }

    /// Raw (uncalibrated) linear scores.
    pub fn scores(&self, features: &[String]) -> Vec<f32> {
        let vector = self.vectorize(features);
        let mut scores = vec![0.0; self.classes];
        self.raw_scores_into(&vector, &mut scores);
        scores
    }

    fn vectorize(&self, features: &[String]) -> Vector {
        let mut ids: Vec<u32> = features
            .iter()
            .filter_map(|f| self.vocab.get(f).copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let bias = u32::try_from(self.vocab.len()).unwrap_or(u32::MAX);
        let value = 1.0 / ((ids.len().max(1)) as f32).sqrt();
        let mut vector: Vector = ids.into_iter().map(|id| (id, value)).collect();
        vector.push((bias, 1.0));
        vector
    }

    fn raw_scores_into(&self, vector: &Vector, out: &mut [f32]) {
        out.iter_mut().for_each(|s| *s = 0.0);
        for &(f, v) in vector {
            let row = &self.weights[f as usize * self.classes..(f as usize + 1) * self.classes];
            for (s, w) in out.iter_mut().zip(row) {
                *s += w * v;
            }
        }
    }
}

/// In-place softmax of `scores / temperature`.
pub fn softmax_in_place(scores: &mut [f32], temperature: f32) {
    let t = if temperature > 0.0 { temperature } else { 1.0 };
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = ((*s - max) / t).exp();
        sum += *s;
    }
    if sum > 0.0 {
        scores.iter_mut().for_each(|s| *s /= sum);
    }
}

/// How well the confidence matches accuracy on the project's own held-out examples.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Calibration {
    /// The fitted softmax temperature.
    pub temperature: f32,
    /// Held-out examples (a fifth of the source lines, chosen by hash).
    pub heldout: usize,
    /// Accuracy on them.
    pub heldout_accuracy: f32,
    /// Expected calibration error (10 equal-width bins) at temperature 1.
    pub ece_uncalibrated: f32,
    /// Expected calibration error at the fitted temperature.
    pub ece: f32,
    /// Confidence below which an in-scope guess is treated as out of scope: the level that keeps
    /// 95% of the held-out in-scope examples.
    pub reject_threshold: f32,
}

/// Candidate temperatures for the fit.
const TEMPERATURES: [f32; 18] = [
    0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2, 1.5, 2.0, 3.0, 4.0,
];

/// Fits the temperature minimising the negative log-likelihood of `heldout` scores.
pub fn fit_temperature(heldout: &[(Vec<f32>, usize)]) -> f32 {
    let mut best = (f32::INFINITY, 1.0);
    for t in TEMPERATURES {
        let nll: f32 = heldout
            .iter()
            .map(|(scores, class)| {
                let mut p = scores.clone();
                softmax_in_place(&mut p, t);
                -p.get(*class).copied().unwrap_or(0.0).max(1e-9).ln()
            })
            .sum();
        if nll < best.0 {
            best = (nll, t);
        }
    }
    best.1
}

/// Expected calibration error over 10 equal-width confidence bins.
pub fn expected_calibration_error(heldout: &[(Vec<f32>, usize)], temperature: f32) -> f32 {
    let mut bins = [(0usize, 0.0f32, 0usize); 10];
    for (scores, class) in heldout {
        let mut p = scores.clone();
        softmax_in_place(&mut p, temperature);
        let (arg, conf) = argmax(&p);
        let bin = ((conf * 10.0) as usize).min(9);
        bins[bin].0 += 1;
        bins[bin].1 += conf;
        if arg == *class {
            bins[bin].2 += 1;
        }
    }
    let total = heldout.len().max(1) as f32;
    bins.iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, conf, correct)| {
            let n_f = *n as f32;
            (n_f / total) * (conf / n_f - *correct as f32 / n_f).abs()
        })
        .sum()
}

/// Index and value of the largest element (0 and 0.0 when empty).
pub fn argmax(values: &[f32]) -> (usize, f32) {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in values.iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.unwrap_or((0, 0.0))
}

/// A tiny deterministic generator for shuffling.
#[derive(Debug)]
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

/// A stable 64-bit FNV-1a hash (for the held-out split).
pub fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(words: &[&str], class: usize) -> Sample {
        Sample {
            features: words.iter().map(|w| (*w).to_owned()).collect(),
            class,
        }
    }

    #[test]
    fn learns_a_separable_toy_problem() {
        let samples = vec![
            sample(&["a", "x"], 0),
            sample(&["a", "y"], 0),
            sample(&["b", "x"], 1),
            sample(&["b", "y"], 1),
        ];
        let model = Classifier::train(&samples, 2, Params::default());
        let p = model.probabilities(&["a".to_owned()]);
        assert!(p[0] > 0.8, "{p:?}");
        let q = model.probabilities(&["b".to_owned(), "unknown".to_owned()]);
        assert!(q[1] > 0.8, "{q:?}");
    }

    #[test]
    fn temperature_fit_prefers_softer_scores_for_overconfident_mistakes() {
        let heldout = vec![
            (vec![10.0, 0.0], 0),
            (vec![10.0, 0.0], 1),
            (vec![0.0, 10.0], 1),
        ];
        assert!(fit_temperature(&heldout) > 1.0);
        let e1 = expected_calibration_error(&heldout, 1.0);
        let e4 = expected_calibration_error(&heldout, fit_temperature(&heldout));
        assert!(e4 < e1, "{e4} !< {e1}");
    }

    #[test]
    fn argmax_of_empty_is_zero() {
        assert_eq!(argmax(&[]), (0, 0.0));
        assert_eq!(argmax(&[0.1, 0.7, 0.2]), (1, 0.7));
    }
}
