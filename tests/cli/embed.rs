//! `visnir embed`, including weights served from a local stand-in for the Hugging Face hub.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::process::Command;

use crate::{assert_fails, fixture, json_output, scratch_dir, visnir};

fn path(relative: &str) -> String {
    fixture(relative).to_string_lossy().into_owned()
}

fn embedding(v: &serde_json::Value) -> Vec<f64> {
    v["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    dot / (a.iter().map(|x| x * x).sum::<f64>().sqrt()
        * b.iter().map(|x| x * x).sum::<f64>().sqrt())
}

fn golden_embedding(name: &str) -> Vec<f64> {
    let golden: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("mobilefacenet_golden.json")).unwrap(),
    )
    .unwrap();
    let face = golden["faces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap()
        .clone();
    face["embedding"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn embeds_aligned_crops_and_photos() {
    let out = visnir(&["embed", &path("aligned/grace_hopper_f0.png"), "--json"]);
    let v = json_output(&out);
    assert_eq!(v[0]["image"], path("aligned/grace_hopper_f0.png"));
    let e = embedding(&v[0]);
    assert_eq!(e.len(), 192);
    assert!(cosine(&e, &golden_embedding("grace_hopper_f0")) >= 0.9999);

    let aligned = json_output(&visnir(&[
        "embed",
        "--align",
        &path("faces/grace_hopper.png"),
        "--json",
    ]));
    assert!(cosine(&embedding(&aligned[0]), &e) > 0.99);

    let flipped = json_output(&visnir(&[
        "embed",
        "--flip-sum",
        &path("aligned/grace_hopper_f0.png"),
        "--json",
    ]));
    let f = embedding(&flipped[0]);
    assert!((f.iter().map(|x| x * x).sum::<f64>() - 1.0).abs() < 1e-5);
    assert!(cosine(&f, &e) > 0.9 && cosine(&f, &e) < 0.99999);
}

#[test]
fn a_photo_is_not_a_crop() {
    let out = visnir(&["embed", &path("faces/astronaut.png"), "--json"]);
    assert_fails(
        &out,
        2,
        &["astronaut.png", "512 x 512", "112 x 112", "--align"],
    );
    let out = visnir(&[
        "embed",
        "--weights",
        "/no/such/weights.safetensors",
        &path("aligned/astronaut_f0.png"),
    ]);
    assert_fails(&out, 2, &["/no/such/weights.safetensors"]);
}

/// Serves `body` as `OWNER/REPO/resolve/main/FILE` the way the hub does, for `requests` requests.
fn serve_hub_file(body: Vec<u8>, requests: usize) -> (String, std::thread::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming().take(requests) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut start = 0usize;
            let mut end = body.len() - 1;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
                if let Some(range) = line.to_ascii_lowercase().strip_prefix("range: bytes=") {
                    let (a, b) = range.trim().split_once('-').unwrap();
                    start = a.parse().unwrap();
                    if !b.is_empty() {
                        end = b.parse().unwrap();
                    }
                }
            }
            let found = request_line.contains("/me/faces/resolve/main/mobilefacenet.safetensors");
            let response = if found {
                let chunk = &body[start..=end];
                let mut head = format!(
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{end}/{}\r\n\
                     ETag: \"0123abcd\"\r\nX-Repo-Commit: 0123456789abcdef0123456789abcdef01234567\r\nConnection: close\r\n\r\n",
                    chunk.len(),
                    body.len()
                )
                .into_bytes();
                head.extend_from_slice(chunk);
                head
            } else {
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec()
            };
            stream.write_all(&response).unwrap();
            served += 1;
        }
        served
    });
    (endpoint, handle)
}

#[test]
fn weights_download_from_a_hub_endpoint_and_are_cached() {
    let body = std::fs::read(fixture("../../data/weights/mobilefacenet.safetensors")).unwrap();
    let (endpoint, server) = serve_hub_file(body, 2);
    let home = scratch_dir("hf-home");
    let run = |endpoint: &str| {
        Command::new(env!("CARGO_BIN_EXE_visnir"))
            .args([
                "embed",
                "--weights",
                "hf:me/faces/mobilefacenet.safetensors",
                "--json",
                &path("aligned/astronaut_f0.png"),
            ])
            .env("HF_ENDPOINT", endpoint)
            .env("HF_HOME", &home)
            .env_remove("HF_HUB_OFFLINE")
            .output()
            .unwrap()
    };
    let downloaded = json_output(&run(&endpoint));
    assert_eq!(server.join().unwrap(), 2, "metadata and data requests");
    let bundled = json_output(&visnir(&[
        "embed",
        "--json",
        &path("aligned/astronaut_f0.png"),
    ]));
    assert_eq!(embedding(&downloaded[0]), embedding(&bundled[0]));
    // The server is gone: the cached copy is used.
    let cached = json_output(&run("http://127.0.0.1:9"));
    assert_eq!(embedding(&cached[0]), embedding(&bundled[0]));
}
