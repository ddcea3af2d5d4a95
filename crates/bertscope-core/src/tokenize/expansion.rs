//! A bound on how much a tokenizer.json's normalizer and pre-tokenizer can lengthen text.
//!
//! The `tokenizers` crate normalizes a whole input before it truncates, so a `Replace` that maps
//! one character to 10,000 makes a 300,000-character text request gigabytes (and abort).
//! Before the crate reads the file, each normalizer and pre-tokenizer step gets its worst case
//! in characters out per character in (steps in a `Sequence` multiply); a tokenizer whose
//! product exceeds [`MAX_CHARS_PER_CHAR`] is refused. Tokens never outnumber the characters
//! they are cut from, so this also caps tokens per input character.

use serde_json::Value;

/// Most normalized characters (and so tokens) one input character may become.
pub const MAX_CHARS_PER_CHAR: u64 = 100;

/// `Ok` if the normalizer and pre-tokenizer of `tokenizer` (a parsed tokenizer.json) keep within
/// [`MAX_CHARS_PER_CHAR`]; otherwise the reason in words.
pub fn check(tokenizer: &serde_json::Map<String, Value>) -> Result<(), String> {
    let normalizer = tokenizer.get("normalizer").map_or(1, normalizer_factor);
    let pre_tokenizer = tokenizer.get("pre_tokenizer").map_or(1, pre_tokenizer_factor);
    let factor = normalizer.saturating_mul(pre_tokenizer);
    if factor > MAX_CHARS_PER_CHAR {
        return Err(format!(
            "its normalizer and pre-tokenizer can turn one character into up to {} characters; \
             bertscope refuses tokenizers that lengthen text more than {MAX_CHARS_PER_CHAR} times",
            if factor == u64::MAX { "an unbounded number of".to_string() } else { factor.to_string() }
        ));
    }
    Ok(())
}

/// Characters out per character in, at worst, for one normalizer (`null` or unknown: 1, as the
/// `tokenizers` crate refuses unknown types itself).
fn normalizer_factor(normalizer: &Value) -> u64 {
    let kind = normalizer.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "Sequence" => product(normalizer.get("normalizers"), normalizer_factor),
        // A replacement may follow every character (a pattern that matches the empty string).
        "Replace" => 1 + chars(normalizer.get("content")),
        // Prepended once to each piece, and a piece holds at least one character.
        "Prepend" => 1 + chars(normalizer.get("prepend")),
        // Compatibility decomposition: U+FDFA becomes 18 characters.
        "NFKD" | "NFKC" => 18,
        // Canonical decomposition: at most 4 characters per character.
        "NFD" | "NFC" => 4,
        // Spaces around a CJK character (3), or an accent decomposition (4), one or the other.
        "BertNormalizer" => 4,
        // A character of up to 4 UTF-8 bytes, each shown as one character.
        "ByteLevel" => 4,
        // Full case mappings lengthen a character to at most 3.
        "Lowercase" => 3,
        _ => 1,
    }
}

/// Characters out per character in, at worst, for one pre-tokenizer.
fn pre_tokenizer_factor(pre_tokenizer: &Value) -> u64 {
    let kind = pre_tokenizer.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "Sequence" => product(pre_tokenizer.get("pretokenizers"), pre_tokenizer_factor),
        // A character of up to 4 UTF-8 bytes, each shown as one character.
        "ByteLevel" => 4,
        // A word-start marker before a word of at least one character.
        "Metaspace" => 2,
        _ => 1,
    }
}

fn product(steps: Option<&Value>, factor: fn(&Value) -> u64) -> u64 {
    let steps = steps.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    steps.iter().map(factor).fold(1, u64::saturating_mul)
}

fn chars(text: Option<&Value>) -> u64 {
    text.and_then(Value::as_str).map_or(0, |s| s.chars().count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(json: &str) -> Result<(), String> {
        check(serde_json::from_str::<Value>(json).unwrap().as_object().unwrap())
    }

    #[test]
    fn bert_tokenizers_pass() {
        assert!(verdict(
            r#"{"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"}}"#
        )
        .is_ok());
        assert!(verdict(r#"{"normalizer": null, "pre_tokenizer": null}"#).is_ok());
        let replace = r#"{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKD"},
            {"type": "Replace", "pattern": {"String": "``"}, "content": "\""}]}}"#;
        assert!(verdict(replace).is_ok());
    }

    #[test]
    fn a_long_replacement_is_refused_with_the_cap() {
        let long = format!(
            r#"{{"normalizer": {{"type": "Replace", "pattern": {{"String": "a"}}, "content": "{}"}}}}"#,
            "b".repeat(10_000)
        );
        let message = verdict(&long).unwrap_err();
        assert!(message.contains("up to 10001 characters"), "{message}");
        assert!(message.contains("more than 100 times"), "{message}");
    }

    #[test]
    fn steps_multiply_and_saturate() {
        // 18 × 18 = 324: two compatibility decompositions in a row exceed the cap.
        let twice = r#"{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "NFKD"}]}}"#;
        assert!(verdict(twice).unwrap_err().contains("up to 324 characters"));
        // 4 (Bert) × 4 (ByteLevel pre-tokenizer) × 2 (Metaspace) = 32 is allowed.
        let mixed = r#"{"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "Sequence",
            "pretokenizers": [{"type": "ByteLevel"}, {"type": "Metaspace"}]}}"#;
        assert!(verdict(mixed).is_ok());
        let many = format!(
            r#"{{"normalizer": {{"type": "Sequence", "normalizers": [{}]}}}}"#,
            vec![r#"{"type": "NFKC"}"#; 40].join(",")
        );
        assert!(verdict(&many).unwrap_err().contains("an unbounded number of"));
    }
}
