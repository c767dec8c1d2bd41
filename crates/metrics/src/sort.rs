//! Sorting of finite scores by an LSD radix sort over order-preserving integer keys.
//!
//! Sorting dominates ROC construction; a radix sort over `u64` keys is several times faster
//! than a comparison sort on a million scores.

/// Maps a finite `f64` to a `u64` whose unsigned order is the float order (`-0.0` equals `0.0`).
#[inline]
pub(crate) fn key(score: f64) -> u64 {
    let bits = (score + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// Inverse of [`key`].
#[inline]
pub(crate) fn from_key(key: u64) -> f64 {
    let bits = if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    };
    f64::from_bits(bits)
}

const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
const PASSES: usize = 64_usize.div_ceil(DIGIT_BITS as usize);

/// Sorts finite scores ascending and returns them as keys (see [`key`]).
pub(crate) fn sorted_keys(scores: &[f64]) -> Vec<u64> {
    let mut keys: Vec<u64> = scores.iter().map(|&s| key(s)).collect();
    if keys.len() < 256 {
        keys.sort_unstable();
        return keys;
    }
    let mut histograms = vec![[0usize; BUCKETS]; PASSES];
    for &k in &keys {
        for (pass, histogram) in histograms.iter_mut().enumerate() {
            histogram[digit(k, pass)] += 1;
        }
    }
    let mut scratch = vec![0u64; keys.len()];
    let n = keys.len();
    for (pass, histogram) in histograms.iter_mut().enumerate() {
        if histogram.contains(&n) {
            continue;
        }
        let mut offset = 0;
        for count in histogram.iter_mut() {
            let c = *count;
            *count = offset;
            offset += c;
        }
        for &k in &keys {
            let d = digit(k, pass);
            scratch[histogram[d]] = k;
            histogram[d] += 1;
        }
        std::mem::swap(&mut keys, &mut scratch);
    }
    keys
}

#[inline]
fn digit(key: u64, pass: usize) -> usize {
    ((key >> (pass as u32 * DIGIT_BITS)) as usize) & (BUCKETS - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_preserve_order_and_round_trip() {
        let values = [-3.5, -1.0, -1e-300, -0.0, 0.0, 1e-300, 0.25, 1.0, 7e10];
        for pair in values.windows(2) {
            assert!(key(pair[0]) <= key(pair[1]), "{pair:?}");
        }
        assert_eq!(key(-0.0), key(0.0));
        for &v in &values {
            assert_eq!(from_key(key(v)), v + 0.0);
        }
    }

    #[test]
    fn radix_sort_matches_comparison_sort() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let scores: Vec<f64> = (0..5000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state % 2001) as f64 / 1000.0 - 1.0
            })
            .collect();
        let mut expected = scores.clone();
        expected.sort_by(f64::total_cmp);
        let got: Vec<f64> = sorted_keys(&scores).into_iter().map(from_key).collect();
        assert_eq!(got, expected);
    }
}
