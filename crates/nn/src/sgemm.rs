//! A safe wrapper over the `gemm` crate's f32 matrix product for row-major slices.

/// Row-major matrix view: `rows` x `cols` with `row_stride` between rows (columns contiguous).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
}

impl MatRef<'_> {
    fn check(&self) {
        if self.rows > 0 && self.cols > 0 {
            assert!(
                (self.rows - 1) * self.row_stride + self.cols <= self.data.len(),
                "matrix view out of bounds"
            );
        }
    }
}

/// `dst = (accumulate ? dst : 0) + lhs * rhs`, where `dst` is `lhs.rows` x `rhs.cols` with row
/// stride `dst_stride`. Runs on the calling thread.
#[cfg(test)]
pub(crate) fn sgemm(
    dst: &mut [f32],
    dst_stride: usize,
    lhs: MatRef,
    rhs: MatRef,
    accumulate: bool,
) {
    let (m, n) = (lhs.rows, rhs.cols);
    if m > 0 && n > 0 {
        assert!(
            (m - 1) * dst_stride + n <= dst.len(),
            "destination out of bounds"
        );
    }
    // SAFETY: `dst` is a unique borrow covering every element written.
    unsafe { sgemm_raw(dst.as_mut_ptr(), dst_stride, lhs, rhs, accumulate) }
}

/// [`sgemm`] into a raw destination.
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
            1,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            1,
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
    fn strided_product() {
        let a = [1., 2., 9., 3., 4., 9.]; // 2x2 with stride 3
        let b = [5., 6., 7., 8.];
        let mut c = [1.0f32; 4];
        sgemm(
            &mut c,
            2,
            MatRef {
                data: &a,
                rows: 2,
                cols: 2,
                row_stride: 3,
            },
            MatRef {
                data: &b,
                rows: 2,
                cols: 2,
                row_stride: 2,
            },
            true,
        );
        assert_eq!(c, [20., 23., 44., 51.]);
    }
}
