//! What the generated evaluation sets share: a seeded generator and the scoring of one request
//! against an oracle on the raw item data. The public datasets are found by
//! `daogou_core::datasets::shared` (SKIPPED when missing, a failure with `CI=true`).
//!
//! * precision: every returned item meets every hard constraint of its request;
//! * completeness: at least min(5, number of matching items) items are returned;
//! * "cheapest" requests are answered cheapest first.

use daogou_core::Item;
use daogou_guide::{AskRequest, Guide};

/// splitmix64: a seeded generator without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
}

/// A generated request: its text and the hard constraints it stands for.
pub trait Oracle {
    fn text(&self) -> &str;
    fn cheapest(&self) -> bool;
    /// Does the raw item meet every hard constraint?
    fn meets(&self, it: &Item) -> bool;
}

#[derive(Default)]
pub struct Score {
    pub requests: usize,
    pub returned: usize,
    pub precise_items: usize,
    pub precise_requests: usize,
    pub complete: usize,
    pub sorted: usize,
    pub cheapest: usize,
    pub failures: Vec<String>,
}

impl Score {
    pub fn precision(&self) -> f64 {
        self.precise_items as f64 / self.returned.max(1) as f64
    }

    pub fn completeness(&self) -> f64 {
        self.complete as f64 / self.requests.max(1) as f64
    }

    /// Ask `c` and score the answer against the raw `items` (the guide's item indices).
    pub fn ask(&mut self, g: &Guide, items: &[Item], c: &impl Oracle) {
        let a = g.ask(&AskRequest { text: c.text().to_owned(), n: Some(10), ..Default::default() }, None, &[]).unwrap();
        let matching = items.iter().filter(|it| c.meets(it)).count();
        self.requests += 1;
        let mut ok = true;
        for p in &a.items {
            self.returned += 1;
            let it = &items[p.index as usize];
            if c.meets(it) {
                self.precise_items += 1;
            } else {
                ok = false;
                self.failures.push(format!(
                    "imprecise: {} → {} ({:?}); parse {:?}",
                    c.text(),
                    it.title,
                    it.attributes,
                    a.parse
                ));
            }
        }
        self.precise_requests += ok as usize;
        if a.items.len() >= matching.min(5) {
            self.complete += 1;
        } else {
            self.failures.push(format!(
                "incomplete: {} → {} of {matching}; parse {:?}",
                c.text(),
                a.items.len(),
                a.parse
            ));
        }
        if c.cheapest() {
            self.cheapest += 1;
            let prices: Vec<f64> = a.items.iter().filter_map(|p| p.price).collect();
            if prices.windows(2).all(|w| w[0] <= w[1]) {
                self.sorted += 1;
            } else {
                self.failures.push(format!("unsorted: {}", c.text()));
            }
        }
    }

    /// One line of figures, then the first failures.
    pub fn report(&self, name: &str) {
        eprintln!(
            "{name}: {} requests, {} items returned; precision {:.4} of items ({:.4} of requests), completeness {:.4}, cheapest first {}/{}",
            self.requests,
            self.returned,
            self.precision(),
            self.precise_requests as f64 / self.requests.max(1) as f64,
            self.completeness(),
            self.sorted,
            self.cheapest
        );
        for f in self.failures.iter().take(15) {
            eprintln!("  {f}");
        }
    }
}

/// Ask the sets generated with the dev and the held-out seed, report both under `name`, and
/// hold the dev part to the bar (the held-out part is only reported).
pub fn run_dev_and_held_out<C: Oracle>(
    name: &str,
    g: &Guide,
    items: &[Item],
    seeds: (u64, u64),
    generate: impl Fn(u64) -> Vec<C>,
) {
    let (mut dev, mut held) = (Score::default(), Score::default());
    for (seed, s) in [(seeds.0, &mut dev), (seeds.1, &mut held)] {
        let cases = generate(seed);
        for c in cases.iter().take(6) {
            eprintln!("example: {}", c.text());
        }
        for c in &cases {
            s.ask(g, items, c);
        }
    }
    dev.report(&format!("{name} dev"));
    held.report(&format!("{name} held-out"));
    assert!(dev.requests + held.requests >= 1000);
    assert!(dev.precision() >= 0.99, "dev precision {:.4}", dev.precision());
    assert!(dev.completeness() >= 0.97, "dev completeness {:.4}", dev.completeness());
    assert_eq!(dev.sorted, dev.cheapest, "cheapest requests are answered cheapest first");
}

/// Words of `s`, lower case, split at anything but ASCII letters and digits.
pub fn words(s: &str) -> Vec<String> {
    s.to_lowercase().split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

/// Do two words name the same thing up to a plural ending (candle / candles, box / boxes)?
pub fn same_word(a: &str, b: &str) -> bool {
    let plural = |x: &str, y: &str| y.strip_prefix(x).is_some_and(|rest| rest == "s" || rest == "es");
    a == b || plural(a, b) || plural(b, a)
}

/// Every word that [`same_word`] pairs with `w` (for an index looked up by exact words).
pub fn same_word_forms(w: &str) -> Vec<String> {
    let mut forms = vec![w.to_owned(), format!("{w}s"), format!("{w}es")];
    forms.extend([w.strip_suffix('s'), w.strip_suffix("es")].into_iter().flatten().map(str::to_owned));
    forms
}

/// Does `hay` (words) hold `phrase` (words) as consecutive words, up to plural endings?
pub fn holds_phrase(hay: &[String], phrase: &[String]) -> bool {
    !phrase.is_empty()
        && hay.len() >= phrase.len()
        && hay.windows(phrase.len()).any(|w| w.iter().zip(phrase).all(|(a, b)| same_word(a, b)))
}

/// A price a shopper would type: two decimals at most, no trailing zeros.
pub fn show_price(p: f64) -> String {
    let s = format!("{p:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}
