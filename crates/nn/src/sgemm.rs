//! A safe wrapper over the `gemm` crate's f32 matrix product for strided slices.

use rayon::prelude::*;

/// Matrix view: `rows` x `cols`, element `(r, c)` at `r * row_stride + c * col_stride`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A row-major view with contiguous rows `row_stride` apart.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize, row_stride: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride: 1,
        }
    }

    /// The transpose of a row-major `cols` x `rows` matrix with row stride `stride`.
    pub fn transposed(data: &'a [f32], rows: usize, cols: usize, stride: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: 1,
            col_stride: stride,
        }
    }

    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            let last = (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride;
            assert!(last < self.data.len(), "matrix view out of bounds");
        }
    }
}

/// `dst = (accumulate ? dst : 0) + lhs * rhs`, where `dst` is `lhs.rows` x `rhs.cols` with row
/// stride `dst_stride`; `parallel` spreads the product over the rayon pool.
///
/// # Safety
/// `dst` must be valid for writes of rows `0..lhs.rows` x columns `0..rhs.cols` at row stride
/// `dst_stride`, and no other thread may access those elements during the call.
pub(crate) unsafe fn sgemm_raw(
    dst: *mut f32,
    dst_stride: usize,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
    parallel: bool,
) {
    assert_eq!(lhs.cols, rhs.rows, "inner dimensions differ");
    lhs.check();
    rhs.check();
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                std::ptr::write_bytes(dst.add(r * dst_stride), 0, n);
            }
        }
        return;
    }
    let threads = if parallel {
        rayon::current_num_threads()
    } else {
        1
    };
    if threads > 1 && n >= 2 * COLUMN_ALIGN {
        // One column block per worker, each a sequential product: gemm's own rayon split
        // synchronises more and ran 1.2-1.4x slower on the convolution shapes of the quick
        // scale. Every output element is summed over k in the same order either way.
        let width = n.div_ceil(threads).next_multiple_of(COLUMN_ALIGN);
        let dst = SharedOut(dst, (m - 1) * dst_stride + n);
        (0..n.div_ceil(width)).into_par_iter().for_each(|block| {
            let (c0, c1) = (block * width, ((block + 1) * width).min(n));
            let rhs = MatRef {
                data: &rhs.data[c0 * rhs.col_stride..],
                cols: c1 - c0,
                ..rhs
            };
            // SAFETY: the blocks write disjoint columns of the caller's destination.
            unsafe { gemm_sequential(dst.at(c0), dst_stride, lhs, rhs, accumulate) };
        });
    } else {
        // SAFETY: as guaranteed by the caller.
        unsafe { gemm_sequential(dst, dst_stride, lhs, rhs, accumulate) };
    }
}

/// Column blocks of a split product start at multiples of this (the SIMD width of AVX-512).
const COLUMN_ALIGN: usize = 16;

/// A raw output pointer shared by tasks that write disjoint regions.
#[derive(Clone, Copy)]
pub(crate) struct SharedOut(pub *mut f32, pub usize);
// SAFETY: every task writes a disjoint set of elements (its own batch item, column tile or
// column block).
unsafe impl Send for SharedOut {}
unsafe impl Sync for SharedOut {}

impl SharedOut {
    /// The pointer `offset` elements past the start.
    pub(crate) fn at(&self, offset: usize) -> *mut f32 {
        debug_assert!(offset <= self.1);
        // SAFETY: offsets stay within the allocation (checked in debug builds).
        unsafe { self.0.add(offset) }
    }
}

/// `sgemm_raw` on the calling thread alone; same contract.
unsafe fn gemm_sequential(
    dst: *mut f32,
    dst_stride: usize,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
) {
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    // SAFETY: input views were bounds-checked; the caller guarantees the destination.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            1,
            dst_stride as isize,
            accumulate,
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strided_products() {
        let a = [1., 2., 9., 3., 4., 9.]; // 2x2 with stride 3
        let b = [5., 6., 7., 8.];
        let mut c = [1.0f32; 4];
        unsafe {
            sgemm_raw(
                c.as_mut_ptr(),
                2,
                MatRef::rows(&a, 2, 2, 3),
                MatRef::rows(&b, 2, 2, 2),
                true,
                false,
            )
        };
        assert_eq!(c, [20., 23., 44., 51.]);
        let mut t = [0.0f32; 4];
        // b^T * b^T: b^T = [[5, 7], [6, 8]]
        unsafe {
            sgemm_raw(
                t.as_mut_ptr(),
                2,
                MatRef::transposed(&b, 2, 2, 2),
                MatRef::transposed(&b, 2, 2, 2),
                false,
                true,
            )
        };
        assert_eq!(t, [67., 91., 78., 106.]);
    }

    #[test]
    fn column_blocks_sum_as_one_product() {
        // Wide enough to be split over the pool, with a ragged last block and strided views.
        let (m, k, n) = (5, 37, 301);
        let a: Vec<f32> = (0..m * (k + 1))
            .map(|i| ((i * 7) % 13) as f32 - 6.5)
            .collect();
        let b: Vec<f32> = (0..k * n).map(|i| ((i * 5) % 11) as f32 * 0.37).collect();
        let start: Vec<f32> = (0..m * n).map(|i| (i % 3) as f32).collect();
        let product = |parallel| {
            let mut c = start.clone();
            unsafe {
                sgemm_raw(
                    c.as_mut_ptr(),
                    n,
                    MatRef::rows(&a, m, k, k + 1),
                    MatRef::transposed(&b, k, n, k),
                    true,
                    parallel,
                )
            };
            c
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let split = pool.install(|| product(true));
        assert_eq!(split, product(false));
        let naive = |r: usize, c: usize| -> f32 {
            start[r * n + c]
                + (0..k)
                    .map(|i| a[r * (k + 1) + i] * b[c * k + i])
                    .sum::<f32>()
        };
        for (r, c) in [(0, 0), (2, 150), (4, 300)] {
            assert!((split[r * n + c] - naive(r, c)).abs() < 1e-2);
        }
    }
}
