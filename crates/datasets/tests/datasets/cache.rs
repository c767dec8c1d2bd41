//! The aligned-crop cache.

use std::path::Path;

use image::RgbImage;
use visnir_datasets::{Cached, CropCache};

use crate::scratch;

#[test]
fn cache_keeps_crops_and_failures_per_parameter_set() {
    let root = scratch("cache");
    let cache = CropCache::new(&root, "arcface256/mtcnn 20");
    assert!(!cache.dir().to_string_lossy().contains(' '));
    let source = Path::new("VL/Strong/P001/Anger/001.jpeg");
    assert_eq!(cache.get(source).unwrap(), None);
    let crop = RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]));
    cache.put(source, &Cached::Crop(crop.clone())).unwrap();
    assert_eq!(cache.get(source).unwrap(), Some(Cached::Crop(crop)));
    let other = Path::new("NI/Strong/P001/Anger/001.jpeg");
    cache
        .put(other, &Cached::NoFace("no face found".into()))
        .unwrap();
    assert_eq!(
        cache.get(other).unwrap(),
        Some(Cached::NoFace("no face found".into()))
    );
    let elsewhere = CropCache::new(&root, "arcface112");
    assert_eq!(
        elsewhere.get(source).unwrap(),
        None,
        "other parameters, other entries"
    );
    assert!(cache.get(Path::new("../escape.jpeg")).is_err());
    assert!(cache.get(Path::new("/abs.jpeg")).is_err());
}
