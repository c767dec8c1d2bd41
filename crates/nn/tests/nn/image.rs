//! Images as signed planar floats and tensors, and back.

use candle_core::Device;
use image::RgbImage;
use visnir_nn::{from_signed_planar, to_image, to_signed_planar, to_tensor};

#[test]
fn signed_planar_round_trips() {
    let img = RgbImage::from_fn(5, 3, |x, y| image::Rgb([x as u8 * 50, y as u8 * 100, 255]));
    let planar = to_signed_planar(&img);
    assert_eq!(planar.len(), 45);
    assert_eq!(planar[0], -1.0);
    assert_eq!(planar[30], 1.0, "blue plane starts at 2 * 15");
    assert_eq!(from_signed_planar(&planar, 5, 3).unwrap(), img);
    assert!(from_signed_planar(&planar, 4, 3).is_none());
}

#[test]
fn tensors_round_trip_and_grey_is_repeated() {
    let img = RgbImage::from_fn(4, 2, |x, y| image::Rgb([x as u8 * 60, y as u8 * 200, 7]));
    let t = to_tensor(&img, &Device::Cpu).unwrap();
    assert_eq!(t.dims(), &[1, 3, 2, 4]);
    assert_eq!(to_image(&t).unwrap(), img);
    let grey = to_image(&t.narrow(1, 0, 1).unwrap()).unwrap();
    assert!(grey.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    assert!(
        to_image(&t.narrow(1, 0, 2).unwrap()).is_err(),
        "two channels"
    );
}
