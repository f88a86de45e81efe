//! # daogou-modelfile
//!
//! A fitted model on disk, loadable without retraining.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! "DAOGOUMF"            8 bytes  magic
//! format version        u32      FORMAT_VERSION
//! payload length        u64      n
//! payload               n bytes  a safetensors file: the model's arrays (`model.*`), the
//!                                user histories (`history.*`) and, in its `__metadata__`
//!                                under "manifest", a readable JSON manifest
//! CRC-32 (IEEE)         u32      of every byte before it
//! ```
//!
//! The manifest names the model kind and parameters, the daogou version, the training data
//! fingerprint and size, the external id maps, the model's scalars and an inventory of the
//! arrays. The payload is plain safetensors at a fixed offset, so it can be memory-mapped or
//! read by any safetensors tool. Loading verifies magic, version, length and checksum before
//! parsing anything, then rebuilds the model through its registered loader, which checks
//! every array: a damaged, truncated or foreign file is an error, never a half-loaded model.
//! Files are written to a temporary name and renamed, so a crash never leaves a torn file.
#![warn(missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use daogou_algo::{load_model, ModelState, Recommender, Tensor};
use daogou_core::{IdMap, Interactions, Params};
use daogou_data::{Signal, SignalRecord};
use safetensors::{Dtype, SafeTensors};
use serde_json::{json, Value};

/// File magic.
pub const MAGIC: &[u8; 8] = b"DAOGOUMF";
/// Current format version; files of other versions are refused.
pub const FORMAT_VERSION: u32 = 1;
/// The header's length: magic, version, payload length.
#[doc(hidden)]
pub const HEAD: usize = 8 + 4 + 8;

/// Errors reading or writing model files; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// file
        path: PathBuf,
        /// cause
        source: std::io::Error,
    },
    /// Not a daogou model file, a different format version, truncated or damaged.
    #[error("{path}: {reason}")]
    Invalid {
        /// file
        path: PathBuf,
        /// what is wrong
        reason: String,
    },
    /// The checksum matched but the model could not be rebuilt from the stored state.
    #[error("{path}: {source}")]
    Model {
        /// file
        path: PathBuf,
        /// cause
        source: daogou_algo::Error,
    },
}

/// Result with the model-file [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// What a model was trained on, for the manifest and for answering requests.
pub struct TrainingContext<'a> {
    /// External user ids by index.
    pub users: &'a IdMap,
    /// External item ids by index.
    pub items: &'a IdMap,
    /// The users×items training matrix (histories to exclude and explain).
    pub train: &'a Interactions,
    /// Whether values are explicit ratings.
    pub explicit: bool,
    /// Parameters as given on the command line.
    pub params: &'a Params,
    /// How behaviour became the values of `train` (weights, threshold, decay): recorded so
    /// that events arriving after training are weighed the same way.
    pub signal: &'a Signal,
    /// Where the data came from (file or database), for people reading the manifest.
    pub source: &'a str,
}

/// A model read back from a file.
pub struct LoadedModel {
    /// The readable manifest.
    pub manifest: Value,
    /// The fitted model.
    pub model: Box<dyn Recommender>,
    /// External user ids by index.
    pub users: IdMap,
    /// External item ids by index.
    pub items: IdMap,
    /// The training histories.
    pub train: Interactions,
    /// Whether values are explicit ratings.
    pub explicit: bool,
    /// The signal the model was trained with; `None` for files written before it was
    /// recorded (their models were trained with the default signal).
    pub signal: Option<Signal>,
    /// When the file was written (unix seconds); `None` for files written before it was
    /// recorded. A user deleted since then is in the file but must not be served.
    pub trained_at: Option<i64>,
}

/// A fingerprint of the training data: CRC-32 of its dimensions and arrays, as hex.
pub fn fingerprint(m: &Interactions) -> String {
    let mut h = crc32fast::Hasher::new();
    for x in [m.n_users(), m.n_items(), m.nnz()] {
        h.update(&(x as u64).to_le_bytes());
    }
    for &p in m.by_user.indptr() {
        h.update(&(p as u64).to_le_bytes());
    }
    for &i in m.by_user.indices() {
        h.update(&i.to_le_bytes());
    }
    for &v in m.by_user.data() {
        h.update(&v.to_le_bytes());
    }
    format!("{:08x}", h.finalize())
}

/// An array to write, borrowed from the model or the training matrix (no byte copy of it is
/// made: it is written in little-endian chunks straight to the file).
#[derive(Clone, Copy)]
enum Array<'a> {
    F32(&'a [f32]),
    F64(&'a [f64]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

impl<'a> Array<'a> {
    fn of(t: &'a Tensor) -> Self {
        match t {
            Tensor::F32(v) => Array::F32(v),
            Tensor::F64(v) => Array::F64(v),
            Tensor::U32(v) => Array::U32(v),
            Tensor::U64(v) => Array::U64(v),
        }
    }

    fn dtype(self) -> Dtype {
        match self {
            Array::F32(_) => Dtype::F32,
            Array::F64(_) => Dtype::F64,
            Array::U32(_) => Dtype::U32,
            Array::U64(_) => Dtype::U64,
        }
    }

    fn len(self) -> usize {
        match self {
            Array::F32(v) => v.len(),
            Array::F64(v) => v.len(),
            Array::U32(v) => v.len(),
            Array::U64(v) => v.len(),
        }
    }

    fn byte_len(self) -> usize {
        self.len() * self.dtype().bitsize() / 8
    }

    /// Write the values as little-endian bytes, a chunk at a time.
    fn write_to(self, w: &mut impl Write) -> std::io::Result<()> {
        fn chunks<T: Copy, const N: usize>(v: &[T], w: &mut impl Write, le: fn(T) -> [u8; N]) -> std::io::Result<()> {
            let mut buf = Vec::with_capacity(N * 8192);
            for chunk in v.chunks(8192) {
                buf.clear();
                chunk.iter().for_each(|&x| buf.extend_from_slice(&le(x)));
                w.write_all(&buf)?;
            }
            Ok(())
        }
        match self {
            Array::F32(v) => chunks(v, w, f32::to_le_bytes),
            Array::F64(v) => chunks(v, w, f64::to_le_bytes),
            Array::U32(v) => chunks(v, w, u32::to_le_bytes),
            Array::U64(v) => chunks(v, w, u64::to_le_bytes),
        }
    }
}

/// What safetensors needs to lay out the header: dtype, shape and byte length, no data. The
/// header it serializes from these (`n`, the JSON with every array's offsets) is the start
/// of the payload; the arrays follow at the offsets it names.
struct Layout {
    dtype: Dtype,
    shape: [usize; 1],
    bytes: usize,
}

impl safetensors::View for Layout {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> std::borrow::Cow<'_, [u8]> {
        std::borrow::Cow::Borrowed(&[])
    }
    fn data_len(&self) -> usize {
        self.bytes
    }
}

/// Counts and checksums the bytes written through it.
struct Crc<W> {
    inner: W,
    hasher: crc32fast::Hasher,
}

impl<W: Write> Write for Crc<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn tensor(dtype: Dtype, data: &[u8]) -> Option<Tensor> {
    fn le<const N: usize, T>(data: &[u8], f: fn([u8; N]) -> T) -> Vec<T> {
        data.chunks_exact(N).map(|c| f(c.try_into().expect("chunks_exact"))).collect()
    }
    Some(match dtype {
        Dtype::F32 => Tensor::F32(le(data, f32::from_le_bytes)),
        Dtype::F64 => Tensor::F64(le(data, f64::from_le_bytes)),
        Dtype::U32 => Tensor::U32(le(data, u32::from_le_bytes)),
        Dtype::U64 => Tensor::U64(le(data, u64::from_le_bytes)),
        _ => return None,
    })
}

/// Write `model` with its training context to `path` (atomically: temporary file + rename).
/// Returns the manifest written. The arrays are streamed to the file, so saving needs no
/// second copy of the model or of the training matrix in memory.
pub fn save(path: &Path, model: &dyn Recommender, ctx: &TrainingContext<'_>) -> Result<Value> {
    let io = |source| Error::Io { path: path.to_owned(), source };
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("model"),
        std::process::id()
    ));
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let written = encode_to(&mut w, model, ctx, |_| {}).and_then(|manifest| {
        let file = w.into_inner().map_err(|e| Encode::Io(e.into_error()))?;
        file.sync_all()?;
        Ok(manifest)
    });
    match written {
        Ok(manifest) => {
            std::fs::rename(&tmp, path).map_err(io)?;
            Ok(manifest)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(match e {
                Encode::Io(source) => io(source),
                Encode::Invalid(reason) => {
                    Error::Invalid { path: path.to_owned(), reason: format!("cannot encode: {reason}") }
                }
            })
        }
    }
}

/// Why a model could not be written.
enum Encode {
    Io(std::io::Error),
    Invalid(String),
}

impl From<std::io::Error> for Encode {
    fn from(e: std::io::Error) -> Self {
        Encode::Io(e)
    }
}

/// The file's bytes and manifest, in memory; `edit` may change the manifest before it is
/// written (tests make files of earlier versions with it).
#[doc(hidden)]
pub fn encode(
    model: &dyn Recommender,
    ctx: &TrainingContext<'_>,
    edit: impl FnOnce(&mut Value),
) -> std::result::Result<(Vec<u8>, Value), String> {
    let mut out = Vec::new();
    match encode_to(&mut out, model, ctx, edit) {
        Ok(manifest) => Ok((out, manifest)),
        Err(Encode::Io(e)) => Err(e.to_string()),
        Err(Encode::Invalid(reason)) => Err(reason),
    }
}

/// Write the file to `w`: magic, version, payload length, the safetensors payload (header
/// with the manifest, then the arrays), and a CRC-32 of everything before it.
fn encode_to(
    w: &mut impl Write,
    model: &dyn Recommender,
    ctx: &TrainingContext<'_>,
    edit: impl FnOnce(&mut Value),
) -> std::result::Result<Value, Encode> {
    let state = model.state();
    let mut arrays: BTreeMap<String, Array<'_>> = BTreeMap::new();
    for (name, t) in &state.tensors {
        arrays.insert(format!("model.{name}"), Array::of(t));
    }
    // the training histories, as ModelState::set_interactions names them (read back by it)
    let by_user = &ctx.train.by_user;
    let indptr: Vec<u64> = by_user.indptr().iter().map(|&x| x as u64).collect();
    arrays.insert("history.train.indptr".into(), Array::U64(&indptr));
    arrays.insert("history.train.indices".into(), Array::U32(by_user.indices()));
    arrays.insert("history.train.data".into(), Array::F32(by_user.data()));
    let history_scalars =
        BTreeMap::from([("train.rows", by_user.n_rows() as f64), ("train.cols", by_user.n_cols() as f64)]);
    let inventory: BTreeMap<&str, Value> =
        arrays.iter().map(|(k, a)| (k.as_str(), json!({"dtype": a.dtype().to_string(), "len": a.len()}))).collect();
    let mut manifest = json!({
        "format": "daogou-model",
        "format_version": FORMAT_VERSION,
        "daogou_version": env!("CARGO_PKG_VERSION"),
        "model": state.model,
        "params": ctx.params.iter().collect::<BTreeMap<_, _>>(),
        "model_params": state.params.iter().collect::<BTreeMap<_, _>>(),
        "signal": ctx.signal.record(),
        "trained_at": std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64),
        "scalars": state.scalars,
        "history_scalars": history_scalars,
        "data": {
            "source": ctx.source,
            "explicit": ctx.explicit,
            "users": ctx.users.len(),
            "items": ctx.items.len(),
            "interactions": ctx.train.nnz(),
            "fingerprint": fingerprint(ctx.train),
        },
        "arrays": inventory,
        "user_ids": ctx.users.ids(),
        "item_ids": ctx.items.ids(),
    });
    edit(&mut manifest);
    // safetensors lays out the header (and the order of the arrays); the arrays are then
    // written where the header says.
    let layout =
        arrays.iter().map(|(k, a)| (k.clone(), Layout { dtype: a.dtype(), shape: [a.len()], bytes: a.byte_len() }));
    let meta = HashMap::from([("manifest".to_owned(), manifest.to_string())]);
    let header = safetensors::serialize(layout, Some(meta)).map_err(|e| Encode::Invalid(e.to_string()))?;
    let parsed: Value = serde_json::from_slice(&header[8..]).map_err(|e| Encode::Invalid(e.to_string()))?;
    let mut order: Vec<(u64, Array<'_>)> = Vec::with_capacity(arrays.len());
    for (name, a) in &arrays {
        let start = parsed[name.as_str()]["data_offsets"][0]
            .as_u64()
            .ok_or_else(|| Encode::Invalid(format!("safetensors header without offsets for {name}")))?;
        order.push((start, *a));
    }
    order.sort_by_key(|&(start, _)| start);
    let data_len: usize = arrays.values().map(|a| a.byte_len()).sum();
    let payload_len = (header.len() + data_len) as u64;
    let mut out = Crc { inner: w, hasher: crc32fast::Hasher::new() };
    out.write_all(MAGIC)?;
    out.write_all(&FORMAT_VERSION.to_le_bytes())?;
    out.write_all(&payload_len.to_le_bytes())?;
    out.write_all(&header)?;
    let mut at = 0u64;
    for (start, a) in order {
        if start != at {
            return Err(Encode::Invalid(format!("safetensors header puts an array at {start}, expected {at}")));
        }
        a.write_to(&mut out)?;
        at += a.byte_len() as u64;
    }
    let crc = out.hasher.finalize();
    out.inner.write_all(&crc.to_le_bytes())?;
    Ok(manifest)
}

/// Read and verify a model file, then rebuild the model.
pub fn load(path: &Path) -> Result<LoadedModel> {
    let invalid = |reason: String| Error::Invalid { path: path.to_owned(), reason };
    let data = std::fs::read(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
    if data.len() < HEAD + 4 || &data[..8] != MAGIC {
        return Err(invalid("not a daogou model file (bad magic or too short)".into()));
    }
    let version = u32::from_le_bytes(data[8..12].try_into().expect("4 bytes"));
    if version != FORMAT_VERSION {
        return Err(invalid(format!(
            "model file format version {version}; this daogou reads version {FORMAT_VERSION}"
        )));
    }
    let n = u64::from_le_bytes(data[12..20].try_into().expect("8 bytes"));
    let expected = (HEAD as u64).checked_add(n).and_then(|x| x.checked_add(4));
    if expected != Some(data.len() as u64) {
        return Err(invalid(format!(
            "truncated or padded: {} bytes, the header announces {}",
            data.len(),
            expected.map_or("an impossible size".to_owned(), |x| x.to_string())
        )));
    }
    let body = data.len() - 4;
    let stored = u32::from_le_bytes(data[body..].try_into().expect("4 bytes"));
    if crc32fast::hash(&data[..body]) != stored {
        return Err(invalid("checksum mismatch: the file is damaged".into()));
    }
    let payload = &data[HEAD..body];
    let st = SafeTensors::deserialize(payload).map_err(|e| invalid(format!("bad payload: {e:?}")))?;
    let (_, meta) = SafeTensors::read_metadata(payload).map_err(|e| invalid(format!("bad payload: {e:?}")))?;
    let manifest: Value = meta
        .metadata()
        .as_ref()
        .and_then(|m| m.get("manifest"))
        .ok_or_else(|| invalid("no manifest".into()))
        .and_then(|s| serde_json::from_str(s).map_err(|e| invalid(format!("bad manifest: {e}"))))?;
    let field = |key: &str| manifest.get(key).ok_or_else(|| invalid(format!("manifest has no `{key}`")));
    let model_name = field("model")?.as_str().ok_or_else(|| invalid("manifest `model` is not a string".into()))?;
    let mut state = ModelState::new(model_name, &params_of(field("model_params")?).map_err(invalid)?);
    let mut hist = ModelState::new("history", &Params::new());
    state.scalars = scalars_of(field("scalars")?).map_err(invalid)?;
    hist.scalars = scalars_of(field("history_scalars")?).map_err(invalid)?;
    for (name, view) in st.tensors() {
        let t = tensor(view.dtype(), view.data())
            .ok_or_else(|| invalid(format!("array `{name}` has unsupported type {}", view.dtype())))?;
        if let Some(k) = name.strip_prefix("model.") {
            state.set(k, t);
        } else if let Some(k) = name.strip_prefix("history.") {
            hist.set(k, t);
        } else {
            return Err(invalid(format!("unexpected array `{name}`")));
        }
    }
    let users = id_map(field("user_ids")?).map_err(|e| invalid(format!("user ids: {e}")))?;
    let items = id_map(field("item_ids")?).map_err(|e| invalid(format!("item ids: {e}")))?;
    let train = hist.interactions("train").map_err(|source| Error::Model { path: path.to_owned(), source })?;
    if train.n_users() != users.len() || train.n_items() != items.len() {
        return Err(invalid(format!(
            "histories are {}×{} but the id maps hold {} users and {} items",
            train.n_users(),
            train.n_items(),
            users.len(),
            items.len()
        )));
    }
    let model = load_model(&state).map_err(|source| Error::Model { path: path.to_owned(), source })?;
    if model.n_items() != items.len() {
        return Err(invalid(format!("the model scores {} items but the file names {}", model.n_items(), items.len())));
    }
    let explicit = manifest.pointer("/data/explicit").and_then(Value::as_bool).unwrap_or(false);
    let signal = match manifest.get("signal") {
        None => None,
        Some(v) => Some(
            serde_json::from_value::<SignalRecord>(v.clone())
                .map_err(|e| e.to_string())
                .and_then(|r| Signal::from_record(&r).map_err(|e| e.to_string()))
                .map_err(|e| invalid(format!("manifest `signal`: {e}")))?,
        ),
    };
    let trained_at = manifest.get("trained_at").and_then(Value::as_i64);
    Ok(LoadedModel { manifest, model, users, items, train, explicit, signal, trained_at })
}

fn params_of(v: &Value) -> std::result::Result<Params, String> {
    let obj = v.as_object().ok_or("manifest `model_params` is not an object")?;
    let pairs: Vec<String> = obj.iter().map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default())).collect();
    Params::parse(pairs.iter().map(String::as_str)).map_err(|e| e.to_string())
}

fn scalars_of(v: &Value) -> std::result::Result<BTreeMap<String, f64>, String> {
    let obj = v.as_object().ok_or("manifest scalars are not an object")?;
    obj.iter().map(|(k, v)| v.as_f64().map(|x| (k.clone(), x)).ok_or(format!("scalar `{k}` is not a number"))).collect()
}

fn id_map(v: &Value) -> std::result::Result<IdMap, String> {
    let list = v.as_array().ok_or("not a list")?;
    let mut m = IdMap::new();
    for (i, id) in list.iter().enumerate() {
        let s = id.as_str().ok_or(format!("entry {i} is not a string"))?;
        if m.get_or_insert(s) as usize != i {
            return Err(format!("`{s}` appears twice"));
        }
    }
    Ok(m)
}
