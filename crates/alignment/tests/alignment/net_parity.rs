//! PNet/RNet/ONet outputs on the recorded inputs within 1e-4 of facenet-pytorch.

use candle_core::{Device, Tensor};

use crate::{fixture, mtcnn};

fn assert_close(name: &str, got: &Tensor, want: &Tensor) {
    assert_eq!(got.dims(), want.dims(), "{name} shape");
    let diff: f32 = (got - want)
        .unwrap()
        .abs()
        .unwrap()
        .flatten_all()
        .unwrap()
        .max(0)
        .unwrap()
        .to_scalar()
        .unwrap();
    assert!(diff <= 1e-4, "{name}: max abs diff {diff}");
}

#[test]
fn networks_match_facenet_pytorch() {
    let io = candle_core::safetensors::load(fixture("parity/mtcnn_io.safetensors"), &Device::Cpu)
        .unwrap();
    let detector = mtcnn();
    let (pnet, rnet, onet) = detector.nets();
    let (reg, prob) = pnet.forward(&io["pnet.input"]).unwrap();
    assert_close("pnet.output0", &reg, &io["pnet.output0"]);
    assert_close("pnet.output1", &prob, &io["pnet.output1"]);
    let (reg, prob) = rnet.forward(&io["rnet.input"]).unwrap();
    assert_close("rnet.output0", &reg, &io["rnet.output0"]);
    assert_close("rnet.output1", &prob, &io["rnet.output1"]);
    let (reg, points, prob) = onet.forward(&io["onet.input"]).unwrap();
    assert_close("onet.output0", &reg, &io["onet.output0"]);
    assert_close("onet.output1", &points, &io["onet.output1"]);
    assert_close("onet.output2", &prob, &io["onet.output2"]);
}
