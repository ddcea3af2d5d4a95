//! Checks a tokenizer.json before the `tokenizers` crate reads it. That crate panics (instead
//! of returning an error) on a few malformed inputs: a syntax error or an unknown shape inside
//! `decoder`, a bad `Precompiled` normalizer, and a template post-processor naming a special
//! token it does not define or putting the second sequence (`B`) in the single-sentence
//! template (those two panic at encode time). In wasm a panic aborts the whole instance, so
//! those inputs are refused here first. Found by `scripts/fuzz` (target `tokenizer_json`).

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

/// Decoder `type`s the `tokenizers` crate knows (0.23).
const DECODERS: &[&str] = &[
    "BPEDecoder",
    "ByteLevel",
    "WordPiece",
    "Metaspace",
    "CTC",
    "Sequence",
    "Replace",
    "Fuse",
    "Strip",
    "ByteFallback",
];

/// `Ok` if `json` is well-formed and free of the shapes that make `tokenizers` panic;
/// otherwise the reason in words.
pub fn check(json: &[u8]) -> Result<(), String> {
    let Checked(object) = serde_json::from_slice(json).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => "it is not a tokenizer.json (not a JSON object)".to_string(),
        _ => format!("it is not a valid tokenizer.json ({e})"),
    })?;
    let object = &object;
    if let Some(decoder) = object.get("decoder").filter(|d| !d.is_null()) {
        check_decoder(decoder)?;
    }
    if let Some(normalizer) = object.get("normalizer") {
        if uses_precompiled(normalizer) {
            return Err(
                "its normalizer is SentencePiece's Precompiled one; bertscope reads BERT WordPiece tokenizers".into()
            );
        }
    }
    if let Some(processor) = object.get("post_processor") {
        check_templates(processor)?;
    }
    super::expansion::check(object)
}

/// The top-level keys the checks read.
const CHECKED_KEYS: &[&str] = &["decoder", "normalizer", "pre_tokenizer", "post_processor"];

/// The [`CHECKED_KEYS`] of a tokenizer.json object. The rest (the vocabulary above all) is only
/// checked for syntax, not built into values: that took about as long as the `tokenizers`
/// crate's own reading of the file.
struct Checked(Map<String, Value>);

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if CHECKED_KEYS.contains(&key.as_str()) {
                kept.insert(key, map.next_value()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Checked(kept))
    }
}

/// Every `SpecialToken` a template uses must be defined, with as many ids as tokens; the
/// single-sentence template may hold only the first sequence.
fn check_templates(processor: &Value) -> Result<(), String> {
    match processor {
        Value::Object(map) => {
            let single = map.get("single").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let sequence_id = |piece: &Value| piece.get("Sequence").and_then(|s| s.get("id")).cloned();
            if single.iter().filter_map(sequence_id).any(|id| id != "A") {
                return Err("its post-processor's single-sentence template uses a second sequence".into());
            }
            if let Some(defined) = map.get("special_tokens").and_then(Value::as_object) {
                for (name, token) in defined {
                    let ids = token.get("ids").and_then(Value::as_array).map(Vec::len);
                    let tokens = token.get("tokens").and_then(Value::as_array).map(Vec::len);
                    if ids != tokens {
                        return Err(format!("its special token {name:?} has different numbers of ids and tokens"));
                    }
                }
                for template in ["single", "pair"].iter().filter_map(|k| map.get(*k).and_then(Value::as_array)) {
                    for piece in template {
                        let used = piece.get("SpecialToken").and_then(|t| t.get("id")).and_then(Value::as_str);
                        if let Some(name) = used.filter(|name| !defined.contains_key(*name)) {
                            return Err(format!(
                                "its post-processor template uses the undefined special token {name:?}"
                            ));
                        }
                    }
                }
            }
            map.values().try_for_each(check_templates)
        }
        Value::Array(items) => items.iter().try_for_each(check_templates),
        _ => Ok(()),
    }
}

fn check_decoder(decoder: &Value) -> Result<(), String> {
    let kind = decoder.get("type").and_then(Value::as_str).unwrap_or_default();
    if !DECODERS.contains(&kind) {
        return Err(format!("its decoder has an unknown type {}", decoder.get("type").unwrap_or(&Value::Null)));
    }
    if kind == "Sequence" {
        let parts = decoder.get("decoders").and_then(Value::as_array).ok_or("its Sequence decoder has no list")?;
        parts.iter().try_for_each(check_decoder)?;
    }
    Ok(())
}

fn uses_precompiled(normalizer: &Value) -> bool {
    match normalizer {
        Value::Object(map) => {
            map.get("type").and_then(Value::as_str) == Some("Precompiled") || map.values().any(uses_precompiled)
        }
        Value::Array(items) => items.iter().any(uses_precompiled),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn refuses_what_makes_tokenizers_panic() {
        assert!(check(br#"{"decoder": {"type": "Nope"}}"#).unwrap_err().contains("unknown type"));
        assert!(check(br#"{"decoder": 5}"#).is_err());
        assert!(check(br#"{"decoder": {"type": "Sequence", "decoders": [{"type": "X"}]}}"#).is_err());
        assert!(check(br#"{"normalizer": {"type": "Sequence", "normalizers": [{"type": "Precompiled"}]}}"#).is_err());
        assert!(check(b"{\"decoder\":mu\"lnl").unwrap_err().contains("not a valid tokenizer.json"));
        assert!(check(b"[]").unwrap_err().contains("not a JSON object"));
        assert!(check(br#"{"model": {"vocab": {"a": 0}}, "decoder": 5}"#).is_err());
        assert!(check(br#"{"model": {"vocab": {"a": 0,}}}"#).unwrap_err().contains("not a valid tokenizer.json"));
        let undefined = br#"{"post_processor": {"single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}],
            "special_tokens": {"[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}}}"#;
        assert!(check(undefined).unwrap_err().contains("[CLS]"));
        let uneven = br#"{"post_processor": {"special_tokens": {"[SEP]": {"ids": [3, 4], "tokens": ["[SEP]"]}}}}"#;
        assert!(check(uneven).is_err());
        let second = br#"{"post_processor": {"single": [{"Sequence": {"id": "B", "type_id": 0}}], "pair": []}}"#;
        assert!(check(second).unwrap_err().contains("second sequence"));
    }

    #[test]
    fn accepts_ordinary_shapes() {
        assert!(check(br#"{"decoder": null, "normalizer": {"type": "BertNormalizer"}}"#).is_ok());
        assert!(check(br###"{"decoder": {"type": "WordPiece", "prefix": "##"}}"###).is_ok());
        assert!(
            check(br#"{"model": {"type": "WordPiece", "vocab": {"[PAD]": 0, "a": 1}}, "added_tokens": []}"#).is_ok()
        );
    }
}
