//! JSON Lines: one object per line. An object with the user key (default `user`) is an event
//! (keys per the [`ColumnMapping`](crate::ColumnMapping): `item`, `kind`, `value`,
//! `timestamp` as a number or a string, `query`); an object with `id` and no user key is a
//! catalogue item with the fields of [`Item`](daogou_core::Item). Ids may be strings or numbers.
//! Without a kind, an event with a value is a rating and one without is a purchase (as for CSV).

use std::io::BufRead;
use std::path::Path;

use daogou_core::{EventKind, Item};
use serde_json::Value;

use crate::options::LoadOptions;
use crate::source::{open, parse_kind, Ctx, Sink};
use crate::Result;

/// A string id from a string or number.
fn id_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub(crate) fn read(path: &Path, opts: &LoadOptions, ctx: &mut Ctx, sink: &mut dyn Sink) -> Result<()> {
    let m = &opts.mapping;
    let mut input = open(path)?;
    let mut buf = Vec::with_capacity(512);
    let mut line = 0u64;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf).map_err(|e| ctx.io(e))? == 0 {
            break;
        }
        line += 1;
        let s = match std::str::from_utf8(&buf) {
            Ok(s) => s.trim(),
            Err(e) => {
                ctx.report.lines += 1;
                ctx.bad(line, "json", "bad UTF-8", || format!("invalid UTF-8 ({e})"))?;
                continue;
            }
        };
        if s.is_empty() {
            continue;
        }
        ctx.report.lines += 1;
        let mut obj = match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(o)) => o,
            Ok(_) => {
                ctx.bad(line, "json", "bad JSON", || "expected a JSON object".into())?;
                continue;
            }
            Err(e) => {
                ctx.bad(line, "json", "bad JSON", || e.to_string())?;
                continue;
            }
        };
        if let Some(u) = obj.get(&m.user) {
            let Some(user) = id_of(u) else {
                ctx.bad(line, &m.user, "bad user", || format!("expected a string or number, found {u}"))?;
                continue;
            };
            let item = match obj.get(&m.item).map(id_of) {
                None => String::new(),
                Some(Some(i)) => i,
                Some(None) => {
                    ctx.bad(line, &m.item, "bad item", || "expected a string or number".into())?;
                    continue;
                }
            };
            let value_v = m.value.as_ref().and_then(|k| obj.get(k)).filter(|v| !v.is_null());
            let kind = match m.kind.as_ref().and_then(|k| obj.get(k)).filter(|v| !v.is_null()) {
                None => {
                    if value_v.is_some() {
                        EventKind::Rating
                    } else {
                        EventKind::Purchase
                    }
                }
                Some(k) => match k.as_str().and_then(parse_kind) {
                    Some(kind) => kind,
                    None => {
                        let key = m.kind.as_deref().unwrap_or("kind");
                        ctx.bad(line, key, "bad kind", || {
                            format!("unknown event kind {k} (expected one of: view, click, search, add_to_cart, purchase, return, rating)")
                        })?;
                        continue;
                    }
                },
            };
            let value = match value_v {
                None => 1.0,
                Some(v) => match v.as_f64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())) {
                    Some(x) if x.is_finite() => x as f32,
                    _ => {
                        let key = m.value.as_deref().unwrap_or("value");
                        ctx.bad(line, key, &format!("bad {key}"), || format!("expected a number, found {v}"))?;
                        continue;
                    }
                },
            };
            let ts_v = m.timestamp.as_ref().and_then(|k| obj.get(k)).filter(|v| !v.is_null());
            let timestamp = match ts_v {
                None => 0,
                Some(v) => match text(Some(v)).and_then(|s| ctx.time.parse(&s)) {
                    Some(t) => t,
                    None => {
                        let key = m.timestamp.as_deref().unwrap_or("timestamp");
                        ctx.bad(line, key, &format!("bad {key}"), || format!("cannot parse timestamp {v}"))?;
                        continue;
                    }
                },
            };
            let query = m.query.as_ref().and_then(|k| obj.get(k)).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
            if user.is_empty() {
                ctx.report.skip("missing user");
                continue;
            }
            if item.is_empty() && kind != EventKind::Search {
                ctx.report.skip("missing item");
                continue;
            }
            match sink.event(&user, &item, kind, value, timestamp, query) {
                None => ctx.report.events += 1,
                Some(reason) => ctx.report.skip(reason),
            }
        } else if let Some(id) = obj.get("id") {
            if let Value::Number(n) = id {
                let s = n.to_string();
                obj.insert("id".into(), Value::String(s));
            }
            // A created_at given as a date string is accepted too.
            if let Some(Value::String(s)) = obj.get("created_at") {
                match crate::parse_time(s) {
                    Some(t) => {
                        obj.insert("created_at".into(), Value::from(t));
                    }
                    None => {
                        let s = s.clone();
                        ctx.bad(line, "created_at", "bad created_at", || format!("cannot parse timestamp `{s}`"))?;
                        continue;
                    }
                }
            }
            match serde_json::from_value::<Item>(Value::Object(obj)) {
                Ok(item) if !item.id.trim().is_empty() => {
                    ctx.report.items += 1;
                    sink.item(item, true);
                }
                Ok(_) => ctx.bad(line, "id", "missing id", || "empty item id".into())?,
                Err(e) => ctx.bad(line, "item", "bad item", || e.to_string())?,
            }
        } else {
            let key = m.user.clone();
            ctx.bad(line, "json", "neither event nor item", || {
                format!("an object needs `{key}` (an event) or `id` (a catalogue item)")
            })?;
        }
    }
    Ok(())
}
