//! daogou-algo's tests, one binary: a module per model, beside the fixtures they share.

mod als;
mod baseline;
mod bpr;
mod buy_again;
mod category_popularity;
mod early_stop;
mod ease;
mod item_knn;
mod knn_baseline;
mod popularity;
mod registry;
mod sim;
mod slope_one;
mod state;
mod svd;
mod svdpp;
mod testutil;
mod topk;
mod user_knn;
