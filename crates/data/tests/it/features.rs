use daogou_core::{Baskets, EventKind, Interaction, Item};
use daogou_data::features::*;

const D: i64 = 86_400;

fn ev(user: u32, item: u32, kind: EventKind, t: i64) -> Interaction {
    Interaction { user, item, value: 1.0, timestamp: t, kind }
}

fn catalogue() -> Vec<Item> {
    (0..6)
        .map(|i| {
            let mut it = Item::new(format!("p{i}"));
            it.category = Some(if i < 3 { "mugs" } else { "tea" }.to_owned());
            it.price = Some(2.0 + i as f64);
            it.attributes.insert("review_score".into(), format!("{}", 3 + i % 2));
            it
        })
        .collect()
}

fn shop() -> Vec<Interaction> {
    use EventKind::*;
    let mut e = vec![
        ev(0, 1, Purchase, 10 * D),
        ev(0, 1, Purchase, 10 * D),
        ev(0, 2, Purchase, 10 * D),
        ev(0, 1, Purchase, 40 * D),
        ev(0, 4, View, 59 * D),
        ev(0, 4, AddToCart, 59 * D + 600),
        ev(0, 5, View, 59 * D + 900),
        ev(1, 1, Purchase, 20 * D),
        ev(1, 3, Purchase, 50 * D),
        ev(1, 3, Purchase, 55 * D),
        ev(2, 0, View, 58 * D),
    ];
    e.push(ev(2, 1, Return, 30 * D));
    e
}

fn rows(events: &[Interaction], cut: i64) -> (Vec<String>, Vec<Vec<f32>>) {
    let cfg = FeatureConfig { baskets: Baskets::Time, purchases: true, session_gap_hours: 1.0 };
    let items = ItemTable::build(events, &catalogue(), 6, cut, &cfg);
    let mut out = Vec::new();
    for u in 0..3u32 {
        let mine: Vec<Interaction> = events.iter().filter(|e| e.user == u).copied().collect();
        let ctx = UserContext::new(&mine, cut, &items, &cfg);
        for i in 0..6 {
            let mut r = Vec::new();
            ctx.row(i, &items, &mut r);
            out.push(r);
        }
    }
    (row_names(&items), out)
}

fn value(names: &[String], row: &[f32], name: &str) -> f32 {
    row[names.iter().position(|n| n == name).unwrap_or_else(|| panic!("no feature {name}"))]
}

#[test]
fn events_after_the_cut_change_nothing() {
    let cut = 60 * D;
    let before = shop();
    let (names, base) = rows(&before, cut);
    assert_eq!(names.len(), base[0].len());
    // add events after the cut, and change the ones already after it
    let mut later = before.clone();
    later.push(ev(0, 3, EventKind::Purchase, 61 * D));
    later.push(ev(1, 1, EventKind::Purchase, cut));
    later.push(ev(2, 5, EventKind::View, 70 * D));
    later.push(ev(0, 4, EventKind::Purchase, 90 * D));
    let (_, after) = rows(&later, cut);
    let bits = |r: &Vec<Vec<f32>>| r.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&base), bits(&after));
    let mut changed = later.clone();
    for e in changed.iter_mut().filter(|e| e.timestamp >= cut) {
        e.item = (e.item + 1) % 6;
        e.timestamp += 5 * D;
    }
    assert_eq!(bits(&base), bits(&rows(&changed, cut).1));
    // while an event before the cut does change them
    let mut earlier = before.clone();
    earlier.push(ev(0, 3, EventKind::Purchase, 59 * D));
    assert_ne!(bits(&base), bits(&rows(&earlier, cut).1));
}

#[test]
fn features_say_what_the_history_holds() {
    let cut = 60 * D;
    let (names, r) = rows(&shop(), cut);
    let row = |u: usize, i: usize| &r[u * 6 + i];
    // user 0 bought item 1 in two baskets (two lines on the first invoice count once)
    assert_eq!(value(&names, row(0, 1), "pair.baskets"), 2f32.ln_1p());
    assert_eq!(value(&names, row(0, 1), "pair.days_since_bought"), 20.0);
    assert_eq!(value(&names, row(0, 1), "pair.own_interval_days"), 30.0);
    assert_eq!(value(&names, row(0, 1), "pair.in_last_basket"), 1.0);
    assert_eq!(value(&names, row(0, 2), "pair.in_last_basket"), 0.0);
    assert_eq!(value(&names, row(0, 0), "user.baskets"), 2f32.ln_1p());
    // the last session: a view, a cart and a view of tea, ending 1 day − 900 s before the cut
    assert_eq!(value(&names, row(0, 4), "pair.session_carted"), 1.0);
    assert_eq!(value(&names, row(0, 4), "pair.session_category_share"), 1.0);
    assert_eq!(value(&names, row(0, 1), "pair.session_category_share"), 0.0);
    assert!((value(&names, row(0, 0), "user.session_age_hours") - (24.0 - 0.25)).abs() < 1e-4);
    // item 1: three buyers-or-returners? no: two buyers (users 0 and 1), one of whom repeats
    assert_eq!(value(&names, row(0, 1), "item.buyers"), 2f32.ln_1p());
    assert_eq!(value(&names, row(0, 3), "item.repeat_interval_days"), 5.0);
    assert_eq!(value(&names, row(0, 1), "item.repeat_interval_days"), 30.0);
    assert_eq!(value(&names, row(0, 5), "item.price_band"), 1.0);
    assert_eq!(value(&names, row(0, 3), "item.price_band"), 0.0);
    assert_eq!(value(&names, row(0, 4), "item.attr.review_score"), 3.0);
    // category affinity: user 0 bought mugs only
    assert!(value(&names, row(0, 0), "pair.category_bought_share") > 0.7);
    assert_eq!(value(&names, row(0, 4), "pair.category_bought_share"), 0.0);
    // no purchase yet: NaN, not zero
    assert!(value(&names, row(2, 0), "pair.days_since_bought").is_nan());
    assert!(value(&names, row(2, 0), "user.basket_interval_days").is_nan());
}
