//! Buffers whose first element sits on a 64-byte boundary (a cache line), for the kernels'
//! packed operands. The allocator only promises 8 bytes in wasm, so a 16-byte vector load from a
//! plain `Vec` straddles two cache lines once in four when the buffer starts 8 bytes past a
//! 16-byte boundary, and whether it does changed from build to build and from one input length to
//! the next with where the buffer happened to land.

use std::ops::{Deref, DerefMut};

/// Bytes of padding allowed for, and the boundary the data starts on.
const ALIGN: usize = 64;

/// A fixed-length buffer of `len` values starting on a 64-byte boundary.
pub struct Aligned<T> {
    buf: Vec<T>,
    start: usize,
    len: usize,
}

impl<T: Copy + Default> Aligned<T> {
    /// `len` default values (zeros).
    pub fn zeroed(len: usize) -> Self {
        let pad = ALIGN / size_of::<T>().max(1);
        let buf = vec![T::default(); len + pad];
        // A primitive's offset to the boundary is always found and below `pad`.
        let start = buf.as_ptr().align_offset(ALIGN).min(pad);
        Self { buf, start, len }
    }

    /// A copy of `values`.
    pub fn from_slice(values: &[T]) -> Self {
        let mut out = Self::zeroed(values.len());
        out.copy_from_slice(values);
        out
    }
}

impl<T> Deref for Aligned<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.buf[self.start..self.start + self.len]
    }
}

impl<T> DerefMut for Aligned<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.buf[self.start..self.start + self.len]
    }
}

impl<T: Copy + Default> Clone for Aligned<T> {
    fn clone(&self) -> Self {
        Self::from_slice(self)
    }
}

impl<T: PartialEq> PartialEq for Aligned<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Aligned<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Aligned({} values)", self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_on_a_cache_line_and_holds_what_it_was_given() {
        for len in [0, 1, 7, 100] {
            let values: Vec<u8> = (0..len as u8).collect();
            let bytes = Aligned::from_slice(&values);
            let floats = Aligned::<f32>::zeroed(len);
            assert_eq!((bytes.as_ptr() as usize % ALIGN, floats.as_ptr() as usize % ALIGN), (0, 0));
            assert_eq!((&bytes[..], floats.len()), (&values[..], len));
            let copy = bytes.clone();
            assert_eq!((copy.as_ptr() as usize % ALIGN, &copy[..]), (0, &values[..]));
        }
    }
}
