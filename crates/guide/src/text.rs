//! Text helpers shared by the index and the parser: normalisation, script detection and the
//! tantivy analyzers (jieba for Chinese, lower-casing, English stemming).

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream, Tokenizer,
};
use tantivy_jieba::JiebaTokenizer;

/// Analyzer name for the stemmed fields (title, category, brand, body).
pub const STEMMED: &str = "daogou_stemmed";
/// Analyzer name for the raw-word field used by fuzzy (typo-tolerant) matching.
pub const RAW: &str = "daogou_raw";

/// Index-side analyzer: jieba in search mode (whole words and their sub-words), lower case,
/// English stems. `JiebaTokenizer::new()` uses tantivy-jieba's global dictionary, so the
/// dictionary is loaded once per process however often the analyzer is cloned.
pub fn index_analyzer(stem: bool) -> TextAnalyzer {
    analyzer(JiebaTokenizer::new(), stem)
}

/// Query-side analyzer: jieba's default (non-overlapping) cut, so a query word matches either a
/// whole indexed word or one of the sub-words the search-mode index holds.
pub fn query_analyzer(stem: bool) -> TextAnalyzer {
    analyzer(JiebaTokenizer::with_search_mode(false), stem)
}

/// The filters both sides share: long tokens and punctuation dropped, lower case, and
/// English stems when `stem`.
fn analyzer(tokenizer: JiebaTokenizer, stem: bool) -> TextAnalyzer {
    let b = TextAnalyzer::builder(tokenizer).filter(RemoveLongFilter::limit(40)).filter(WordsOnly).filter(LowerCaser);
    if stem {
        b.filter(Stemmer::new(Language::English)).build()
    } else {
        b.build()
    }
}

/// Drops tokens without any letter or digit (jieba emits spaces and punctuation as tokens;
/// tantivy's `AlphaNumOnlyFilter` would also drop every Chinese word).
#[derive(Clone)]
pub struct WordsOnly;

#[derive(Clone)]
pub struct WordsOnlyWrapper<T>(T);

pub struct WordsOnlyStream<T> {
    tail: T,
}

impl TokenFilter for WordsOnly {
    type Tokenizer<T: Tokenizer> = WordsOnlyWrapper<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> WordsOnlyWrapper<T> {
        WordsOnlyWrapper(tokenizer)
    }
}

impl<T: Tokenizer> Tokenizer for WordsOnlyWrapper<T> {
    type TokenStream<'a> = WordsOnlyStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        WordsOnlyStream { tail: self.0.token_stream(text) }
    }
}

impl<T: TokenStream> TokenStream for WordsOnlyStream<T> {
    fn advance(&mut self) -> bool {
        while self.tail.advance() {
            if self.tail.token().text.chars().any(char::is_alphanumeric) {
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.tail.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.tail.token_mut()
    }
}

/// All tokens of `text` under `analyzer`.
pub fn tokens(analyzer: &TextAnalyzer, text: &str) -> Vec<String> {
    let mut a = analyzer.clone();
    let mut ts = a.token_stream(text);
    let mut out = Vec::new();
    while ts.advance() {
        out.push(ts.token().text.clone());
    }
    out
}

/// True for CJK ideographs (the Chinese part of a request).
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2A6DF)
}

pub fn has_cjk(s: &str) -> bool {
    s.chars().any(is_cjk)
}

/// Full-width ASCII to half-width, ideographic space and punctuation to ASCII, lower case.
/// Keeps byte offsets meaningful only for the returned string.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '￥' => '¥',
            '、' => ',',
            '。' => '.',
            '〜' => '~',
            '—' | '–' => '-',
            '’' | '‘' => '\'',
            _ => c,
        };
        for l in c.to_lowercase() {
            out.push(l);
        }
    }
    out
}

/// Is `gap` (between two words) one comma, slash or ampersand written without a space, as
/// in "TEA,COFFEE"? Such a gap joins a phrase like a space does.
pub fn glued(gap: &str) -> bool {
    matches!(gap, "," | "/" | "&")
}

/// `s` with every glued gap ([`glued`]) between two ASCII letters or digits made a space, so
/// that "tea,coffee" holds the phrase "tea coffee".
pub fn unglue(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        let between = i > 0 && i + 1 < b.len() && b[i - 1].is_ascii_alphanumeric() && b[i + 1].is_ascii_alphanumeric();
        if between && glued(&s[i..i + c.len_utf8()]) {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Does `hay` (lower case) contain `word` (lower case) as a whole word (ASCII word
/// boundaries; CJK needles match anywhere)?
pub fn contains_word(hay: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    if has_cjk(word) {
        return hay.contains(word);
    }
    let bytes = hay.as_bytes();
    let mut from = 0;
    while let Some(pos) = hay[from..].find(word) {
        let s = from + pos;
        let e = s + word.len();
        let before = s == 0 || !bytes[s - 1].is_ascii_alphanumeric();
        let after = e == bytes.len() || !bytes[e].is_ascii_alphanumeric();
        // Plural tolerance: "shoe" in "shoes".
        let plural = !after && (hay[e..].starts_with('s') || hay[e..].starts_with("es")) && {
            let k = if hay[e..].starts_with("es") && !hay[e..].starts_with("s") { e + 2 } else { e + 1 };
            k == bytes.len() || !bytes[k].is_ascii_alphanumeric()
        };
        if before && (after || plural) {
            return true;
        }
        from = s + 1;
        while !hay.is_char_boundary(from) {
            from += 1;
        }
    }
    false
}

/// Money in the shop's currency, for replies and reasons.
pub fn money(amount: f64, currency: &str) -> String {
    let v = if (amount - amount.round()).abs() < 0.005 {
        format!("{}", amount.round() as i64)
    } else {
        format!("{amount:.2}")
    };
    match currency {
        "CNY" | "RMB" => format!("¥{v}"),
        "USD" => format!("${v}"),
        "EUR" => format!("€{v}"),
        "GBP" => format!("£{v}"),
        c => format!("{v} {c}"),
    }
}
