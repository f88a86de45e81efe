//! LightGBM against hessboost on the learned ranker's training rows (Online Retail). Train on
//! the label window before the validation date (features as of 2011-09-09, labels up to
//! 2011-10-09), test on the next one (features as of 2011-10-09, labels up to 2011-11-09);
//! the same rows, the same settings (300 trees, depth 6 / 63 leaves, learning rate 0.05,
//! bagging 0.8, features 0.8, minimum Hessian 1), NDCG@10 per user over their candidates with
//! the ideal DCG of all their purchases in the window (as the full-catalogue metric counts
//! what the candidates missed), train time with 1 and 2 threads.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::time::Instant;

use daogou_algo::TrainData;
use daogou_core::{Interaction, Params};
use daogou_data::{load_dataset, parse_time, Format, LoadOptions};
use daogou_eval::EvalOptions;
use daogou_ranker::gbdt::{Gbdt, TreeParams};
use daogou_ranker::{training_set, TrainingSet};
use lightgbm3_sys as sys;

fn ndcg(set: &TrainingSet, scores: &[f64]) -> f64 {
    let (mut start, mut total) = (0usize, 0.0);
    for (g, &n) in set.groups.iter().enumerate() {
        let mut idx: Vec<usize> = (start..start + n).collect();
        idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let dcg: f64 = idx.iter().take(10).enumerate().filter(|(_, &i)| set.labels[i] > 0.0).map(|(r, _)| 1.0 / (r as f64 + 2.0).log2()).sum();
        let idcg: f64 = (0..set.relevant[g].min(10)).map(|r| 1.0 / (r as f64 + 2.0).log2()).sum();
        total += dcg / idcg;
        start += n;
    }
    total / set.groups.len() as f64
}

fn lightgbm(train: &TrainingSet, test: &TrainingSet, threads: usize) -> (f64, f64) {
    let width = train.names.len();
    let params = CString::new(format!(
        "objective=lambdarank num_leaves=63 max_depth=6 learning_rate=0.05 min_sum_hessian_in_leaf=1 \
         bagging_fraction=0.8 bagging_freq=1 feature_fraction=0.8 lambdarank_truncation_level=32 \
         num_threads={threads} seed=42 deterministic=true force_col_wise=true verbosity=-1"
    ))
    .unwrap();
    let t0 = Instant::now();
    let mut ds: sys::DatasetHandle = std::ptr::null_mut();
    let mut booster: sys::BoosterHandle = std::ptr::null_mut();
    let groups: Vec<i32> = train.groups.iter().map(|&g| g as i32).collect();
    unsafe {
        assert_eq!(0, sys::LGBM_DatasetCreateFromMat(train.rows.as_ptr().cast(), sys::C_API_DTYPE_FLOAT32 as i32,
            train.labels.len() as i32, width as i32, 1, params.as_ptr(), std::ptr::null_mut(), &mut ds));
        let label = CString::new("label").unwrap();
        let group = CString::new("group").unwrap();
        assert_eq!(0, sys::LGBM_DatasetSetField(ds, label.as_ptr(), train.labels.as_ptr().cast(), train.labels.len() as i32, sys::C_API_DTYPE_FLOAT32 as i32));
        assert_eq!(0, sys::LGBM_DatasetSetField(ds, group.as_ptr(), groups.as_ptr().cast(), groups.len() as i32, sys::C_API_DTYPE_INT32 as i32));
        assert_eq!(0, sys::LGBM_BoosterCreate(ds, params.as_ptr(), &mut booster));
        for _ in 0..300 {
            let mut done = 0;
            assert_eq!(0, sys::LGBM_BoosterUpdateOneIter(booster, &mut done));
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let mut out = vec![0f64; test.labels.len()];
    let mut len = 0i64;
    let empty = CString::new(format!("num_threads={threads}")).unwrap();
    unsafe {
        assert_eq!(0, sys::LGBM_BoosterPredictForMat(booster, test.rows.as_ptr().cast(), sys::C_API_DTYPE_FLOAT32 as i32,
            test.labels.len() as i32, width as i32, 1, sys::C_API_PREDICT_RAW_SCORE as i32, 0, -1, empty.as_ptr(), &mut len, out.as_mut_ptr()));
        sys::LGBM_BoosterFree(booster);
        sys::LGBM_DatasetFree(ds);
    }
    (ndcg(test, &out), secs)
}

fn hessboost(train: &TrainingSet, test: &TrainingSet, threads: usize) -> (f64, f64) {
    let p = TreeParams { trees: 300, depth: 6, eta: 0.05, min_child_weight: 1.0, subsample: 0.8, colsample: 0.8, seed: 42 };
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let t0 = Instant::now();
    let g = pool.install(|| Gbdt::train(train.rows.clone(), train.names.len(), &train.labels, &train.groups, &p).unwrap());
    let secs = t0.elapsed().as_secs_f64();
    let out: Vec<f64> = test.rows.chunks_exact(test.names.len()).map(|r| f64::from(g.predict(r))).collect();
    (ndcg(test, &out), secs)
}

fn set_before(path: &str, day: &str) -> TrainingSet {
    let (ds, _) = load_dataset(path.as_ref(), &LoadOptions::new(Format::OnlineRetail)).unwrap();
    let cut = parse_time(day).unwrap();
    let train: Vec<Interaction> = ds.interactions.iter().filter(|e| e.timestamp < cut).copied().collect();
    let m = EvalOptions::new("ranker", Params::new()).signal.train_matrix(&ds, &train);
    let t = TrainData::new(&m, false).with_items(&ds.catalogue).with_events(&train);
    training_set(&t, &Params::new()).unwrap()
}

fn main() {
    daogou_ranker::register();
    let path = std::env::args().nth(1).expect("path to online_retail.csv.gz");
    let train = set_before(&path, "2011-10-09");
    let test = set_before(&path, "2011-11-09");
    println!("training rows {} in {} groups, test rows {} in {} groups, {} features",
        train.labels.len(), train.groups.len(), test.labels.len(), test.groups.len(), train.names.len());
    println!("| library | threads | NDCG@10 (next window) | train (s) |");
    println!("|---|---|---|---|");
    for threads in [1, 2] {
        let (n, s) = lightgbm(&train, &test, threads);
        println!("| LightGBM 4.x lambdarank (lightgbm3-sys 1.0.11) | {threads} | {n:.4} | {s:.1} |");
        let (n, s) = hessboost(&train, &test, threads);
        println!("| hessboost 0.4.6 rank:ndcg | {threads} | {n:.4} | {s:.1} |");
    }
}
