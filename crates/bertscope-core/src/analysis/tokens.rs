//! Finding a word among a sentence's tokens, and a word's attention as one row.
//!
//! A word is a token and the `##` pieces after it (`Encoding::words`): "tokenization" is
//! `token ##ization`. The row shown for a word averages its pieces as queries (each piece's row
//! sums to 1, so the mean does too) and adds up its pieces as keys (what the word as a whole
//! receives): `word_row` and `word_weights`.

use std::fmt;

use serde::Serialize;

use crate::tokenize::{Encoding, Word};

/// Why a word could not be focused in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WordMiss {
    /// Nothing was typed.
    Empty,
    /// The sentence has no such word.
    Absent {
        /// The word as typed (trimmed).
        word: String,
    },
    /// The word is there, but fewer times than the occurrence asked for.
    TooFew {
        /// The word as typed (trimmed).
        word: String,
        /// How many times the sentence holds it.
        found: usize,
        /// The occurrence asked for (from 1).
        occurrence: usize,
    },
}

impl fmt::Display for WordMiss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WordMiss::Empty => write!(f, "no focus word is set"),
            WordMiss::Absent { word } => write!(f, "“{word}” is not in this sentence"),
            WordMiss::TooFew { word, found, occurrence } => {
                let times = if *found == 1 { "once".to_string() } else { format!("{found} times") };
                write!(f, "“{word}” is in this sentence only {times}, not a {} time", ordinal(*occurrence))
            }
        }
    }
}

/// "2nd", "3rd", "11th".
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The `occurrence`-th (from 1; 0 counts as 1) word of the sentence spelled `word` (compared
/// trimmed and lowercased, as uncased WordPiece vocabularies store words). A special token
/// (`[CLS]`, `[SEP]`) can be focused by its name when no word is spelled so.
pub fn find_word(encoding: &Encoding, word: &str, occurrence: usize) -> Result<Word, WordMiss> {
    let wanted = word.trim().to_lowercase();
    if wanted.is_empty() {
        return Err(WordMiss::Empty);
    }
    let occurrence = occurrence.max(1);
    let found: Vec<&Word> = encoding.words.iter().filter(|w| w.text == wanted).collect();
    if let Some(&hit) = found.get(occurrence - 1) {
        return Ok(hit.clone());
    }
    if !found.is_empty() {
        return Err(WordMiss::TooFew { word: word.trim().to_string(), found: found.len(), occurrence });
    }
    let real_special =
        |i: usize| encoding.special.get(i).copied().unwrap_or(false) && encoding.attention_mask.get(i) == Some(&1);
    let specials: Vec<usize> = (0..encoding.tokens.len())
        .filter(|&i| real_special(i) && encoding.tokens[i].to_lowercase() == wanted)
        .collect();
    match specials.get(occurrence - 1) {
        Some(&i) => Ok(Word { start: i, end: i + 1, text: wanted }),
        None if !specials.is_empty() => {
            Err(WordMiss::TooFew { word: word.trim().to_string(), found: specials.len(), occurrence })
        }
        None => Err(WordMiss::Absent { word: word.trim().to_string() }),
    }
}

/// A word looked up as the page shows it: the word found, or why there is none (`WordMiss` in words).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct WordFocus {
    /// The word found (its pieces), or null.
    pub word: Option<Word>,
    /// Why there is none, in words, or null.
    pub miss: Option<String>,
}

/// `find_word` as one value (the page's views and the widget take every focus from this).
pub fn word_focus(encoding: &Encoding, word: &str, occurrence: usize) -> WordFocus {
    match find_word(encoding, word, occurrence) {
        Ok(word) => WordFocus { word: Some(word), miss: None },
        Err(miss) => WordFocus { word: None, miss: Some(miss.to_string()) },
    }
}

/// Position of the first piece of the first word spelled `word`, if any (see `find_word`).
pub fn find_token(encoding: &Encoding, word: &str) -> Option<usize> {
    find_word(encoding, word, 1).ok().map(|w| w.start)
}

/// The word's attention row over the `n` key tokens of a `n×n` row-major `matrix`: the mean of
/// its pieces' rows.
pub fn word_row(matrix: &[f32], n: usize, word: &Word) -> Vec<f32> {
    let pieces = (word.end - word.start).max(1) as f64;
    (0..n).map(|k| ((word.start..word.end).map(|q| matrix[q * n + k] as f64).sum::<f64>() / pieces) as f32).collect()
}

/// A row over tokens gathered per word of `encoding` (the sum over each word's pieces), in word order.
pub fn word_weights(row: &[f32], encoding: &Encoding) -> Vec<f32> {
    encoding.words.iter().map(|w| row[w.start..w.end].iter().map(|&v| v as f64).sum::<f64>() as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenize::words_of;

    fn encoding(tokens: &[&str]) -> Encoding {
        let n = tokens.len();
        let len = tokens.iter().filter(|t| **t != "[PAD]").count();
        let tokens: Vec<String> = tokens.iter().map(|t| t.to_string()).collect();
        let special: Vec<bool> = tokens.iter().map(|t| t.starts_with('[')).collect();
        Encoding {
            text: String::new(),
            input_ids: vec![0; n],
            attention_mask: tokens.iter().map(|t| u32::from(t != "[PAD]")).collect(),
            token_type_ids: vec![0; n],
            sentence_b_start: None,
            words: words_of(&tokens, &special),
            tokens,
            offsets: vec![(0, 0); n],
            special,
            truncated: false,
            len,
        }
    }

    fn span(start: usize, end: usize, text: &str) -> Word {
        Word { start, end, text: text.into() }
    }

    #[test]
    fn a_word_is_all_its_pieces() {
        let e = encoding(&["[CLS]", "token", "##ization", "is", "fun", "[SEP]"]);
        assert_eq!(find_word(&e, "Tokenization", 1), Ok(span(1, 3, "tokenization")));
        assert_eq!(
            find_word(&e, "token", 1),
            Err(WordMiss::Absent { word: "token".into() }),
            "a piece alone is not the word"
        );
        assert_eq!(find_word(&e, "ization", 1), Err(WordMiss::Absent { word: "ization".into() }));
        assert_eq!(find_token(&e, "tokenization"), Some(1));
    }

    #[test]
    fn repeated_words_by_occurrence() {
        let e = encoding(&["[CLS]", "the", "bank", "near", "the", "river", "bank", "flooded", "[SEP]"]);
        assert_eq!(find_word(&e, "bank", 1), Ok(span(2, 3, "bank")));
        assert_eq!(find_word(&e, "bank", 2), Ok(span(6, 7, "bank")));
        assert_eq!(find_word(&e, "bank", 0), Ok(span(2, 3, "bank")), "0 counts as the first");
        let third = find_word(&e, "bank", 3).unwrap_err();
        assert_eq!(third, WordMiss::TooFew { word: "bank".into(), found: 2, occurrence: 3 });
        assert_eq!(third.to_string(), "“bank” is in this sentence only 2 times, not a 3rd time");
        assert_eq!(word_focus(&e, "bank", 2), WordFocus { word: Some(span(6, 7, "bank")), miss: None });
        assert_eq!(
            word_focus(&e, " Bank ", 4),
            WordFocus { word: None, miss: Some("“Bank” is in this sentence only 2 times, not a 4th time".into()) }
        );
    }

    #[test]
    fn absent_empty_and_special() {
        let e = encoding(&["[CLS]", "i", "ate", "straw", "##berries", "[SEP]", "[PAD]"]);
        let absent = find_word(&e, "pear", 1).unwrap_err();
        assert_eq!(absent.to_string(), "“pear” is not in this sentence");
        assert_eq!(find_word(&e, "  ", 1), Err(WordMiss::Empty));
        assert_eq!(WordMiss::Empty.to_string(), "no focus word is set");
        assert_eq!(find_word(&e, "[cls]", 1), Ok(span(0, 1, "[cls]")), "special tokens by name");
        assert!(find_word(&e, "[PAD]", 1).is_err(), "padding is never the focus");
        assert_eq!(find_word(&e, "strawberries", 1), Ok(span(3, 5, "strawberries")));
    }

    #[test]
    fn word_rows_average_queries_and_sum_keys() {
        // [CLS] token ##ization [SEP]: rows of a 4×4 attention matrix.
        let e = encoding(&["[CLS]", "token", "##ization", "[SEP]"]);
        #[rustfmt::skip]
        let matrix = [
            1.0, 0.0, 0.0, 0.0,
            0.5, 0.2, 0.2, 0.1,
            0.1, 0.4, 0.4, 0.1,
            0.0, 0.0, 0.0, 1.0,
        ];
        let word = find_word(&e, "tokenization", 1).unwrap();
        let row = word_row(&matrix, 4, &word);
        let expected = [0.3, 0.3, 0.3, 0.1];
        for (got, want) in row.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{row:?}");
        }
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6, "the mean of rows that sum to 1 sums to 1");
        let weights = word_weights(&row, &e);
        assert_eq!(weights.len(), 1);
        assert!((weights[0] - 0.6).abs() < 1e-6, "the word receives what its pieces receive: {weights:?}");
    }

    #[test]
    fn ordinals() {
        assert_eq!(
            [1, 2, 3, 4, 11, 12, 13, 21, 22, 103].map(ordinal),
            ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "103rd"]
        );
    }
}
