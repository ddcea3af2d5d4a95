//! Sentence pairs as written in one line of text. BERT reads two sentences together (`[CLS] A
//! [SEP] B [SEP]`, `token_type_ids` 0 for A and 1 for B); the page, its links, the widget and
//! the CLI write such a pair as one line with a vertical bar between the sentences:
//!
//! * `The cat sat. | It was tired.` is a pair; spaces around the bar do not matter (`A|B` is
//!   the same pair), each side is trimmed.
//! * A line without a bar is a single sentence, exactly as typed.
//! * `\|` is a bar that belongs to the text (`a \| b` is one sentence "a | b"); any other
//!   backslash is itself.
//! * A line is one sentence or one pair: more than one bar, or a bar with nothing on one of its
//!   sides, is refused with the reason in words.

use std::fmt;

/// The character that splits a line into sentence A and sentence B.
pub const PAIR_SEPARATOR: char = '|';

/// One input of a run: a sentence, or two sentences read together as a pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// One sentence.
    Single(String),
    /// Sentence A and sentence B, encoded with the tokenizer's pair template.
    Pair(String, String),
}

impl Input {
    /// Reads one line as written on the page (see the module documentation); `Err` says, in
    /// words, why the line is neither a sentence nor a pair.
    pub fn parse(line: &str) -> Result<Input, String> {
        let mut parts = vec![String::new()];
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' if chars.peek() == Some(&PAIR_SEPARATOR) => {
                    chars.next();
                    parts.last_mut().expect("starts with one part").push(PAIR_SEPARATOR);
                }
                PAIR_SEPARATOR => parts.push(String::new()),
                c => parts.last_mut().expect("starts with one part").push(c),
            }
        }
        const HOW: &str =
            "a pair is written “sentence A | sentence B” (write \\| for a bar that is part of a sentence)";
        match parts.as_slice() {
            [single] => Ok(Input::Single(single.clone())),
            [a, b] => match (a.trim(), b.trim()) {
                ("", "") => Err(format!("is only a “|”: {HOW}")),
                ("", _) => Err(format!("has nothing before its “|”: {HOW}")),
                (_, "") => Err(format!("has nothing after its “|”: {HOW}")),
                (a, b) => Ok(Input::Pair(a.to_string(), b.to_string())),
            },
            more => Err(format!("has {} “|”, and a line holds one sentence or one pair: {HOW}", more.len() - 1)),
        }
    }

    /// Whether this is a pair.
    pub fn is_pair(&self) -> bool {
        matches!(self, Input::Pair(..))
    }
}

/// The line that [`Input::parse`] reads back as this input: bars inside a sentence escaped,
/// a pair's sentences joined by ` | `.
impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let escaped = |s: &str| s.replace(PAIR_SEPARATOR, "\\|");
        match self {
            Input::Single(text) => f.write_str(&escaped(text)),
            Input::Pair(a, b) => write!(f, "{} | {}", escaped(a), escaped(b)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Input;

    fn pair(a: &str, b: &str) -> Input {
        Input::Pair(a.into(), b.into())
    }

    #[test]
    fn a_bar_splits_a_pair() {
        assert_eq!(Input::parse("The cat sat. | It was tired."), Ok(pair("The cat sat.", "It was tired.")));
        assert_eq!(Input::parse("a|b"), Ok(pair("a", "b")));
        assert_eq!(Input::parse("  a \t|\n b  "), Ok(pair("a", "b")));
        assert_eq!(Input::parse(" no bar here "), Ok(Input::Single(" no bar here ".into())));
        assert_eq!(Input::parse(""), Ok(Input::Single(String::new())));
    }

    #[test]
    fn an_escaped_bar_is_text() {
        assert_eq!(Input::parse(r"x \| y"), Ok(Input::Single("x | y".into())));
        assert_eq!(Input::parse(r"a \| b | c"), Ok(pair("a | b", "c")));
        assert_eq!(Input::parse(r"C:\dir | b"), Ok(pair(r"C:\dir", "b")));
        assert_eq!(Input::parse(r"ends in \ | b"), Ok(pair(r"ends in \", "b")));
        assert_eq!(Input::parse(r"\\|"), Ok(Input::Single(r"\|".into())));
    }

    #[test]
    fn a_bad_pair_says_why() {
        assert!(Input::parse("|").unwrap_err().starts_with("is only a “|”"));
        assert!(Input::parse("  |  ").unwrap_err().starts_with("is only a “|”"));
        assert!(Input::parse(" | b").unwrap_err().starts_with("has nothing before"));
        assert!(Input::parse("a |   ").unwrap_err().starts_with("has nothing after"));
        assert!(Input::parse("a | b | c").unwrap_err().starts_with("has 2 “|”"));
        assert!(Input::parse("x || y").unwrap_err().starts_with("has 2 “|”"));
        assert!(Input::parse("a | b").is_ok_and(|i| i.is_pair()));
    }

    #[test]
    fn display_reads_back() {
        for input in
            [pair("a | x", "b"), pair(r"c:\", "d"), Input::Single("one | two".into()), Input::Single("plain".into())]
        {
            assert_eq!(Input::parse(&input.to_string()), Ok(input.clone()), "{input}");
        }
        assert_eq!(pair("a", "b").to_string(), "a | b");
    }
}
