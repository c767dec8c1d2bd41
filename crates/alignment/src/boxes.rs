//! Box arithmetic of the MTCNN cascade, in f32 like the reference: NMS, regression, squaring
//! and clipping for crops.

/// A candidate face box with its score and the regression offsets its network predicted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Candidate {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    pub score: f32,
    pub reg: [f32; 4],
}

/// How the overlap of two boxes is normalised in non-maximum suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Overlap {
    /// torchvision `nms`: intersection over union, areas `w * h`.
    Union,
    /// facenet-pytorch `nms_numpy(..., 'Min')`: intersection over the smaller area, `(w+1)(h+1)`.
    Min,
}

/// Indices of the boxes kept by NMS, best score first: a box is dropped when its overlap with a
/// kept, higher-scoring box is above `threshold`. Equal scores keep their input order.
pub(crate) fn nms(boxes: &[Candidate], threshold: f32, overlap: Overlap) -> Vec<usize> {
    let mut order: Vec<usize> = (0..boxes.len()).collect();
    order.sort_by(|&a, &b| boxes[b].score.total_cmp(&boxes[a].score));
    let plus = if overlap == Overlap::Min { 1.0 } else { 0.0 };
    let area = |b: &Candidate| (b.x2 - b.x1 + plus) * (b.y2 - b.y1 + plus);
    let mut suppressed = vec![false; boxes.len()];
    let mut keep = Vec::new();
    for (rank, &i) in order.iter().enumerate() {
        if suppressed[i] {
            continue;
        }
        keep.push(i);
        let a = &boxes[i];
        for &j in &order[rank + 1..] {
            if suppressed[j] {
                continue;
            }
            let b = &boxes[j];
            let w = (a.x2.min(b.x2) - a.x1.max(b.x1) + plus).max(0.0);
            let h = (a.y2.min(b.y2) - a.y1.max(b.y1) + plus).max(0.0);
            let inter = w * h;
            let o = match overlap {
                Overlap::Union => inter / (area(a) + area(b) - inter),
                Overlap::Min => inter / area(a).min(area(b)),
            };
            if o > threshold {
                suppressed[j] = true;
            }
        }
    }
    keep
}

/// Keeps `boxes[i]` for each index, in the order given.
pub(crate) fn select(boxes: &[Candidate], keep: &[usize]) -> Vec<Candidate> {
    keep.iter().map(|&i| boxes[i]).collect()
}

/// Applies the PNet regression (offsets scaled by `x2 - x1`, without the +1).
pub(crate) fn regress_pnet(b: &mut Candidate) {
    let (w, h) = (b.x2 - b.x1, b.y2 - b.y1);
    *b = Candidate {
        x1: b.x1 + b.reg[0] * w,
        y1: b.y1 + b.reg[1] * h,
        x2: b.x2 + b.reg[2] * w,
        y2: b.y2 + b.reg[3] * h,
        ..*b
    };
}

/// Applies RNet/ONet regression `reg` (offsets scaled by `x2 - x1 + 1`), as `bbreg`.
pub(crate) fn regress(b: &mut Candidate, reg: [f32; 4]) {
    let (w, h) = (b.x2 - b.x1 + 1.0, b.y2 - b.y1 + 1.0);
    b.x1 += reg[0] * w;
    b.y1 += reg[1] * h;
    b.x2 += reg[2] * w;
    b.y2 += reg[3] * h;
}

/// Makes a box square around its centre, side = the longer side (`rerec`).
pub(crate) fn square(b: &mut Candidate) {
    let (h, w) = (b.y2 - b.y1, b.x2 - b.x1);
    let l = w.max(h);
    b.x1 = b.x1 + w * 0.5 - l * 0.5;
    b.y1 = b.y1 + h * 0.5 - l * 0.5;
    b.x2 = b.x1 + l;
    b.y2 = b.y1 + l;
}

/// The pixel rows and columns a box covers once truncated and clipped to the image (`pad`):
/// `(y0, y1, x0, x1)` as half-open 0-based ranges, or `None` when nothing is left.
pub(crate) fn crop_window(
    b: &Candidate,
    width: usize,
    height: usize,
) -> Option<(usize, usize, usize, usize)> {
    let x = (b.x1.trunc() as i64).max(1);
    let y = (b.y1.trunc() as i64).max(1);
    let ex = (b.x2.trunc() as i64).min(width as i64);
    let ey = (b.y2.trunc() as i64).min(height as i64);
    if ey > y - 1 && ex > x - 1 {
        Some(((y - 1) as usize, ey as usize, (x - 1) as usize, ex as usize))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Candidate {
        Candidate {
            x1,
            y1,
            x2,
            y2,
            score,
            reg: [0.0; 4],
        }
    }

    #[test]
    fn nms_drops_overlapping_lower_scores() {
        let boxes = [
            b(0., 0., 10., 10., 0.8),
            b(1., 1., 11., 11., 0.9),
            b(20., 20., 30., 30., 0.7),
        ];
        assert_eq!(nms(&boxes, 0.5, Overlap::Union), vec![1, 2]);
        let nested = [b(0., 0., 100., 100., 0.9), b(10., 10., 20., 20., 0.8)];
        assert_eq!(nms(&nested, 0.7, Overlap::Union), vec![0, 1]);
        assert_eq!(nms(&nested, 0.7, Overlap::Min), vec![0]);
    }

    #[test]
    fn square_and_crop_window() {
        let mut c = b(10., 20., 30., 60., 1.0);
        square(&mut c);
        assert_eq!((c.x1, c.y1, c.x2, c.y2), (0., 20., 40., 60.));
        assert_eq!(crop_window(&c, 35, 100), Some((19, 60, 0, 35)));
        assert_eq!(crop_window(&b(50., 50., 60., 60., 1.), 40, 40), None);
    }
}
