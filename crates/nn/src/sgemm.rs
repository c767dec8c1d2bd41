//! A safe wrapper over the `gemm` crate's f32 matrix product for strided slices.

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
    let parallelism = if parallel {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
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
            parallelism,
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
}
