//! The UCI Online Retail preset, for both headers in circulation: the original
//! (`InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country`) and
//! "Online Retail II" (`Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,
//! Country`). The header decides which one a file is; errors name the file's own columns.
//!
//! Each row with a CustomerID becomes an event: user = CustomerID, item = StockCode,
//! kind = Purchase (Return for invoices starting with `C`), value = |Quantity|, timestamp =
//! InvoiceDate read as UTC. Rows without a CustomerID are a documented skip (`missing
//! CustomerID`, never an error, even in strict mode) but still describe the catalogue.
//! A non-cancellation row with Quantity ≤ 0 is skipped as `non-positive quantity`.
//! The catalogue has one entry per StockCode: title = first non-empty Description (trimmed),
//! price = first positive UnitPrice, and `non_product = "true"` for postage, fees, discounts
//! and vouchers (see [`is_non_product`]).

use std::path::Path;

use csv::ByteRecord;
use daogou_core::EventKind;

use crate::delimited::{cell, csv_reader, missing};
use crate::options::LoadOptions;
use crate::source::{find_column, header_names, open, parse_f64, Catalogue, Ctx, Sink};
use crate::Result;

/// True for Online Retail stock codes that are not products: postage (`POST`, `DOT`),
/// discount `D`, manual `M`/`m`, `BANK CHARGES`, `AMAZONFEE`, `CRUK` commission, `PADS`,
/// bad-debt adjustment `B`, carriage `C2`, samples `S`, and gift vouchers `gift_0001_*`.
pub fn is_non_product(stock_code: &str) -> bool {
    matches!(
        stock_code.trim(),
        "POST" | "D" | "M" | "m" | "BANK CHARGES" | "DOT" | "AMAZONFEE" | "CRUK" | "PADS" | "B" | "C2" | "S"
    ) || stock_code.trim().starts_with("gift_0001_")
}

/// The columns read, in the order invoice, stock code, description, quantity, date, unit
/// price, customer: the original release and the "Online Retail II" renames.
const COLUMNS: [&str; 7] =
    ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"];
const COLUMNS_II: [&str; 7] =
    ["Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID"];

/// Which header the file has: the original when it names `InvoiceNo`, Online Retail II when
/// it names `Invoice` (and not `InvoiceNo`); otherwise the original, so that the missing-column
/// error lists what the preset expects.
fn columns_of(header: &[String]) -> &'static [&'static str; 7] {
    let has = |name| find_column(header, name).is_some();
    if !has("InvoiceNo") && has("Invoice") {
        &COLUMNS_II
    } else {
        &COLUMNS
    }
}

pub(crate) fn read(path: &Path, _opts: &LoadOptions, ctx: &mut Ctx, sink: &mut dyn Sink) -> Result<()> {
    let mut rdr = csv_reader(open(path)?, ctx)?;
    let mut rec = ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).map_err(|e| ctx.csv_err(e))? {
        return Ok(());
    }
    let header = header_names(&rec);
    let columns = columns_of(&header);
    let mut idx = [0usize; 7];
    for (k, name) in columns.iter().enumerate() {
        idx[k] = find_column(&header, name).ok_or_else(|| missing(&header, name, name, &ctx.file))?;
    }
    let [inv_i, stock_i, desc_i, qty_i, date_i, price_i, cust_i] = idx;
    let [inv_n, stock_n, desc_n, qty_n, date_n, price_n, _] = *columns;
    let ncols = header.len();
    let mut cat = Catalogue::default();

    while rdr.read_byte_record(&mut rec).map_err(|e| ctx.csv_err(e))? {
        ctx.report.lines += 1;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != ncols {
            let n = rec.len();
            ctx.bad(line, "columns", "wrong column count", || format!("expected {ncols} fields, found {n}"))?;
            continue;
        }
        let customer = std::str::from_utf8(&rec[cust_i]).map(str::trim).unwrap_or("");
        if customer.is_empty() {
            // A guest line: not an event, but it still describes the product.
            if let (Ok(code), Ok(desc)) = (std::str::from_utf8(&rec[stock_i]), std::str::from_utf8(&rec[desc_i])) {
                let price = std::str::from_utf8(&rec[price_i]).ok().and_then(parse_f64);
                describe(&mut cat, code.trim(), desc.trim(), price);
            }
            // The reason keeps one spelling for both headers, so reports compare.
            ctx.report.skip("missing CustomerID");
            continue;
        }
        // Exports through floats write 17850.0.
        let customer = customer.strip_suffix(".0").unwrap_or(customer);
        let invoice = cell!(ctx, rec, inv_i, inv_n, line);
        let code = cell!(ctx, rec, stock_i, stock_n, line);
        let desc = cell!(ctx, rec, desc_i, desc_n, line);
        let qty_s = cell!(ctx, rec, qty_i, qty_n, line);
        let date_s = cell!(ctx, rec, date_i, date_n, line);
        let price_s = cell!(ctx, rec, price_i, price_n, line);
        if code.is_empty() {
            ctx.bad(line, stock_n, "missing StockCode", || "empty stock code".into())?;
            continue;
        }
        let Some(qty) = parse_f64(qty_s) else {
            ctx.bad(line, qty_n, "bad Quantity", || format!("expected a number, found `{qty_s}`"))?;
            continue;
        };
        let Some(ts) = ctx.time.parse(date_s) else {
            ctx.bad(line, date_n, "bad InvoiceDate", || format!("cannot parse date `{date_s}`"))?;
            continue;
        };
        let Some(price) = parse_f64(price_s) else {
            ctx.bad(line, price_n, &format!("bad {price_n}"), || format!("expected a number, found `{price_s}`"))?;
            continue;
        };
        describe(&mut cat, code, desc, Some(price));
        let kind = if invoice.starts_with(['C', 'c']) { EventKind::Return } else { EventKind::Purchase };
        if qty == 0.0 || (kind == EventKind::Purchase && qty < 0.0) {
            ctx.report.skip("non-positive quantity");
            continue;
        }
        match sink.event(customer, code, kind, qty.abs() as f32, ts, None) {
            None => ctx.report.events += 1,
            Some(reason) => ctx.report.skip(reason),
        }
    }
    cat.flush(sink, &mut ctx.report);
    Ok(())
}

fn describe(cat: &mut Catalogue, code: &str, desc: &str, price: Option<f64>) {
    if code.is_empty() {
        return;
    }
    let e = cat.entry(code, |it| {
        if is_non_product(code) {
            it.attributes.insert("non_product".into(), "true".into());
        }
    });
    if e.title.is_empty() && !desc.is_empty() {
        e.title = desc.to_owned();
    }
    if e.price.is_none() {
        e.price = price.filter(|p| *p > 0.0);
    }
}
