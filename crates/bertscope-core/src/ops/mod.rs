//! The tract stage: operators bertscope adds to tract's graph and the rewrites that put them in
//! place, before the plan is optimised. The numbers themselves come from [`crate::kernels`].

pub(crate) mod batched_matmul;
pub(crate) mod checked_expand;
pub(crate) mod checked_flatten;
pub(crate) mod checked_gather;
pub(crate) mod checked_matmul;
pub(crate) mod checked_range;
pub(crate) mod checked_reduce;
pub(crate) mod checked_unsqueeze;
pub(crate) mod int8_matmul;
pub(crate) mod packed_matmul;
pub(crate) mod tap;
