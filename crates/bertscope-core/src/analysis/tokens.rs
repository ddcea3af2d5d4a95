//! Finding a word among a sentence's tokens.

use crate::tokenize::Encoding;

/// The first non-special token that is the word (compared lowercased, as uncased WordPiece
/// vocabularies store it), or that starts a word-piece group spelling it: the token and the
/// `##` pieces right after it, e.g. `"straw" "##berries"` for `"strawberries"`.
pub fn find_token(encoding: &Encoding, word: &str) -> Option<usize> {
    let word = word.trim().to_lowercase();
    if word.is_empty() {
        return None;
    }
    let real = |i: usize| !encoding.special.get(i).copied().unwrap_or(false);
    (0..encoding.tokens.len()).filter(|&i| real(i)).find(|&i| {
        let token = &encoding.tokens[i];
        if *token == word {
            return true;
        }
        if token.starts_with("##") {
            return false;
        }
        let mut spelled = token.clone();
        for piece in encoding.tokens[i + 1..].iter().take_while(|t| t.starts_with("##")) {
            spelled.push_str(&piece[2..]);
        }
        spelled == word
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoding(tokens: &[&str]) -> Encoding {
        let n = tokens.len();
        Encoding {
            text: String::new(),
            input_ids: vec![0; n],
            attention_mask: vec![1; n],
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            offsets: vec![(0, 0); n],
            special: tokens.iter().map(|t| t.starts_with('[')).collect(),
            truncated: false,
            len: n,
        }
    }

    #[test]
    fn whole_tokens_and_word_piece_groups() {
        let e = encoding(&["[CLS]", "i", "ate", "straw", "##berries", "and", "an", "apple", "[SEP]"]);
        assert_eq!(find_token(&e, "Apple"), Some(7));
        assert_eq!(find_token(&e, "strawberries"), Some(3));
        assert_eq!(find_token(&e, "straw"), Some(3));
        assert_eq!(find_token(&e, "berries"), None, "a continuation piece alone is not the word");
        assert_eq!(find_token(&e, "[CLS]"), None, "special tokens are never the focus");
        assert_eq!(find_token(&e, "pear"), None);
        assert_eq!(find_token(&e, " "), None);
        let twice = encoding(&["[CLS]", "apple", "and", "apple", "[SEP]"]);
        assert_eq!(find_token(&twice, "apple"), Some(1), "the first occurrence");
    }
}
