//! The background side of [`crate::cluster`]: load the trainer's new models as they are
//! announced, apply the other servers' live events and deletions.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use crate::cluster::{Cluster, DeletionMessage, EventsMessage, DELETIONS, EVENTS};
use crate::state::{AppState, BoxError};

/// Start following the cluster: load every new model artifact the trainer announces, and
/// apply the other servers' live events and deletions. Call once, inside the runtime.
pub fn start(state: Arc<AppState>) {
    let Some(cluster) = state.cluster().cloned() else { return };
    // plain threads (fetching and loading block): models, and experiments started or stopped
    // on another server
    let follow: [(&str, fn(&Arc<AppState>, &Cluster)); 2] =
        [("daogou-models", follow_models), ("daogou-experiments", follow_experiments)];
    for (name, follower) in follow {
        let (s, c) = (state.clone(), cluster.clone());
        std::thread::Builder::new().name(name.into()).spawn(move || follower(&s, &c)).expect("a thread can be started");
    }
    // live events and deletions from Redis
    if let Some(client) = cluster.redis_client().cloned() {
        tokio::spawn(async move {
            loop {
                if let Err(e) = follow_redis(&state, &cluster, &client).await {
                    eprintln!("cluster: Redis subscription lost ({e}); retrying");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// The channel on which a server announces an experiment it started or stopped.
pub(crate) const EXPERIMENTS: &str = "daogou_experiments";

fn follow_experiments(state: &Arc<AppState>, cluster: &Cluster) {
    for (_channel, name) in cluster.pg().listen(&[EXPERIMENTS]) {
        // also on a (re)connection, after which a note may have been missed: the store decides
        if let Err(e) = state.engine.follow_stored_experiment() {
            eprintln!("cluster: cannot follow experiment `{name}`: {e}");
        }
        for note in state.engine.take_notes() {
            eprintln!("{note}");
        }
    }
}

fn follow_models(state: &Arc<AppState>, cluster: &Cluster) {
    let notes = cluster.pg().listen(&["daogou_model"]);
    for (_channel, _payload) in notes {
        // a new artifact, or a (re)connection after which one may have been missed
        let latest = match cluster.pg().latest_artifact() {
            Ok(Some(a)) if a.version > cluster.artifact_version() => a,
            Ok(_) => continue,
            Err(e) => {
                eprintln!("cluster: cannot read the model artifacts: {e}");
                continue;
            }
        };
        let path = std::env::temp_dir().join(format!("daogou-model-{}-{}.daogou", std::process::id(), latest.version));
        let loaded = cluster
            .pg()
            .fetch_artifact(&latest, &path)
            .map_err(|e| e.to_string())
            .and_then(|()| state.engine.load_model_file(&path).map_err(|e| e.to_string()));
        let _ = std::fs::remove_file(&path);
        match loaded {
            Ok(snap) => {
                cluster.set_artifact_version(latest.version);
                state.note_model(&snap);
                eprintln!("cluster: model artifact {} ({}) is serving", latest.version, latest.model);
            }
            Err(e) => {
                eprintln!("cluster: model artifact {} refused, still serving the current one: {e}", latest.version)
            }
        }
    }
}

async fn follow_redis(state: &Arc<AppState>, cluster: &Arc<Cluster>, client: &redis::Client) -> Result<(), BoxError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(EVENTS).await?;
    pubsub.subscribe(DELETIONS).await?;
    let mut messages = pubsub.on_message();
    while let Some(m) = messages.next().await {
        let payload: String = m.get_payload()?;
        match m.get_channel_name() {
            EVENTS => {
                let Ok(msg) = serde_json::from_str::<EventsMessage>(&payload) else { continue };
                if msg.origin == cluster.origin() {
                    continue;
                }
                let s = state.clone();
                tokio::task::spawn_blocking(move || {
                    let new = s.engine.apply_remote_events(&msg.events);
                    if !new.is_empty() {
                        let new: Vec<u32> = new.iter().map(|(i, _)| *i).collect();
                        s.guide.changed(&s.engine, &new);
                    }
                });
            }
            DELETIONS => {
                let Ok(msg) = serde_json::from_str::<DeletionMessage>(&payload) else { continue };
                if msg.origin == cluster.origin() {
                    continue;
                }
                state.engine.forget_user(&msg.user);
                state.guide.forget_user(&msg.user);
                *state.stats.lock().unwrap_or_else(|e| e.into_inner()) = None;
            }
            _ => {}
        }
    }
    Err("the subscription ended".into())
}
