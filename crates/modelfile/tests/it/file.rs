//! Model files: the payload format, round trips of every model, old files, damaged files.

use std::collections::{BTreeMap, HashMap};

use daogou_algo::{build_model, ModelState, Recommender, Tensor, TrainData};
use daogou_core::{Aggregate, IdMap, Interaction, Interactions, Params};
use daogou_data::Signal;
use daogou_modelfile::*;
use safetensors::Dtype;

fn fixture() -> (IdMap, IdMap, Interactions) {
    let (mut users, mut items) = (IdMap::new(), IdMap::new());
    let mut data = Vec::new();
    for u in 0..30u32 {
        let uid = users.get_or_insert(&format!("user-{u}"));
        for j in 0..6u32 {
            let i = (u % 3) * 10 + (u * 7 + j * 3) % 10; // three taste groups of ten items
            let iid = items.get_or_insert(&format!("sku-{i}"));
            data.push(Interaction::new(uid, iid, 1.0 + ((u + j) % 5) as f32));
        }
    }
    let m = Interactions::from_interactions(users.len(), items.len(), &data, Aggregate::Last);
    (users, items, m)
}

fn scores(model: &dyn Recommender, u: u32) -> Vec<u32> {
    let mut s = vec![0f32; model.n_items()];
    model.score_user(u, &mut s);
    s.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn the_streamed_payload_is_what_safetensors_itself_serializes() {
    // the arrays go to the file in chunks; the payload must be byte for byte what
    // safetensors::serialize makes of the same arrays held in memory, and the checksum
    // must cover the head and the payload
    let (users, items, m) = fixture();
    let params = Params::new();
    let model = build_model("als", &params, &TrainData::new(&m, false)).unwrap();
    let signal = Signal::default();
    let ctx = TrainingContext {
        users: &users,
        items: &items,
        train: &m,
        explicit: false,
        params: &params,
        signal: &signal,
        source: "t",
    };
    let (bytes, manifest) = encode(model.as_ref(), &ctx, |_| {}).unwrap();
    let payload = &bytes[HEAD..bytes.len() - 4];
    assert_eq!(u64::from_le_bytes(bytes[12..20].try_into().unwrap()), payload.len() as u64);
    assert_eq!(
        u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().unwrap()),
        crc32fast::hash(&bytes[..bytes.len() - 4])
    );
    let state = model.state();
    let mut owned: BTreeMap<String, (Dtype, Vec<u8>, usize)> = BTreeMap::new();
    let le = |t: &Tensor| -> (Dtype, Vec<u8>) {
        match t {
            Tensor::F32(v) => (Dtype::F32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Tensor::F64(v) => (Dtype::F64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Tensor::U32(v) => (Dtype::U32, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
            Tensor::U64(v) => (Dtype::U64, v.iter().flat_map(|x| x.to_le_bytes()).collect()),
        }
    };
    for (name, t) in &state.tensors {
        let (d, b) = le(t);
        owned.insert(format!("model.{name}"), (d, b, t.len()));
    }
    let mut hist = ModelState::new("history", &Params::new());
    hist.set_interactions("train", &m);
    for (name, t) in &hist.tensors {
        let (d, b) = le(t);
        owned.insert(format!("history.{name}"), (d, b, t.len()));
    }
    assert_eq!(manifest["history_scalars"], serde_json::to_value(&hist.scalars).unwrap());
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = owned
        .iter()
        .map(|(k, (d, b, n))| (k.clone(), safetensors::tensor::TensorView::new(*d, vec![*n], b).unwrap()))
        .collect();
    let meta = HashMap::from([("manifest".to_owned(), manifest.to_string())]);
    let reference = safetensors::serialize(views, Some(meta)).unwrap();
    assert_eq!(payload, &reference[..]);
}

#[test]
fn round_trip_is_bit_exact_for_every_model() {
    let (users, items, m) = fixture();
    let dir = tempfile::tempdir().unwrap();
    for explicit in [true, false] {
        for info in daogou_algo::MODELS {
            let params = Params::new();
            let Ok(model) = build_model(info.name, &params, &TrainData::new(&m, explicit)) else { continue };
            let signal = Signal::from_options(Some("view=0,purchase=3"), None, Some(30.0)).unwrap();
            let ctx = TrainingContext {
                users: &users,
                items: &items,
                train: &m,
                explicit,
                params: &params,
                signal: &signal,
                source: "test",
            };
            let path = dir.path().join(format!("{}-{explicit}.daogou", info.name));
            let manifest = save(&path, model.as_ref(), &ctx).unwrap();
            assert_eq!(manifest["model"], info.name);
            let back = load(&path).unwrap();
            assert_eq!(back.model.name(), info.name);
            assert_eq!(back.users.ids(), users.ids());
            assert_eq!(back.items.ids(), items.ids());
            assert_eq!(back.train.by_user, m.by_user);
            assert_eq!(back.explicit, explicit);
            assert_eq!(back.signal, Some(signal));
            assert_eq!(back.manifest["data"]["fingerprint"], fingerprint(&m));
            for u in 0..users.len() as u32 {
                assert_eq!(scores(model.as_ref(), u), scores(back.model.as_ref(), u), "{} user {u}", info.name);
            }
        }
    }
}

#[test]
fn a_file_without_a_recorded_signal_loads_with_none() {
    let (users, items, m) = fixture();
    let params = Params::new();
    let model = build_model("item-knn", &params, &TrainData::new(&m, false)).unwrap();
    let signal = Signal::default();
    let ctx = TrainingContext {
        users: &users,
        items: &items,
        train: &m,
        explicit: false,
        params: &params,
        signal: &signal,
        source: "t",
    };
    let (bytes, _) = encode(model.as_ref(), &ctx, |m| {
        m.as_object_mut().unwrap().remove("signal");
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.daogou");
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(load(&path).unwrap().signal, None);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (bytes, _) = encode(model.as_ref(), &ctx, |_| {}).unwrap();
    std::fs::write(&path, bytes).unwrap();
    assert!(load(&path).unwrap().trained_at.is_some_and(|t| (t - now).abs() < 60));
}

#[test]
fn damaged_truncated_and_foreign_files_are_refused() {
    let (users, items, m) = fixture();
    let params = Params::new().with("k", 5);
    let model = build_model("item-knn", &params, &TrainData::new(&m, false)).unwrap();
    let signal = Signal::default();
    let ctx = TrainingContext {
        users: &users,
        items: &items,
        train: &m,
        explicit: false,
        params: &params,
        signal: &signal,
        source: "t",
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.daogou");
    save(&path, model.as_ref(), &ctx).unwrap();
    let good = std::fs::read(&path).unwrap();
    let bad = dir.path().join("bad.daogou");
    // one flipped byte anywhere: header, manifest, arrays, checksum
    for pos in [0, 9, 13, 25, good.len() / 3, good.len() / 2, good.len() - 10, good.len() - 1] {
        let mut b = good.clone();
        b[pos] ^= 0x40;
        std::fs::write(&bad, &b).unwrap();
        let err = load(&bad).err().unwrap_or_else(|| panic!("flip at {pos} accepted")).to_string();
        assert!(err.contains("bad.daogou"), "{err}");
    }
    for len in [0, 10, 100, good.len() - 1] {
        std::fs::write(&bad, &good[..len]).unwrap();
        let err = load(&bad).err().expect("truncated file accepted").to_string();
        assert!(err.contains("truncated") || err.contains("too short"), "{len}: {err}");
    }
    let mut v2 = good.clone();
    v2[8] = 2;
    std::fs::write(&bad, &v2).unwrap();
    assert!(load(&bad).err().unwrap().to_string().contains("version 2"));
    std::fs::write(&bad, b"user,item\n1,2\n").unwrap();
    assert!(load(&bad).err().unwrap().to_string().contains("not a daogou model file"));
    assert!(load(&dir.path().join("missing")).is_err());
    // the good file still loads, and no temporary file is left behind
    assert!(load(&path).is_ok());
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(names.iter().all(|n| !n.to_string_lossy().contains(".tmp-")), "{names:?}");
}
