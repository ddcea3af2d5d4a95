//! Words of a WordPiece encoding: a token that starts a word and the `##` pieces right after it.
//! "tokenization" is one word of two pieces, `token ##ization`; `[CLS]`, `[SEP]` and `[PAD]`
//! belong to no word. Every view of the page, the widget, drift and the CLI find a focus word
//! among these, so they agree on which tokens a word is.

use serde::{Deserialize, Serialize};

/// One word of a sentence: the token positions `start..end` and how it is spelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct Word {
    /// Position of its first piece.
    pub start: usize,
    /// One past the position of its last piece.
    pub end: usize,
    /// Its pieces joined without the `##` marks, lowercased (how a typed word is compared).
    pub text: String,
}

/// The words of `tokens` (`special[i]`: token `i` is `[CLS]`, `[SEP]` or `[PAD]`), in order. A
/// `##` piece with no word before it (right after `[CLS]`) starts a word of its own.
pub fn words_of(tokens: &[String], special: &[bool]) -> Vec<Word> {
    let mut words: Vec<Word> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if special.get(i).copied().unwrap_or(false) {
            continue;
        }
        let piece = token.strip_prefix("##");
        match (piece, words.last_mut()) {
            (Some(piece), Some(last)) if last.end == i => {
                last.end = i + 1;
                last.text.push_str(&piece.to_lowercase());
            }
            _ => words.push(Word { start: i, end: i + 1, text: piece.unwrap_or(token).to_lowercase() }),
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(tokens: &[&str]) -> Vec<(usize, usize, String)> {
        let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
        let special: Vec<bool> = tokens.iter().map(|t| t.starts_with('[') && t.ends_with(']')).collect();
        words_of(&tokens, &special).into_iter().map(|w| (w.start, w.end, w.text)).collect()
    }

    #[test]
    fn pieces_join_their_word() {
        assert_eq!(
            words(&["[CLS]", "Token", "##ization", "is", "fun", "[SEP]", "[PAD]"]),
            vec![(1, 3, "tokenization".into()), (3, 4, "is".into()), (4, 5, "fun".into())]
        );
    }

    #[test]
    fn a_piece_after_a_special_token_starts_a_word() {
        assert_eq!(words(&["[CLS]", "##s", "[SEP]", "##x"]), vec![(1, 2, "s".into()), (3, 4, "x".into())]);
        assert_eq!(words(&["[CLS]", "[SEP]"]), vec![]);
    }
}
