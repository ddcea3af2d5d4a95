//! Just enough of the protobuf wire format to copy an ONNX file field by field: every field the
//! quantizer does not change is written back as the very bytes it was read from.

/// Wire type of a varint field.
pub const VARINT: u8 = 0;
/// Wire type of a length-delimited field (bytes, strings, messages, packed repeats).
pub const LEN: u8 = 2;

/// One field of a message, as found in the bytes.
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    /// The field number.
    pub number: u64,
    /// Its value.
    pub value: Value<'a>,
    /// The whole field, key included: what a copy writes back.
    pub raw: &'a [u8],
}

/// The value of a field, by wire type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// A varint (wire type 0).
    Varint(u64),
    /// Eight bytes (wire type 1).
    Fixed64,
    /// Length-delimited contents (wire type 2).
    Bytes(&'a [u8]),
    /// Four bytes (wire type 5).
    Fixed32,
}

/// The fields of one encoded message, in the order they appear. Fails with a plain description
/// (and the offset) on bytes that are not a protobuf message.
pub fn fields(message: &[u8]) -> Result<Vec<Field<'_>>, String> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < message.len() {
        let start = at;
        let key = varint(message, &mut at)?;
        let number = key >> 3;
        if number == 0 {
            return Err(format!("field number 0 at byte {start}"));
        }
        let value = match (key & 7) as u8 {
            VARINT => Value::Varint(varint(message, &mut at)?),
            1 => {
                skip(message, &mut at, 8)?;
                Value::Fixed64
            }
            LEN => {
                let len = varint(message, &mut at)?;
                let len = usize::try_from(len).map_err(|_| format!("length {len} at byte {start}"))?;
                let begin = at;
                skip(message, &mut at, len)?;
                Value::Bytes(&message[begin..at])
            }
            5 => {
                skip(message, &mut at, 4)?;
                Value::Fixed32
            }
            other => return Err(format!("wire type {other} at byte {start}")),
        };
        out.push(Field { number, value, raw: &message[start..at] });
    }
    Ok(out)
}

fn skip(message: &[u8], at: &mut usize, len: usize) -> Result<(), String> {
    match at.checked_add(len) {
        Some(end) if end <= message.len() => {
            *at = end;
            Ok(())
        }
        _ => Err(format!("a field of {len} bytes at byte {at} runs past the end ({} bytes)", message.len())),
    }
}

/// Reads a varint at `at` and moves past it.
pub fn varint(bytes: &[u8], at: &mut usize) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let &byte = bytes.get(*at).ok_or_else(|| format!("the data ends inside a number at byte {at}"))?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(format!("a number longer than 10 bytes ends at byte {at}"))
}

/// Appends `value` as a varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Appends a varint field (negative numbers as ten-byte two's complement, like every protobuf library).
pub fn put_varint_field(out: &mut Vec<u8>, number: u64, value: i64) {
    put_varint(out, number << 3 | u64::from(VARINT));
    put_varint(out, value as u64);
}

/// Appends a length-delimited field.
pub fn put_bytes_field(out: &mut Vec<u8>, number: u64, bytes: &[u8]) {
    put_varint(out, number << 3 | u64::from(LEN));
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_back_what_it_writes() {
        let mut message = Vec::new();
        put_varint_field(&mut message, 1, 300);
        put_bytes_field(&mut message, 8, b"name");
        put_varint_field(&mut message, 3, -1);
        message.extend([0x0d, 1, 2, 3, 4]); // field 1, fixed32
        let read = fields(&message).unwrap();
        let values: Vec<(u64, Value)> = read.iter().map(|f| (f.number, f.value)).collect();
        assert_eq!(
            values,
            [(1, Value::Varint(300)), (8, Value::Bytes(b"name")), (3, Value::Varint(u64::MAX)), (1, Value::Fixed32)]
        );
        assert_eq!(read.iter().flat_map(|f| f.raw.iter().copied()).collect::<Vec<u8>>(), message, "raw covers it all");
        assert_eq!(read[0].raw, [0x08, 0xac, 0x02]);
    }

    #[test]
    fn broken_bytes_are_an_error_not_a_panic() {
        for bad in [&[0x0a, 5, 1][..], &[0x08, 0x80], &[0x0b], &[0x00, 1], &[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]] {
            assert!(fields(bad).is_err(), "{bad:?}");
        }
        assert!(fields(&[0x80; 11]).is_err());
    }
}
