//! The full-text index: tantivy in RAM, one document per live item, BM25 with field boosts
//! (title > category = brand > description/attributes), jieba for Chinese, English stems,
//! synonyms as alternative terms and fuzzy terms for longer English words.

use std::sync::Mutex;

use daogou_core::Item;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, NumericOptions, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{DocId, Index, IndexReader, IndexWriter, ReloadPolicy, Score, SegmentReader, TantivyDocument, Term};

use crate::text::{self, RAW, STEMMED};
use crate::Error;

const W_TITLE: f32 = 3.0;
const W_CATEGORY: f32 = 2.0;
const W_BRAND: f32 = 2.0;
const W_BODY: f32 = 1.0;
const W_FUZZY: f32 = 0.5;

/// Attribute keys that are not descriptive text (they are indexed elsewhere or are numbers).
const SKIP_ATTRS: &[&str] = &[
    "title_zh",
    "title_en",
    "category_zh",
    "brand_zh",
    "currency",
    "review_score",
    "review_count",
    "consumable",
    "sizes",
    "sales",
    "sold",
];

/// One thing the shopper asked for, with alternative spellings (synonyms, other language).
#[derive(Debug, Clone)]
pub struct Concept {
    pub alts: Vec<String>,
    pub weight: f32,
}

struct Fields {
    idx: Field,
    title: Field,
    category: Field,
    brand: Field,
    body: Field,
    words: Field,
}

pub struct SearchIndex {
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    stem: TextAnalyzer,
    raw: TextAnalyzer,
}

fn text_field(sb: &mut tantivy::schema::SchemaBuilder, name: &str, analyzer: &str) -> Field {
    let idx = TextFieldIndexing::default().set_tokenizer(analyzer).set_index_option(IndexRecordOption::WithFreqs);
    sb.add_text_field(name, TextOptions::default().set_indexing_options(idx))
}

impl SearchIndex {
    pub fn new(items: &[Item]) -> Result<SearchIndex, Error> {
        let mut sb = Schema::builder();
        let idx = sb.add_u64_field("idx", NumericOptions::default().set_indexed().set_fast());
        let f = Fields {
            idx,
            title: text_field(&mut sb, "title", STEMMED),
            category: text_field(&mut sb, "category", STEMMED),
            brand: text_field(&mut sb, "brand", STEMMED),
            body: text_field(&mut sb, "body", STEMMED),
            words: text_field(&mut sb, "words", RAW),
        };
        let index = Index::create_in_ram(sb.build());
        index.tokenizers().register(STEMMED, text::index_analyzer(true));
        index.tokenizers().register(RAW, text::index_analyzer(false));
        // One indexing thread: the guide shares the machine with the server and the models.
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 64 << 20)?;
        for (i, it) in items.iter().enumerate() {
            writer.add_document(Self::doc(&f, i as u32, it))?;
        }
        writer.commit()?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(writer),
            f,
            stem: text::query_analyzer(true),
            raw: text::query_analyzer(false),
        })
    }

    fn doc(f: &Fields, i: u32, it: &Item) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_u64(f.idx, u64::from(i));
        d.add_text(f.title, &it.title);
        for k in ["title_zh", "title_en"] {
            if let Some(v) = it.attributes.get(k) {
                d.add_text(f.title, v);
            }
        }
        if let Some(c) = &it.category {
            d.add_text(f.category, c.replace('/', " "));
        }
        if let Some(c) = it.attributes.get("category_zh") {
            d.add_text(f.category, c.replace('/', " "));
        }
        if let Some(b) = &it.brand {
            d.add_text(f.brand, b);
        }
        if let Some(b) = it.attributes.get("brand_zh") {
            d.add_text(f.brand, b);
        }
        for (k, v) in &it.attributes {
            if SKIP_ATTRS.contains(&k.as_str()) || v.trim().parse::<f64>().is_ok() {
                continue;
            }
            d.add_text(f.body, v);
        }
        let words = [Some(it.title.as_str()), it.brand.as_deref(), it.category.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        d.add_text(f.words, words.replace('/', " "));
        d
    }

    fn commit(&self, w: &mut IndexWriter) -> Result<(), Error> {
        w.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    pub fn upsert(&self, i: u32, it: &Item) -> Result<(), Error> {
        let mut w = self.writer.lock().map_err(|_| Error::Poisoned)?;
        w.delete_term(Term::from_field_u64(self.f.idx, u64::from(i)));
        w.add_document(Self::doc(&self.f, i, it))?;
        self.commit(&mut w)
    }

    pub fn remove(&self, i: u32) -> Result<(), Error> {
        let mut w = self.writer.lock().map_err(|_| Error::Poisoned)?;
        w.delete_term(Term::from_field_u64(self.f.idx, u64::from(i)));
        self.commit(&mut w)
    }

    fn token_query(&self, stem: &str, raw: &str) -> Box<dyn Query> {
        let term = |field: Field, w: f32| -> (Occur, Box<dyn Query>) {
            let q = TermQuery::new(Term::from_field_text(field, stem), IndexRecordOption::WithFreqs);
            (Occur::Should, Box::new(BoostQuery::new(Box::new(q), w)))
        };
        let mut clauses = vec![
            term(self.f.title, W_TITLE),
            term(self.f.category, W_CATEGORY),
            term(self.f.brand, W_BRAND),
            term(self.f.body, W_BODY),
        ];
        // Typo tolerance for longer English words: one edit from 5 letters, two from 9.
        let n = raw.chars().count();
        if n >= 5 && raw.chars().all(|c| c.is_ascii_alphabetic()) {
            let d = if n >= 9 { 2 } else { 1 };
            let q = FuzzyTermQuery::new(Term::from_field_text(self.f.words, raw), d, true);
            clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), W_FUZZY))));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Query for a list of concepts: a document matches when it matches any concept; within an
    /// alternative every word must match (in some field).
    pub fn query(&self, concepts: &[Concept]) -> Option<Box<dyn Query>> {
        let mut top: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for c in concepts {
            let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            let mut seen: Vec<Vec<String>> = Vec::new();
            for a in &c.alts {
                let stems = text::tokens(&self.stem, a);
                let raws = text::tokens(&self.raw, a);
                if stems.is_empty() || stems.len() != raws.len() || seen.contains(&stems) {
                    continue;
                }
                let mut toks: Vec<(Occur, Box<dyn Query>)> =
                    stems.iter().zip(&raws).map(|(s, r)| (Occur::Must, self.token_query(s, r))).collect();
                seen.push(stems);
                let q: Box<dyn Query> =
                    if toks.len() == 1 { toks.pop().unwrap().1 } else { Box::new(BooleanQuery::new(toks)) };
                alts.push((Occur::Should, q));
            }
            if alts.is_empty() {
                continue;
            }
            let q: Box<dyn Query> = Box::new(BooleanQuery::new(alts));
            top.push((Occur::Should, Box::new(BoostQuery::new(q, c.weight))));
        }
        if top.is_empty() {
            None
        } else {
            Some(Box::new(BooleanQuery::new(top)))
        }
    }

    /// Every matching item with its BM25 score (unordered).
    pub fn scores(&self, concepts: &[Concept]) -> Result<Vec<(u32, f32)>, Error> {
        let Some(q) = self.query(concepts) else { return Ok(Vec::new()) };
        let searcher = self.reader.searcher();
        Ok(searcher.search(&*q, &AllScores)?)
    }
}

/// Collects (item index, score) for every match.
struct AllScores;

struct SegmentScores {
    idx: Column<u64>,
    out: Vec<(u32, f32)>,
}

impl Collector for AllScores {
    type Fruit = Vec<(u32, f32)>;
    type Child = SegmentScores;

    fn for_segment(&self, _ord: u32, segment: &SegmentReader) -> tantivy::Result<SegmentScores> {
        Ok(SegmentScores { idx: segment.fast_fields().u64("idx")?, out: Vec::new() })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(u32, f32)>>) -> tantivy::Result<Vec<(u32, f32)>> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for SegmentScores {
    type Fruit = Vec<(u32, f32)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if let Some(i) = self.idx.first(doc) {
            self.out.push((i as u32, score));
        }
    }

    fn harvest(self) -> Vec<(u32, f32)> {
        self.out
    }
}
