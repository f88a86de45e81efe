//! The threads refits read and fit on: a rayon pool of the engine's own whose threads run at a
//! lower CPU priority (a higher nice value; Linux). A refit takes every core it is given for
//! seconds; at equal priority a service thread that wakes (a write to commit, an answer to
//! send) waits for a CPU behind the fit, which doubled the write p99 during refits on a 2-core
//! machine (bench/refit_ingest.sh). At a lower priority the scheduler runs the waking thread
//! first, and the fit gets the cycles the service leaves; how many when the machine is
//! saturated is what the nice value sets (the README's "Refits beside ingestion").

use std::sync::{Arc, Mutex};

/// The nice value refits run at unless configured: chosen on bench/refit_ingest.sh (the writes
/// fared alike at 5, 10 and 19) and bench/refit_saturated.sh (a refit about 4× slower on a
/// saturated machine at 5, 12× at 10); README "Refits beside ingestion".
pub const DEFAULT_REFIT_NICE: u8 = 5;

/// The refit pool, started on first use (a command that never refits starts no thread).
pub(crate) struct FitPool {
    nice: u8,
    pool: Option<Arc<rayon::ThreadPool>>,
}

impl FitPool {
    pub(crate) fn new(nice: u8) -> Mutex<FitPool> {
        Mutex::new(FitPool { nice: nice.min(19), pool: None })
    }

    /// Another nice value for the refits to come (0: where the refit is called, at the
    /// caller's priority); a refit running keeps its threads.
    pub(crate) fn set_nice(&mut self, nice: u8) {
        if self.nice != nice.min(19) {
            *self = FitPool { nice: nice.min(19), pool: None };
        }
    }

    /// The pool to fit on, `None` for the caller's own threads (nice 0, or no thread could be
    /// started: the refit runs at the normal priority then).
    pub(crate) fn get(&mut self) -> Option<Arc<rayon::ThreadPool>> {
        if self.nice == 0 {
            return None;
        }
        if self.pool.is_none() {
            let nice = self.nice;
            self.pool = rayon::ThreadPoolBuilder::new()
                .thread_name(|i| format!("daogou-fit-{i}"))
                .start_handler(move |_| lower_priority(nice))
                .build()
                .ok()
                .map(Arc::new);
        }
        self.pool.clone()
    }
}

/// Run `job` on `pool` (its threads, and the rayon work `job` starts), or here without one.
pub(crate) fn run<T: Send>(pool: Option<Arc<rayon::ThreadPool>>, job: impl FnOnce() -> T + Send) -> T {
    match pool {
        Some(p) => p.install(job),
        None => job(),
    }
}

/// The calling thread's nice value to `nice`. On Linux a thread has its own: `setpriority` with
/// `PRIO_PROCESS` and no id changes the calling thread only (elsewhere it would change the
/// whole process, hence Linux only). Raising one's own nice value needs no privilege (lowering
/// it again does: these threads stay at it); failing is harmless (the fit runs at the normal
/// priority).
fn lower_priority(nice: u8) {
    #[cfg(target_os = "linux")]
    let _ = rustix::process::setpriority_process(None, i32::from(nice));
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}

/// The nice value of the calling thread, `None` off Linux (or when it cannot be read).
pub fn current_nice() -> Option<i32> {
    #[cfg(target_os = "linux")]
    return rustix::process::getpriority_process(None).ok();
    #[cfg(not(target_os = "linux"))]
    None
}
