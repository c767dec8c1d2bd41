//! The embedder on real photos: invariance to scale and rotation, separation of people.

use candle_core::Device;
use visnir_alignment::{align, warp_affine, Mtcnn, MtcnnConfig, Template};
use visnir_ffe::Embedder;
use visnir_nn::load_rgb;

use crate::{cosine, fixture};

fn embed_largest_face(image: &image::RgbImage, mtcnn: &Mtcnn, embedder: &Embedder) -> Vec<f32> {
    let faces = mtcnn.detect(image).unwrap();
    assert!(!faces.is_empty(), "no face found");
    let crop = align(image, &faces[0].landmarks, &Template::arcface(112)).unwrap();
    embedder.embed(&[crop]).unwrap().remove(0)
}

#[test]
fn rescaled_and_rotated_photo_embeds_alike() {
    let mtcnn = Mtcnn::bundled(MtcnnConfig::default(), &Device::Cpu).unwrap();
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let original = load_rgb(&fixture("faces/astronaut.png")).unwrap();
    let (scale, angle) = (0.7f64, 10f64.to_radians());
    let (c, s) = (scale * angle.cos(), scale * angle.sin());
    let (centre_in, centre_out) = (256.0, 200.0);
    let m = [
        [c, -s, centre_out - (c * centre_in - s * centre_in)],
        [s, c, centre_out - (s * centre_in + c * centre_in)],
    ];
    let transformed = warp_affine(&original, &m, 400);
    let a = embed_largest_face(&original, &mtcnn, &embedder);
    let b = embed_largest_face(&transformed, &mtcnn, &embedder);
    let similarity = cosine(&a, &b);
    eprintln!("rescaled 0.7 + rotated 10 degrees: cosine {similarity}");
    assert!(
        similarity >= 0.95,
        "cosine {similarity} (reference network: 0.985)"
    );
}

#[test]
fn different_people_score_low() {
    let embedder = Embedder::bundled(&Device::Cpu).unwrap();
    let names = [
        "astronaut_f0",
        "grace_hopper_f0",
        "faceapi_sample1_f0",
        "faceapi_sample1_f2",
        "faceapi_sample4_f0",
    ];
    let crops: Vec<_> = names
        .iter()
        .map(|n| {
            image::open(fixture(&format!("aligned/{n}.png")))
                .unwrap()
                .to_rgb8()
        })
        .collect();
    let e = embedder.embed(&crops).unwrap();
    for i in 0..names.len() {
        for j in i + 1..names.len() {
            let c = cosine(&e[i], &e[j]);
            assert!(c < 0.6, "{} vs {}: cosine {c}", names[i], names[j]);
        }
    }
}
