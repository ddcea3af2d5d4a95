//! What each attention head mostly does (after Clark et al., BlackboxNLP 2019): how much of its
//! attention goes to `[CLS]`, to `[SEP]`, to the previous or next token, to the token itself or
//! to punctuation, and how spread out it is.
//!
//! Per head and sentence, over the query tokens `i` of the sentence's `n` real tokens:
//! `cls = mean_i α_i,0`; `sep = mean_i Σ_{j is [SEP]} α_ij`; `prev = mean_{i≥1} α_i,i−1`;
//! `next = mean_{i≤n−2} α_i,i+1`; `self = mean_i α_ii`; `punct = mean_i Σ_{j punctuation} α_ij`
//! (a token all of whose characters are Unicode punctuation); `entropy = mean_i −Σ_j α_ij ln α_ij`
//! in nats. These are averaged over sentences. A head's role is the largest of the six shares
//! when it is at least 0.5, else "broad" when its entropy is at least 90% of `ln n` (averaged over
//! the sentences), else "mixed".

use serde::Serialize;
use unicode_categories::UnicodeCategories;

use crate::output::Attention;
use crate::tokenize::Encoding;

/// A share at least this large names the head's role.
pub const ROLE_SHARE: f32 = 0.5;
/// Entropy at least this fraction of `ln n` makes a head "broad".
pub const BROAD_ENTROPY: f32 = 0.9;

/// What a head mostly attends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
#[serde(rename_all = "lowercase")]
pub enum HeadRole {
    /// `[CLS]`.
    Cls,
    /// `[SEP]`.
    Sep,
    /// The previous token.
    Prev,
    /// The next token.
    Next,
    /// The token itself.
    #[serde(rename = "self")]
    Own,
    /// Punctuation.
    Punct,
    /// Spread evenly over the sentence.
    Broad,
    /// None of the above.
    Mixed,
}

/// One head's shares, entropy and role.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[cfg_attr(feature = "tsify", derive(tsify::Tsify))]
pub struct HeadStats {
    /// Mean attention to `[CLS]`.
    pub cls: f32,
    /// Mean attention to `[SEP]` tokens.
    pub sep: f32,
    /// Mean attention to the previous token.
    pub prev: f32,
    /// Mean attention to the next token.
    pub next: f32,
    /// Mean attention to the token itself.
    #[serde(rename = "self")]
    pub own: f32,
    /// Mean attention to punctuation.
    pub punct: f32,
    /// Mean entropy of the attention rows, in nats.
    pub entropy: f32,
    /// The role these numbers give the head.
    pub role: HeadRole,
}

/// Head statistics accumulated over any number of sentences, in memory independent of how many.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadRoles {
    layers: usize,
    heads: usize,
    sentences: usize,
    /// Per head: sums over sentences of cls, sep, prev, next, self, punct, entropy.
    sums: Vec<[f64; 7]>,
    /// Sum over sentences of `ln n`.
    log_tokens: f64,
}

impl HeadRoles {
    /// No sentences yet, for a model of `layers × heads`.
    pub fn new(layers: usize, heads: usize) -> Self {
        Self { layers, heads, sentences: 0, sums: vec![[0.0; 7]; layers * heads], log_tokens: 0.0 }
    }

    /// Sentences added so far.
    pub fn sentences(&self) -> usize {
        self.sentences
    }

    /// Adds one sentence: its attention (possibly padded) and its encoding (whose `len` real
    /// tokens are the ones measured). Sentences with fewer than two real tokens say nothing
    /// about a head and are skipped.
    ///
    /// # Panics
    /// If the attention's layers or heads differ from this accumulator's.
    pub fn add(&mut self, attention: &Attention, encoding: &Encoding) {
        let [layers, heads, _, _] = attention.shape();
        assert!(layers == self.layers && heads == self.heads, "attention of another model");
        let n = encoding.len;
        if n < 2 {
            return;
        }
        let is_sep: Vec<bool> = encoding.tokens[..n].iter().map(|t| t == "[SEP]").collect();
        let is_punct: Vec<bool> = encoding.tokens[..n]
            .iter()
            .zip(&encoding.special)
            .map(|(t, &special)| !special && is_punctuation(t))
            .collect();
        for layer in 0..layers {
            for head in 0..heads {
                let mut sum = [0.0f64; 7];
                for i in 0..n {
                    let row = &attention.row(layer, head, i)[..n];
                    sum[0] += row[0] as f64;
                    sum[1] += masked_sum(row, &is_sep);
                    if i >= 1 {
                        sum[2] += row[i - 1] as f64;
                    }
                    if i + 2 <= n {
                        sum[3] += row[i + 1] as f64;
                    }
                    sum[4] += row[i] as f64;
                    sum[5] += masked_sum(row, &is_punct);
                    sum[6] -= row.iter().filter(|&&a| a > 0.0).map(|&a| a as f64 * (a as f64).ln()).sum::<f64>();
                }
                let counts = [n, n, n - 1, n - 1, n, n, n];
                let total = &mut self.sums[layer * heads + head];
                for ((t, s), c) in total.iter_mut().zip(sum).zip(counts) {
                    *t += s / c as f64;
                }
            }
        }
        self.sentences += 1;
        self.log_tokens += (n as f64).ln();
    }

    /// `[layer][head]` statistics averaged over the sentences added (all zero, role "mixed",
    /// before any).
    pub fn stats(&self) -> Vec<Vec<HeadStats>> {
        let count = self.sentences.max(1) as f64;
        let broad = BROAD_ENTROPY as f64 * self.log_tokens / count;
        self.sums
            .chunks(self.heads.max(1))
            .map(|layer| {
                layer
                    .iter()
                    .map(|sums| {
                        let [cls, sep, prev, next, own, punct, entropy] = sums.map(|s| (s / count) as f32);
                        let shares = [
                            (cls, HeadRole::Cls),
                            (sep, HeadRole::Sep),
                            (prev, HeadRole::Prev),
                            (next, HeadRole::Next),
                            (own, HeadRole::Own),
                            (punct, HeadRole::Punct),
                        ];
                        let (top, top_role) =
                            shares
                                .into_iter()
                                .fold((f32::MIN, HeadRole::Mixed), |best, s| if s.0 > best.0 { s } else { best });
                        let role = if self.sentences == 0 {
                            HeadRole::Mixed
                        } else if top >= ROLE_SHARE {
                            top_role
                        } else if entropy as f64 >= broad {
                            HeadRole::Broad
                        } else {
                            HeadRole::Mixed
                        };
                        HeadStats { cls, sep, prev, next, own, punct, entropy, role }
                    })
                    .collect()
            })
            .take(self.layers)
            .collect()
    }
}

fn masked_sum(row: &[f32], mask: &[bool]) -> f64 {
    row.iter().zip(mask).filter(|(_, &m)| m).map(|(&a, _)| a as f64).sum()
}

/// Whether every character of a token (without a word piece's `##`) is Unicode punctuation.
fn is_punctuation(token: &str) -> bool {
    let text = token.strip_prefix("##").unwrap_or(token);
    !text.is_empty() && text.chars().all(|c| c.is_punctuation())
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
            token_type_ids: vec![0; n],
            sentence_b_start: None,
            tokens: tokens.iter().map(|t| t.to_string()).collect(),
            offsets: vec![(0, 0); n],
            special: tokens.iter().map(|t| t.starts_with('[') && t.ends_with(']')).collect(),
            truncated: false,
            len: n,
            words: Vec::new(),
        }
    }

    /// One layer of heads, each given as a function `(query, n) -> row`.
    fn attention(n: usize, heads: &[&dyn Fn(usize, usize) -> Vec<f32>]) -> Attention {
        let data = heads.iter().flat_map(|h| (0..n).flat_map(move |i| h(i, n))).collect();
        Attention::from_vec(data, 1, heads.len(), n).unwrap()
    }

    fn one_hot(n: usize, at: usize) -> Vec<f32> {
        (0..n).map(|j| if j == at { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn hand_made_heads_get_their_roles() {
        let tokens = ["[CLS]", "the", "cat", ",", "sat", ".", "[SEP]"];
        let sep = tokens.len() - 1;
        let cls: &dyn Fn(usize, usize) -> Vec<f32> = &|_, n| one_hot(n, 0);
        let to_sep: &dyn Fn(usize, usize) -> Vec<f32> = &|_, n| one_hot(n, sep.min(n - 1));
        let prev: &dyn Fn(usize, usize) -> Vec<f32> = &|i, n| one_hot(n, i.saturating_sub(1));
        let next: &dyn Fn(usize, usize) -> Vec<f32> = &|i, n| one_hot(n, (i + 1).min(n - 1));
        let own: &dyn Fn(usize, usize) -> Vec<f32> = &|i, n| one_hot(n, i);
        let punct: &dyn Fn(usize, usize) -> Vec<f32> = &|i, n| one_hot(n, if i < 4 { 3 } else { 5 });
        let uniform: &dyn Fn(usize, usize) -> Vec<f32> = &|_, n| vec![1.0 / n as f32; n];
        let split: &dyn Fn(usize, usize) -> Vec<f32> =
            &|_, n| (0..n).map(|j| if j == 1 || j == 2 { 0.4 } else { 0.2 / (n - 2) as f32 }).collect();
        let att = attention(tokens.len(), &[cls, to_sep, prev, next, own, punct, uniform, split]);
        let mut roles = HeadRoles::new(1, 8);
        roles.add(&att, &encoding(&tokens));
        let stats = &roles.stats()[0];
        let got: Vec<HeadRole> = stats.iter().map(|s| s.role).collect();
        use HeadRole::*;
        assert_eq!(got, [Cls, Sep, Prev, Next, Own, Punct, Broad, Mixed]);
        assert_eq!(stats[2].prev, 1.0, "prev counts queries 1..n only");
        assert_eq!(stats[3].next, 1.0, "next counts queries 0..n-2 only");
        assert!((stats[6].entropy - (7.0f32).ln()).abs() < 1e-5);
        assert!((stats[0].cls - 1.0).abs() < 1e-6 && stats[0].entropy == 0.0);
    }

    #[test]
    fn padding_and_averaging_over_sentences() {
        // A padded sentence (3 real tokens of 5) counts its real tokens only, and two sentences
        // average their shares.
        let own: &dyn Fn(usize, usize) -> Vec<f32> = &|i, n| one_hot(n, i.min(2));
        let padded = attention(5, &[own]);
        let mut short = encoding(&["[CLS]", "hi", "[SEP]", "[PAD]", "[PAD]"]);
        short.len = 3;
        let cls: &dyn Fn(usize, usize) -> Vec<f32> = &|_, n| one_hot(n, 0);
        let mut roles = HeadRoles::new(1, 1);
        roles.add(&padded, &short);
        roles.add(&attention(3, &[cls]), &encoding(&["[CLS]", "hi", "[SEP]"]));
        let s = roles.stats()[0][0];
        assert_eq!(roles.sentences(), 2);
        assert!((s.own - (1.0 + 1.0 / 3.0) / 2.0).abs() < 1e-6, "{s:?}");
        assert!((s.cls - (1.0 / 3.0 + 1.0) / 2.0).abs() < 1e-6, "{s:?}");
    }

    #[test]
    fn punctuation_is_every_character_unicode_punctuation() {
        assert!(
            is_punctuation(",")
                && is_punctuation("##.")
                && is_punctuation("¿")
                && is_punctuation("...")
                && is_punctuation("「")
        );
        assert!(!is_punctuation("a.") && !is_punctuation("##") && !is_punctuation("$") && !is_punctuation(""));
    }
}
