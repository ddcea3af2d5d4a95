//! What each graph input carries, named from the input's name and checked against what a
//! BERT-family encoder takes.

use std::collections::HashSet;

use tract_onnx::pb::{tensor_proto::DataType, type_proto::Value, GraphProto, ValueInfoProto};
use tract_onnx::prelude::DatumType;

use crate::error::{Error, Result};

/// The role of one graph input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Token ids into the word-embedding table.
    InputIds,
    /// 1 for real tokens, 0 for padding.
    AttentionMask,
    /// Segment ids (BERT has them, DistilBERT does not).
    TokenTypeIds,
}

/// One graph input: what it carries and its integer type.
pub type Input = (Role, DatumType);

/// Names each graph input by what it carries; refuses graphs without BERT inputs.
pub fn input_roles(graph: &GraphProto) -> Result<Vec<Input>> {
    let initializers: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let roles = graph
        .input
        .iter()
        .filter(|i| !initializers.contains(i.name.as_str()))
        .map(|input| {
            let name = input.name.to_ascii_lowercase();
            let role = if name.contains("input_ids") || name == "ids" {
                Role::InputIds
            } else if name.contains("mask") {
                Role::AttentionMask
            } else if name.contains("token_type") || name.contains("segment") {
                Role::TokenTypeIds
            } else {
                return Err(Error::NotBert(format!(
                    "it takes an input named \"{}\"; expected input_ids, attention_mask and optionally token_type_ids",
                    input.name
                )));
            };
            Ok((role, input_type(input)))
        })
        .collect::<Result<Vec<_>>>()?;
    for (role, what) in [(Role::InputIds, "input_ids"), (Role::AttentionMask, "attention_mask")] {
        if !roles.iter().any(|(r, _)| *r == role) {
            return Err(Error::NotBert(format!("it has no {what} input")));
        }
    }
    Ok(roles)
}

/// `i32` when the graph declares it, else `i64` (what exporters use).
fn input_type(input: &ValueInfoProto) -> DatumType {
    let elem = input.r#type.as_ref().and_then(|t| t.value.as_ref()).map(|Value::TensorType(t)| t.elem_type);
    if elem == Some(DataType::Int32 as i32) {
        DatumType::I32
    } else {
        DatumType::I64
    }
}
