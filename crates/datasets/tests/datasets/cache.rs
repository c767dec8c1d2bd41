//! The aligned-crop cache.

use image::RgbImage;
use visnir_datasets::{Cached, CropCache};

use crate::scratch;

#[test]
fn cache_keeps_crops_and_failures_per_content_and_parameter_set() {
    let root = scratch("cache");
    let cache = CropCache::new(&root, "arcface256/mtcnn 20");
    assert!(!cache.dir().to_string_lossy().contains(' '));
    let source: &[u8] = b"the bytes of one photo";
    assert_eq!(cache.get(source).unwrap(), None);
    let crop = RgbImage::from_pixel(8, 8, image::Rgb([1, 2, 3]));
    cache.put(source, &Cached::Crop(crop.clone())).unwrap();
    assert_eq!(cache.get(source).unwrap(), Some(Cached::Crop(crop.clone())));
    let same_content = b"the bytes of one photo".to_vec();
    assert_eq!(
        cache.get(&same_content).unwrap(),
        Some(Cached::Crop(crop)),
        "the key is the content, wherever the file lies"
    );
    let other: &[u8] = b"the bytes of one photo, edited";
    assert_eq!(cache.get(other).unwrap(), None, "other content, no crop");
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
}
