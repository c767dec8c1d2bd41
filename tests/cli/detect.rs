//! `visnir detect` and `visnir align` on real photos and on bad input.

use std::path::Path;

use crate::{assert_fails, fixture, json_output, scratch_dir, visnir};

fn photo(name: &str) -> String {
    fixture(&format!("faces/{name}.png"))
        .to_string_lossy()
        .into_owned()
}

#[test]
fn detect_json_follows_the_contract() {
    let out = visnir(&[
        "detect",
        &photo("astronaut"),
        &photo("faceapi_sample1"),
        "--json",
    ]);
    let v = json_output(&out);
    let images = v.as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["image"], photo("astronaut"));
    let faces = images[0]["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 1);
    let b: Vec<f64> = faces[0]["box"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let golden = [181.0514, 62.1561, 267.7473, 172.0502];
    for (got, want) in b.iter().zip(golden) {
        assert!((got - want).abs() < 0.5, "{b:?}");
    }
    assert!(faces[0]["score"].as_f64().unwrap() > 0.99);
    assert_eq!(faces[0]["landmarks"].as_array().unwrap().len(), 5);
    assert_eq!(images[1]["faces"].as_array().unwrap().len(), 3);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("2 images, 4 faces, 0 failures"), "{stderr}");
}

/// A PNG whose header claims `width` x `height`, with an empty pixel stream.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    for chunk in [ihdr, b"IDAT".to_vec(), b"IEND".to_vec()] {
        png.extend((chunk.len() as u32 - 4).to_be_bytes());
        png.extend(&chunk);
        png.extend(crc32(&chunk).to_be_bytes());
    }
    png
}

#[test]
fn bad_images_are_named_skipped_and_counted() {
    let dir = scratch_dir("bad-images");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().into_owned()
    };
    let png = std::fs::read(fixture("faces/astronaut.png")).unwrap();
    let not_image = write("notes.jpg", b"these are not pixels");
    let truncated = write("truncated.png", &png[..png.len() / 3]);
    let mut encoded = std::io::Cursor::new(Vec::new());
    image::open(fixture("faces/astronaut.png"))
        .unwrap()
        .write_to(&mut encoded, image::ImageFormat::Jpeg)
        .unwrap();
    let encoded = encoded.into_inner();
    let truncated_jpeg = write("cut.jpg", &encoded[..encoded.len() / 2]);
    let huge = write("huge.png", &png_header_only(20000, 20000));
    let bomb = write("bomb.png", &png_header_only(8000, 8000));
    let fifo = dir.join("pipe.png");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success(), "mkfifo");
    let fifo = fifo.to_string_lossy().into_owned();
    let empty = write("empty.png", &png_header_only(0, 0));
    let missing = dir.join("missing.png").to_string_lossy().into_owned();
    let directory = dir.to_string_lossy().into_owned();
    let out = visnir(&[
        "detect",
        &not_image,
        &photo("astronaut"),
        &truncated,
        &truncated_jpeg,
        &huge,
        &bomb,
        &fifo,
        "/dev/zero",
        &empty,
        &missing,
        &directory,
        "--json",
    ]);
    assert_fails(
        &out,
        2,
        &[
            "notes.jpg",
            "truncated.png",
            "cut.jpg",
            "huge.png",
            "16384",
            "bomb.png: image is 8000 x 8000",
            "VISNIR_MAX_PIXELS",
            "pipe.png: is not a regular file",
            "/dev/zero: is not a regular file",
            "empty.png",
            "missing.png",
            "directory",
            "11 images, 1 faces, 10 failures",
        ],
    );
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "the good image is still processed"
    );
}

#[test]
fn other_pixel_formats_are_converted() {
    let dir = scratch_dir("formats");
    let rgb = image::open(fixture("faces/astronaut.png")).unwrap();
    let variants = [
        ("gray.png", image::DynamicImage::ImageLuma8(rgb.to_luma8())),
        ("rgba.png", image::DynamicImage::ImageRgba8(rgb.to_rgba8())),
        ("deep.png", image::DynamicImage::ImageRgb16(rgb.to_rgb16())),
    ];
    let mut paths = Vec::new();
    for (name, img) in variants {
        let p = dir.join(name);
        img.save(&p).unwrap();
        paths.push(p.to_string_lossy().into_owned());
    }
    let mut args = vec!["detect", "--json"];
    args.extend(paths.iter().map(String::as_str));
    let v = json_output(&visnir(&args));
    for entry in v.as_array().unwrap() {
        assert_eq!(
            entry["faces"].as_array().unwrap().len(),
            1,
            "{}",
            entry["image"]
        );
    }
}

#[test]
fn a_photo_without_faces_is_not_an_error() {
    let dir = scratch_dir("no-face");
    let p = dir.join("flat.png");
    image::RgbImage::from_pixel(200, 150, image::Rgb([120, 130, 140]))
        .save(&p)
        .unwrap();
    let out = visnir(&["detect", p.to_str().unwrap(), "--json"]);
    let v = json_output(&out);
    assert_eq!(v[0]["faces"].as_array().unwrap().len(), 0);
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 images, 0 faces, 0 failures"));
}

#[test]
fn align_writes_numbered_crops() {
    let dir = scratch_dir("align");
    for size in ["112", "256"] {
        let out_dir = dir.join(size);
        let out = visnir(&[
            "align",
            &photo("faceapi_sample1"),
            "--size",
            size,
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for k in 0..3 {
            let crop = image::open(out_dir.join(format!("faceapi_sample1_f{k}.png"))).unwrap();
            assert_eq!(
                (crop.width(), crop.height()),
                (size.parse().unwrap(), size.parse().unwrap())
            );
        }
        assert!(!Path::new(&out_dir.join("faceapi_sample1_f3.png")).exists());
    }
}

#[test]
fn align_256_resized_equals_align_112() {
    let dir = scratch_dir("align-resize");
    let mut crops = Vec::new();
    for size in ["112", "256"] {
        let out_dir = dir.join(size);
        let out = visnir(&[
            "align",
            &photo("astronaut"),
            "--size",
            size,
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        assert!(out.status.success());
        crops.push(
            image::open(out_dir.join("astronaut_f0.png"))
                .unwrap()
                .to_rgb8(),
        );
    }
    let resized =
        image::imageops::resize(&crops[1], 112, 112, image::imageops::FilterType::Triangle);
    let mad: f64 = resized
        .as_raw()
        .iter()
        .zip(crops[0].as_raw())
        .map(|(&a, &b)| (a as f64 - b as f64).abs())
        .sum::<f64>()
        / resized.as_raw().len() as f64;
    assert!(mad < 4.0, "mean absolute difference {mad}");
}

#[test]
fn bad_detector_options_exit_2() {
    assert_fails(
        &visnir(&["detect", &photo("astronaut"), "--thresholds", "0.6,0.7"]),
        2,
        &["three values"],
    );
    assert_fails(
        &visnir(&["detect", &photo("astronaut"), "--factor", "1.5"]),
        2,
        &["factor"],
    );
    assert_fails(
        &visnir(&["detect", &photo("astronaut"), "--device", "tpu"]),
        2,
        &["tpu"],
    );
}
