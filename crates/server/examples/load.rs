//! A small load generator for `daogou serve`: keep-alive HTTP/1.1 over std::net, one
//! connection per thread, a mixed read/write workload, latency percentiles at the end.
//!
//! ```sh
//! cargo run --release -p daogou-server --example load -- --addr 127.0.0.1:8080 --seconds 20 \
//!     --threads 8 --write-share 0.1 --users 800 --items 600
//! ```
//! Ids follow the demo shop (`u0000`, `p00000`), or `1..=n` with `--plain-ids true` (the scale
//! data of bench/gen_scale_implicit.py); `--key` sends `Authorization: Bearer KEY`;
//! `--requests N` stops after N requests in all (same work for instruction-count profiles);
//! `--rate R` paces the connections to R requests per second in all (0: as fast as they go);
//! `--write-latencies FILE` writes every acknowledged write's latency (µs, a line each), for
//! percentiles pooled over several runs.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

struct Opts {
    addr: String,
    seconds: f64,
    threads: usize,
    write_share: f64,
    users: u64,
    items: u64,
    key: Option<String>,
    plain_ids: bool,
    /// Stop after this many requests in all (0: run for `seconds`), for fixed-work profiles.
    requests: u64,
    /// Requests per second in all (0: unpaced).
    rate: f64,
    write_latencies: Option<String>,
}

fn opts() -> Opts {
    let mut o = Opts {
        addr: "127.0.0.1:8080".into(),
        seconds: 20.0,
        threads: 8,
        write_share: 0.1,
        users: 800,
        items: 600,
        key: None,
        plain_ids: false,
        requests: 0,
        rate: 0.0,
        write_latencies: None,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for w in args.chunks(2) {
        let v = w.get(1).cloned().unwrap_or_default();
        match w[0].as_str() {
            "--addr" => o.addr = v,
            "--seconds" => o.seconds = v.parse().expect("--seconds"),
            "--threads" => o.threads = v.parse().expect("--threads"),
            "--write-share" => o.write_share = v.parse().expect("--write-share"),
            "--users" => o.users = v.parse().expect("--users"),
            "--items" => o.items = v.parse().expect("--items"),
            "--key" => o.key = Some(v),
            "--plain-ids" => o.plain_ids = v == "true",
            "--requests" => o.requests = v.parse().expect("--requests"),
            "--rate" => o.rate = v.parse().expect("--rate"),
            "--write-latencies" => o.write_latencies = Some(v),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Conn {
    fn open(addr: &str) -> Conn {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).unwrap();
        Conn { r: BufReader::new(s.try_clone().unwrap()), w: s }
    }

    /// One request on the kept-alive connection; returns the status.
    fn call(&mut self, req: &[u8]) -> std::io::Result<u16> {
        self.w.write_all(req)?;
        let mut line = String::new();
        self.r.read_line(&mut line)?;
        let status: u16 = line.get(9..12).and_then(|c| c.parse().ok()).ok_or(std::io::ErrorKind::InvalidData)?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.r.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0u8; len];
        self.r.read_exact(&mut body)?;
        Ok(status)
    }
}

#[derive(Default)]
struct Tally {
    reads: Vec<u32>,  // µs
    writes: Vec<u32>, // µs
    errors: u64,
    events: u64,
}

fn pct(v: &mut [u32], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i] as f64 / 1000.0
}

fn main() {
    let o = opts();
    let deadline = Instant::now() + Duration::from_secs_f64(o.seconds);
    let auth = o.key.as_ref().map(|k| format!("Authorization: Bearer {k}\r\n")).unwrap_or_default();
    let start = Instant::now();
    let handles: Vec<_> = (0..o.threads)
        .map(|t| {
            let (addr, auth) = (o.addr.clone(), auth.clone());
            let (users, items, share, plain) = (o.users, o.items, o.write_share, o.plain_ids);
            // each connection's slot between requests when paced
            let every = (o.rate > 0.0).then(|| Duration::from_secs_f64(o.threads as f64 / o.rate));
            // this connection's share of a fixed request count (u64::MAX: until the deadline)
            let quota = match o.requests {
                0 => u64::MAX,
                r => r / o.threads as u64 + u64::from((t as u64) < r % o.threads as u64),
            };
            std::thread::spawn(move || {
                let mut rng = daogou_core::SeededRng::derive(0x9E37_79B9_7F4A_7C15, 7, t as u64);
                let mut conn = Conn::open(&addr);
                let mut tally = Tally::default();
                let mut n = 0u64;
                while n < quota && Instant::now() < deadline {
                    if let Some(every) = every {
                        // the n-th request of this connection is due at start + n·every
                        let due = start + every * n as u32;
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    n += 1;
                    let user = if plain { format!("{}", 1 + rng.next_u64() % users) } else { format!("u{:04}", rng.next_u64() % users) };
                    let item = if plain { format!("{}", 1 + rng.next_u64() % items) } else { format!("p{:05}", rng.next_u64() % items) };
                    let write = rng.f64() < share;
                    let req = if write {
                        let body = format!(r#"{{"user":"{user}","item":"{item}","kind":"view"}}"#);
                        format!(
                            "POST /events HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        )
                    } else {
                        format!("GET /users/{user}/recommendations?n=10 HTTP/1.1\r\nHost: {addr}\r\n{auth}\r\n")
                    };
                    let t0 = Instant::now();
                    match conn.call(req.as_bytes()) {
                        Ok(200) => {
                            let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
                            if write {
                                tally.writes.push(us);
                                tally.events += 1;
                            } else {
                                tally.reads.push(us);
                            }
                        }
                        Ok(_) => tally.errors += 1,
                        Err(_) => {
                            tally.errors += 1;
                            conn = Conn::open(&addr);
                        }
                    }
                }
                tally
            })
        })
        .collect();
    let mut all = Tally::default();
    for h in handles {
        let t = h.join().unwrap();
        all.reads.extend(t.reads);
        all.writes.extend(t.writes);
        all.errors += t.errors;
        all.events += t.events;
    }
    let secs = start.elapsed().as_secs_f64();
    let mut both: Vec<u32> = all.reads.iter().chain(&all.writes).copied().collect();
    if let Some(path) = &o.write_latencies {
        let lines: String = all.writes.iter().map(|us| format!("{us}\n")).collect();
        std::fs::write(path, lines).expect("--write-latencies: cannot write the file");
    }
    println!(
        "{{\"seconds\": {secs:.1}, \"threads\": {}, \"requests\": {}, \"requests_per_s\": {:.0}, \"reads_per_s\": {:.0}, \"events_per_s\": {:.0}, \"errors\": {}, \
\"p50_ms\": {:.2}, \"p95_ms\": {:.2}, \"p99_ms\": {:.2}, \"read_p50_ms\": {:.2}, \"read_p99_ms\": {:.2}, \"write_p50_ms\": {:.2}, \"write_p99_ms\": {:.2}, \"write_max_ms\": {:.2}}}",
        o.threads,
        both.len(),
        both.len() as f64 / secs,
        all.reads.len() as f64 / secs,
        all.events as f64 / secs,
        all.errors,
        pct(&mut both, 0.50),
        pct(&mut both, 0.95),
        pct(&mut both, 0.99),
        pct(&mut all.reads, 0.50),
        pct(&mut all.reads, 0.99),
        pct(&mut all.writes, 0.50),
        pct(&mut all.writes, 0.99),
        all.writes.iter().max().map_or(0.0, |&us| f64::from(us) / 1000.0),
    );
}
